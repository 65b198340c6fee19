"""A real server process (gunicorn, as in production) on loopback, for tests that need one."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
from sqlalchemy import create_engine, text

from ..ports import port_of

PROJECT = Path(__file__).resolve().parents[2]
API = "/index.php/apps/openregister/api"
SECRET = "live-server-secret-" + "s" * 64


class LiveServer:
    """gunicorn with its own instance folder, on the given database; `app` may be a host application
    that mounts ours at `prefix`.

    It listens on a socket this process binds and keeps (gunicorn's fd://N), so that its port is
    never free for another program in between, and stays the same when the server is restarted.
    """

    def __init__(self, tmp_path: Path, database_url: str, *, workers: int | None = 4, threads: int | None = 4, env=None,
                 app: str = "wsgi:app", prefix: str = ""):
        """`workers` or `threads` None means gunicorn.conf.py's default; `app` may be a host application
        that mounts ours at `prefix`."""
        self.instance = tmp_path / "instance"
        self.instance.mkdir()
        self.database_url = database_url
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = port_of(self.socket)
        self.app = app
        self.base = f"http://127.0.0.1:{self.port}{prefix}{API}"
        self.env = {
            **os.environ,
            "OPENREGISTER_INSTANCE_PATH": str(self.instance),
            "OPENREGISTER_DATABASE_URL": self.database_url,
            "OPENREGISTER_JWT_SECRET": SECRET,
            "OPENREGISTER_BIND": f"fd://{self.socket.fileno()}",
            "OPENREGISTER_ACCESS_LOG": "",
            "OPENREGISTER_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        for name, value in (("OPENREGISTER_WORKERS", workers), ("OPENREGISTER_THREADS", threads)):
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = str(value)
        self.process = None
        self.log = open(tmp_path / "server.log", "ab")

    def flask(self, *args) -> str:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT, env=self.env,
                                capture_output=True, text=True, timeout=120, check=True)
        return result.stdout.strip()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
            cwd=PROJECT, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True,
            pass_fds=(self.socket.fileno(),),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("the server exited at start-up; see server.log")
            time.sleep(0.2)
        raise RuntimeError("the server did not answer within 60 seconds")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.socket.close()
        self.log.close()

    def token(self, username: str) -> str:
        """A token as the server issues it: it names the user by uuid and token generation."""
        engine = self.engine()
        try:
            with engine.connect() as connection:
                uuid, generation = connection.execute(
                    text("SELECT uuid, token_generation FROM users WHERE username_key = :name"),
                    {"name": username.strip().lower()},
                ).one()
        finally:
            engine.dispose()
        now = datetime.now(UTC)
        claims = {"sub": uuid, "gen": generation, "iat": now, "exp": now + timedelta(hours=1), "type": "access"}
        return jwt.encode(claims, SECRET, algorithm="HS256")

    def headers(self, username: str) -> dict:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def engine(self):
        return create_engine(self.database_url)


@contextmanager
def llm_server_process(path: str):
    """The loopback chat-completions server (tests/llm_server.py) in a process of its own, so that its work
    does not share this process's interpreter lock; yields the base URL of its route `path`."""
    code = ("from tests.llm_server import LlmServer\n"
            "server = LlmServer()\n"
            f"print(server.url({path!r}), flush=True)\n"
            "server.serve_forever()")
    with subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT, stdout=subprocess.PIPE, text=True) as process:
        try:
            yield process.stdout.readline().strip()
        finally:
            process.terminate()
