"""gunicorn's access log never shows a query parameter that looks like a credential."""

import httpx

from .conftest import running_server


def test_credentials_in_the_query_are_redacted_in_the_access_log(tmp_path):
    with running_server(tmp_path, OPENREGISTER_ACCESS_LOG="-") as server:
        secrets = {"access_token": "SECRET-ONE", "page": "2", "password": "SECRET-TWO", "apiKey": "SECRET-THREE"}
        httpx.get(f"{server.base}/health", params=secrets)
        httpx.get(f"{server.base}/health?token=SECRET-FOUR", headers={"Referer": "http://x/?secret=SECRET-FIVE"})
    log = (tmp_path / "server.log").read_text()
    assert "page=2" in log and "access_token=[redacted]" in log and "/health?token=[redacted]" in log
    assert "SECRET-" not in log
