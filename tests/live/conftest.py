import pytest

from ..conftest import separate_database
from .server import LiveServer


@pytest.fixture
def live_server(tmp_path):
    """A migrated, running gunicorn with the user `tester` in organisation Load, on a database of its own."""
    with separate_database(tmp_path) as database_url:
        server = LiveServer(tmp_path, database_url)
        server.flask("db", "upgrade")
        server.flask("user", "create", "tester", "--password", "tester-password", "--organisation", "Load")
        server.start()
        yield server
        server.stop()
