"""A host WSGI application that serves openregister-flask under /openregister.

    pip install openregister-flask
    flask --app openregister db upgrade
    gunicorn --chdir examples embed:application     # or copy this file next to your own app

Everything of openregister-flask then answers below the mount point: the index at /openregister/,
the API at /openregister/index.php/apps/openregister/api/..., the docs page, Location headers and
the OpenAPI document's `servers` entry. Configuration comes from OPENREGISTER_* variables and the
instance folder (OPENREGISTER_INSTANCE_PATH), as for a server of its own.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from openregister import create_app


def host_app(environ, start_response):
    """Stands for your existing application: everything outside /openregister."""
    return Response("The host application; OpenRegister is at /openregister/\n")(environ, start_response)


application = DispatcherMiddleware(host_app, {"/openregister": create_app()})
