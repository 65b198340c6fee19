import pytest

from .server import LiveServer


@pytest.fixture
def live_server(tmp_path):
    """A migrated, running gunicorn with the user `tester` in organisation Load."""
    server = LiveServer(tmp_path)
    server.flask("db", "upgrade")
    server.flask("user", "create", "tester", "--password", "tester-password", "--organisation", "Load")
    server.start()
    yield server
    server.stop()
    server.drop_schema()
