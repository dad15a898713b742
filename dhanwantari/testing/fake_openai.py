"""A fake OpenAI-compatible chat-completions server on loopback, for tests.

    with FakeOpenAI() as fake:
        fake.settings()                     # AI_* settings that point the "openai" provider here
        fake.stream(["Thank you. ", "How long has it been?"], delay=0.05)
        ...                                 # call the provider
        fake.requests[0].body["model"]      # what it was sent (path, headers, JSON body)

`POST <url>/v1/chat/completions` answers as the test scripted it, the same
for every request until scripted again:

    stream(chunks, delay=0, done=True, finish_reason="stop")
                                  SSE, one `data: {chat.completion.chunk}` per chunk
                                  (chunked transfer encoding, as OpenAI sends), then
                                  `data: [DONE]`
    stream_lines(lines, delay=0)  SSE with these raw lines (for malformed streams)
    complete(text)                one non-streamed chat.completion JSON (a server
                                  that ignores "stream")
    respond(status, body, content_type="application/json")
                                  anything else: HTTP 500, garbage, an error object
    hang(seconds)                 read the request, then say nothing for this long
    trickle(interval=0.05)        start an SSE stream and send a one-word chunk
                                  every `interval`, forever, never a sentence end
    trickle_headers(interval=0.05)
                                  send the status line, then header bytes one at a
                                  time, forever (the headers never end)

A wrong bearer key gets 401 with OpenAI's error shape. Everything waits on
stop(), so no handler outlives the test by more than an interval.
`closed_port_url()` is a loopback URL nothing listens on (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any = None  # the JSON body, or None if it was not JSON


@dataclass
class _Script:
    kind: str = "stream"
    chunks: list[str] = field(default_factory=lambda: ["How long have you had this?"])
    lines: list[str] = field(default_factory=list)
    delay: float = 0.0
    done: bool = True
    finish_reason: str | None = "stop"
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0


class FakeOpenAI:
    def __init__(self, *, api_key: str = "sk-fake-openai-key-for-tests-0001", model: str = "fake-model") -> None:
        self.api_key = api_key
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.script = _Script()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def settings(self, *, timeout: float = 5.0, connect_timeout: float = 2.0) -> dict[str, Any]:
        """The Django settings that point the "openai" provider here."""
        return {
            "AI_PROVIDER": "openai",
            "AI_BASE_URL": f"{self.url}/v1/",
            "AI_API_KEY": self.api_key,
            "AI_MODEL": self.model,
            "AI_CONNECT_TIMEOUT_SECONDS": connect_timeout,
            "AI_TIMEOUT_SECONDS": timeout,
        }

    # --- scripting ----------------------------------------------------------------------

    def stream(
        self, chunks: list[str], *, delay: float = 0.0, done: bool = True, finish_reason: str | None = "stop"
    ) -> None:
        self.script = _Script(kind="stream", chunks=list(chunks), delay=delay, done=done, finish_reason=finish_reason)

    def stream_lines(self, lines: list[str], *, delay: float = 0.0) -> None:
        self.script = _Script(kind="lines", lines=list(lines), delay=delay)

    def complete(self, text: str, *, finish_reason: str = "stop") -> None:
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        self.respond(200, json.dumps(body).encode())

    def respond(self, status: int, body: bytes | str, content_type: str = "application/json") -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.script = _Script(kind="respond", status=status, body=raw, content_type=content_type)

    def hang(self, seconds: float = 30.0) -> None:
        self.script = _Script(kind="hang", seconds=seconds)

    def trickle(self, interval: float = 0.05) -> None:
        self.script = _Script(kind="trickle", delay=interval)

    def trickle_headers(self, interval: float = 0.05) -> None:
        self.script = _Script(kind="trickle_headers", delay=interval)

    # --- what the handler uses -------------------------------------------------------

    def chunk_event(self, content: str | None = None, finish_reason: str | None = None, role: str = "") -> str:
        delta: dict[str, str] = {}
        if role:
            delta["role"] = role
        if content is not None:
            delta["content"] = content
        event = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return "data: " + json.dumps(event, ensure_ascii=False)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def closed_port_url() -> str:
    """http://127.0.0.1:<a port nothing listens on>/v1 (the OS just handed it out and took it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    # --- plumbing ---

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _pause(self, seconds: float) -> bool:
        """Wait; False once the fake is stopping."""
        return not self.server_fake._stopping.wait(seconds) if seconds > 0 else True

    # --- the one endpoint ---

    def do_POST(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = self.path
        fake.record(RecordedRequest("POST", path, dict(self.headers.items()), raw, body))
        try:
            if path.split("?", 1)[0] != "/v1/chat/completions":
                self._send(
                    404, json.dumps({"error": {"message": "Not found", "type": "invalid_request_error"}}).encode()
                )
                return
            if self.headers.get("Authorization", "") != f"Bearer {fake.api_key}":
                error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
                self._send(401, json.dumps(error).encode())
                return
            self._answer(fake.script)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test, or a filtered reply): as intended

    def _answer(self, script: _Script) -> None:
        fake = self.server_fake
        if script.kind == "respond":
            self._send(script.status, script.body, script.content_type)
        elif script.kind == "hang":
            self._pause(script.seconds)
            self.close_connection = True
        elif script.kind == "stream":
            self._start_stream()
            self._chunk(fake.chunk_event(role="assistant", content="") + "\n\n")
            for piece in script.chunks:
                if not self._pause(script.delay):
                    return
                self._chunk(fake.chunk_event(piece) + "\n\n")
            self._chunk(fake.chunk_event(finish_reason=script.finish_reason) + "\n\n")
            if script.done:
                self._chunk("data: [DONE]\n\n")
            self._end_stream()
        elif script.kind == "lines":
            self._start_stream()
            for line in script.lines:
                if not self._pause(script.delay):
                    return
                self._chunk(line + "\n")
            self._end_stream()
        elif script.kind == "trickle":
            self._start_stream()
            while self._pause(script.delay):
                self._chunk(fake.chunk_event("and ") + "\n\n")
            self.close_connection = True
        elif script.kind == "trickle_headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            self.wfile.flush()
            while self._pause(script.delay):
                self.wfile.write(b"a")
                self.wfile.flush()
            self.close_connection = True
        else:  # pragma: no cover
            raise AssertionError(f"unknown script {script.kind!r}")


@pytest.fixture
def fake_openai(settings):
    """A running FakeOpenAI, with the AI_* settings pointing at it."""
    with FakeOpenAI() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        yield fake
