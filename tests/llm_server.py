"""A real chat-completions server on loopback, for testing the openai provider without mocking httpx.

The first path segment picks how it answers, so that each test (or agent, via configuration.baseUrl)
points at the behaviour it needs:

    /ok/v1/chat/completions          a chat completion that restates the last message
    /status/<code>/v1/...            that HTTP status with an OpenAI-style error body
    /malformed/v1/...                200 with JSON that is not a chat completion
    /not-json/v1/...                 200 with a body that is not JSON
    /slow/v1/...                     no answer until the server stops (past any short timeout)
    /held/v1/...                     sets `holding`, then answers as /ok/ once `release` is set
    /delay/<low>-<high>/v1/...       answers as /ok/ after a delay drawn uniformly from low..high seconds

Every request is recorded as {"path", "headers", "body"}.
"""

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatCompletionsHandler(BaseHTTPRequestHandler):
    server: "LlmServer"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        behaviour, _, rest = self.path.strip("/").partition("/")
        if behaviour == "ok":
            self.answer(200, completion(body))
        elif behaviour == "status":
            self.answer(int(rest.split("/")[0]), {"error": {"message": "upstream trouble", "type": "server_error"}})
        elif behaviour == "malformed":
            self.answer(200, {"id": "chatcmpl-test", "choices": []})
        elif behaviour == "not-json":
            self.send(200, b"<html>surprise</html>", "text/html")
        elif behaviour == "slow":
            self.server.released.wait(10)
        elif behaviour == "held":
            self.server.holding.set()
            self.server.release.wait(30)
            self.answer(200, completion(body))
        elif behaviour == "delay":
            low, _, high = rest.split("/")[0].partition("-")
            time.sleep(random.uniform(float(low), float(high or low)))
            self.answer(200, completion(body))
        else:
            self.answer(404, {"error": {"message": f"no route {self.path}"}})

    def answer(self, status: int, payload: dict):
        self.send(status, json.dumps(payload).encode(), "application/json")

    def send(self, status: int, data: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def completion(request: dict) -> dict:
    last = request["messages"][-1]["content"]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1730800000,
        "model": request.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"Echo: {last}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class LlmServer(ThreadingHTTPServer):
    """Use as a context manager: serves in a thread from entry until exit."""

    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatCompletionsHandler)
        self.requests: list[dict] = []
        self.released = threading.Event()
        # /held/: `holding` is set once a request waits; it gets its answer once `release` is set.
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, behaviour: str = "ok") -> str:
        """The base URL (as OPENREGISTER_LLM_BASE_URL takes it) of one behaviour."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/{behaviour}/v1"

    def handle_error(self, request, client_address):
        pass  # a slow answer finds its client gone; that is the point of it

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.released.set()
        self.release.set()
        self.shutdown()
        self.server_close()
        self.thread.join()
