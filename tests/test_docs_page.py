"""The docs page in a real browser: headless Chromium against a running server, without network."""

import json
import os
import select
import signal
import time
from pathlib import Path

import httpx
import pytest

from openregister.config import VERSION

from .live.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
    # Offline: no name resolves, so a file the page wanted from elsewhere would never arrive.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
HEALTH_PATH = "/index.php/apps/openregister/api/health"
HEALTH_BLOCK = f"document.querySelector('.opblock-get [data-path=\"{HEALTH_PATH}\"]')?.closest('.opblock')"
LIVE_RESPONSE = HEALTH_BLOCK + "?.querySelector('.live-responses-table tr.response')"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs headless Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    ),
]


class Chromium:
    """Headless Chromium driven by the DevTools protocol over --remote-debugging-pipe: fds 3 (in) and 4 (out)."""

    def __init__(self, profile: Path):
        to_browser, self.commands = os.pipe()
        self.replies, from_browser = os.pipe()
        self.pid = os.posix_spawn(
            CHROMIUM, [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"], os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, to_browser, 3),
                (os.POSIX_SPAWN_DUP2, from_browser, 4),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
            setsid=True,
        )
        os.close(to_browser)
        os.close(from_browser)
        self.received = b""
        self.last_id = 0
        self.session = None

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        """Run one protocol command (in the attached page, once there is one) and return its result."""
        self.last_id += 1
        command = {"id": self.last_id, "method": method, "params": params or {}}
        if self.session:
            command["sessionId"] = self.session
        os.write(self.commands, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.received:
                message, self.received = self.received.split(b"\0", 1)
                reply = json.loads(message)
                if reply.get("id") == self.last_id:
                    assert "error" not in reply, reply["error"]
                    return reply["result"]
            readable, _, _ = select.select([self.replies], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                raise TimeoutError(f"Chromium did not answer {method}")
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self.received += chunk

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"})
        attached = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        self.session = attached["sessionId"]
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        """The first truthy value of a JavaScript expression, polled until the page has rendered it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"the page never made this true: {expression}")

    def close(self) -> None:
        os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.killpg(self.pid, signal.SIGKILL)
            time.sleep(0.1)
        os.close(self.commands)
        os.close(self.replies)


@pytest.fixture(scope="module", params=["", "/openregister"], ids=["root", "mounted"])
def server(request, tmp_path_factory):
    """gunicorn on a fresh, migrated SQLite file: the app alone, and mounted at /openregister in
    the host application of examples/embed.py (so "Try it out" must call the prefixed paths)."""
    folder = tmp_path_factory.mktemp("docs-page")
    app = "examples.embed:application" if request.param else "wsgi:app"
    live = LiveServer(folder, f"sqlite:///{folder / 'docs.sqlite'}", workers=1, threads=2, app=app, prefix=request.param)
    live.flask("db", "upgrade")
    live.start()
    yield live
    live.stop()


@pytest.fixture
def docs_page(server, tmp_path):
    browser = Chromium(tmp_path / "profile")
    browser.open(f"{server.base}/docs")
    browser.wait_for("document.querySelectorAll('.opblock').length > 0")
    yield browser
    browser.close()


def test_docs_page_lists_every_operation_of_the_document(server, docs_page):
    document = httpx.get(f"{server.base}/openapi.json").json()
    documented = sorted(
        [method.upper(), path] for path, item in document["paths"].items() for method in item if method != "parameters"
    )
    listed = docs_page.evaluate(
        "Array.from(document.querySelectorAll('.opblock')).map(block => ["
        " block.querySelector('.opblock-summary-method').textContent,"
        " block.querySelector('.opblock-summary-path').dataset.path])"
    )
    assert sorted(listed) == documented


def test_docs_page_loads_everything_from_this_server(server, docs_page):
    # Below the mount point, if any; the browser's own /favicon.ico request aside.
    origin = server.base.split("/index.php")[0] + "/"
    loaded = docs_page.evaluate("performance.getEntriesByType('resource').map(entry => entry.name)"
                                ".filter(url => new URL(url).pathname != '/favicon.ico')")
    assert f"{server.base}/docs/assets/swagger-ui-bundle.js" in loaded
    assert f"{server.base}/openapi.json" in loaded
    assert [url for url in loaded if not url.startswith(origin)] == []


def test_try_it_out_runs_the_health_check(docs_page):
    docs_page.evaluate(HEALTH_BLOCK + ".querySelector('.opblock-summary-control').click()")
    docs_page.wait_for(f"!!{HEALTH_BLOCK}.querySelector('.try-out__btn')")
    docs_page.evaluate(HEALTH_BLOCK + ".querySelector('.try-out__btn').click()")
    docs_page.wait_for(f"!!{HEALTH_BLOCK}.querySelector('.execute')")
    docs_page.evaluate(HEALTH_BLOCK + ".querySelector('.execute').click()")

    status = docs_page.wait_for(LIVE_RESPONSE + "?.querySelector('.response-col_status').textContent")
    body = docs_page.evaluate(LIVE_RESPONSE + ".querySelector('.response-col_description pre').textContent")
    assert status.strip() == "200"
    assert json.loads(body) == {"status": "ok", "version": VERSION, "checks": {"database": "ok"}}


def test_docs_page_renders_under_its_content_security_policy(server, docs_page):
    """The page above rendered with this policy in force: only this server's files, no framing."""
    headers = httpx.get(f"{server.base}/docs").headers
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert docs_page.evaluate("typeof window.ui") == "object"
