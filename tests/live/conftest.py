from contextlib import contextmanager

import pytest

from ..conftest import separate_database
from .server import LiveServer

PASSWORD = "tester-password"


@contextmanager
def running_server(tmp_path, *, workers=4, threads=4, **env):
    """A migrated, running gunicorn with the user `tester` in organisation Load, on a database of its own.

    `workers` or `threads` None means gunicorn.conf.py's default.
    """
    with separate_database(tmp_path) as database_url:
        server = LiveServer(tmp_path, database_url, workers=workers, threads=threads, env=env)
        server.flask("db", "upgrade")
        server.flask("user", "create", "tester", "--password", PASSWORD, "--organisation", "Load")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def live_server(tmp_path):
    with running_server(tmp_path) as server:
        yield server
