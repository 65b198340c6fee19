"""A real OpenAI-compatible /embeddings server on loopback, for testing the embedding client without mocks.

Its embeddings are deterministic and mean something: a hashed bag of the words and of their
three-letter pieces, so that texts sharing words (or most of a word: "refund", "refunds") are close.
The first path segment picks the behaviour, as in tests/llm_server.py:

    /ok/v1/embeddings           embeddings of every input
    /status/<code>/v1/...       that HTTP status with an OpenAI-style error body
    /malformed/v1/...           200 with JSON that is not a list of embeddings
    /short/v1/...               200 with one embedding fewer than inputs
    /slow/v1/...                no answer until the server stops

Every request is recorded as {"path", "headers", "body"}.
"""

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMENSIONS = 256


def embedding(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        features = [word] + [word[i:i + 3] for i in range(max(len(word) - 2, 1))]
        for feature, weight in zip(features, [1.0] + [0.3] * len(features)):
            digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
            index = int.from_bytes(digest[:2], "little") % DIMENSIONS
            vector[index] += weight if digest[2] % 2 else -weight
    return vector


class EmbeddingsHandler(BaseHTTPRequestHandler):
    server: "EmbeddingServer"

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        behaviour, _, rest = self.path.strip("/").partition("/")
        inputs = body.get("input") if isinstance(body, dict) else None
        inputs = [inputs] if isinstance(inputs, str) else inputs or []
        if behaviour in ("ok", "short"):
            data = [{"object": "embedding", "index": i, "embedding": embedding(text)} for i, text in enumerate(inputs)]
            if behaviour == "short":
                data = data[:-1]
            self.answer(200, {"object": "list", "data": data, "model": body.get("model"),
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        elif behaviour == "status":
            self.answer(int(rest.split("/")[0]), {"error": {"message": "upstream trouble", "type": "server_error"}})
        elif behaviour == "malformed":
            self.answer(200, {"object": "list", "data": [{"index": 0, "embedding": "not numbers"}]})
        elif behaviour == "slow":
            self.server.released.wait(10)
        else:
            self.answer(404, {"error": {"message": f"no route {self.path}"}})

    def answer(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class EmbeddingServer(ThreadingHTTPServer):
    """Use as a context manager: serves in a thread from entry until exit."""

    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), EmbeddingsHandler)
        self.requests: list[dict] = []
        self.released = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, behaviour: str = "ok") -> str:
        """The base URL (as OPENREGISTER_EMBEDDING_BASE_URL takes it) of one behaviour."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/{behaviour}/v1"

    def inputs(self) -> list[str]:
        """Every text the server was asked to embed, in order."""
        texts = []
        for request in self.requests:
            value = request["body"].get("input")
            texts.extend([value] if isinstance(value, str) else value)
        return texts

    def handle_error(self, request, client_address):
        pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.released.set()
        self.shutdown()
        self.server_close()
        self.thread.join()
