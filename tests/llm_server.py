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

A request with "stream": true gets, from /ok/ and /delay/, the same reply streamed as OpenAI streams it
(`data: {chunk}` events, a word a chunk, then `data: [DONE]`), and from these only streams:

    /drip/<seconds>/v1/...           streams, waiting `seconds` before each piece
    /break-off/v1/...                streams two pieces, then drops the connection mid-answer
    /no-done/v1/...                  streams every piece, then ends without [DONE]
    /stream-malformed/v1/...         streams an event that is not a chunk
    /plain/v1/...                    answers with a plain (non-streamed) completion all the same

Every request is recorded as {"path", "headers", "body"}. A client that goes away while a stream waits
for its next piece is noticed within 20 ms (and one that a write finds gone, at once): `departures`
records {"path", "at": time.monotonic()} and `departed` is set.
"""

import json
import random
import re
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STREAMED = ("drip", "break-off", "no-done", "stream-malformed")


class ChatCompletionsHandler(BaseHTTPRequestHandler):
    server: "LlmServer"
    # Chunked streams, so that one that breaks off is told from one that ends.
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        behaviour, _, rest = self.path.strip("/").partition("/")
        if behaviour in STREAMED or (behaviour in ("ok", "delay") and body.get("stream")):
            if behaviour == "delay":
                low, _, high = rest.split("/")[0].partition("-")
                time.sleep(random.uniform(float(low), float(high or low)))
            try:
                self.stream(behaviour, rest, body)
            except (BrokenPipeError, ConnectionResetError):
                self.departed()
            self.close_connection = True
        elif behaviour in ("ok", "plain"):
            self.answer(200, completion(body))
        elif behaviour == "status":
            self.answer(int(rest.split("/")[0]), {"error": {"message": "upstream trouble", "type": "server_error"}})
        elif behaviour == "malformed":
            self.answer(200, {"id": "chatcmpl-test", "choices": []})
        elif behaviour == "not-json":
            self.send(200, b"<html>surprise</html>", "text/html")
        elif behaviour == "slow":
            self.close_connection = True
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

    def stream(self, behaviour: str, rest: str, request: dict):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        pieces = re.findall(r"\S+\s*|\s+", reply_to(request))
        delay = float(rest.split("/")[0]) if behaviour == "drip" else 0.0
        if behaviour == "stream-malformed":
            self.chunk(b"data: {not json}\n\n")
        for number, piece in enumerate(pieces):
            if delay and self.client_left_within(delay):
                return self.departed()
            if behaviour == "break-off" and number == 2:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.chunk(b"data: " + json.dumps(chunk(request, {"content": piece})).encode() + b"\n\n")
        self.chunk(b"data: " + json.dumps(chunk(request, {}, finish_reason="stop")).encode() + b"\n\n")
        if behaviour != "no-done":
            self.chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def chunk(self, data: bytes):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def client_left_within(self, seconds: float) -> bool:
        """Wait `seconds`, watching the connection: True as soon as the client closes it."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.02))
            if readable:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return True
                except OSError:
                    return True
        return False

    def departed(self):
        self.server.departures.append({"path": self.path, "at": time.monotonic()})
        self.server.departed.set()

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


def reply_to(request: dict) -> str:
    return f"Echo: {request['messages'][-1]['content']}"


def chunk(request: dict, delta: dict, finish_reason=None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1730800000,
        "model": request.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def completion(request: dict) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1730800000,
        "model": request.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply_to(request)}, "finish_reason": "stop"}
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
        self.departures: list[dict] = []
        self.departed = threading.Event()
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
