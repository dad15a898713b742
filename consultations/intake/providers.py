"""Who words the assistant's next message.

The engine decides what is asked (Turn.question, in its own words). "local"
returns the engine's words as they are. "openai" asks any OpenAI-compatible
/chat/completions endpoint for one warm sentence acknowledging the patient's
last answer, streamed; the caller (intake.services) puts the engine's exact
question after it, so a model can neither change nor skip the question whose
answer the engine will record. On any failure the engine's words are used:

    reason          when
    timeout         connect or the whole reply took longer than the settings allow
    http_error      the server answered with a status >= 400 (or an error object)
    connection      refused, reset, DNS, TLS
    malformed       not JSON / SSE as expected, missing fields, a cut-off stream,
                    a reply longer than MAX_REPLY_CHARS
    filtered        output_filter.check() found a remedy, dose, diagnosis, alarm or link
    empty           the model said nothing
    not_configured  no AI_API_KEY (no network call is made) or an unusable AI_BASE_URL

Streaming: on_delta(text) is called, on the caller's thread, with the whole
text so far (not the increment), only at a sentence end (. ? ! । or a
newline) and only after output_filter.check() passed on that text; once more
with the final text if it grew. When the filter fires, reading stops and the
fall-back is returned. A reply can still fall back after on_delta has shown
some sentences (the filter fires on a later one, the stream is cut off, the
deadline passes): the caller must then replace what it streamed with
Reply.text. An exception in on_delta is logged and streaming to it stops; the
reply itself is unaffected.

reply() never raises. It logs one warning per fall-back with the reason, never
the patient's text, the model's text or the API key.

Standard library only (http.client): we need a connect timeout that differs
from the read timeout and a deadline over the whole streamed reply, which
urllib's single `timeout` cannot express.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from consultations.intake import output_filter

logger = logging.getLogger(__name__)

NAMES = ("local", "openai")

# The model is asked for one short question; anything longer is not that.
MAX_REPLY_CHARS = 1000
# How much of the conversation the model sees, and how much of each message.
HISTORY_TURNS = 12
MAX_HISTORY_MESSAGE_CHARS = 2000
# A streamed line or a non-streamed body larger than this is not a chat reply.
MAX_LINE_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024

SYSTEM_PROMPT = (
    "You are the intake assistant of Dhanwantari, a homeopathy consultation platform in India. "
    "You take the patient's case before a homeopathic doctor sees them, one question at a time. "
    "You are not a doctor. Never diagnose, and never say what the patient has or might have. "
    "Never name a remedy, a medicine or a supplement; never give a dose, a potency or how often to take "
    "anything; never give treatment, diet or self-care advice. Never include links. Do not warn about danger "
    "signs yourself: a separate safety check handles emergencies. "
    "Each reply is ONE short, warm sentence acknowledging what the patient just said, in plain everyday "
    "words, with no lists and no formatting. Do not ask anything: the next question is added after your "
    "sentence, word for word, by the platform. "
    "Reply in the patient's language: if they write in Hindi, reply in Hindi; if they write in Hinglish "
    "(Hindi in Latin letters), reply in Hinglish; otherwise reply in simple English."
)
INSTRUCTION = (
    "Write one short sentence acknowledging the patient's last answer. Do not ask a question. "
    "This question will follow your sentence: {question}"
)

_ROLES = {"patient": "user", "assistant": "assistant"}
# Where a sentence ends: . ? ! or the Devanagari danda, followed by white
# space (so "2.5" and "30." mid-token are not ends), or a newline.
_SENTENCE_END = re.compile(r"[.?!।]+(?=\s)|\n")


@dataclass(frozen=True)
class Turn:
    question: str  # the local engine's next message, exact words (what "local" returns)
    history: tuple[tuple[str, str], ...]  # (role, text) oldest first, role "patient" or "assistant"
    topic: str = ""  # what the question asks about, e.g. "modalities: what makes it worse"


@dataclass(frozen=True)
class Reply:
    text: str  # what to store and show: the model's words if they passed, else turn.question
    provider: str  # "local" or "openai"
    fell_back: bool = False  # the model failed or was filtered and turn.question was used
    reason: str = ""  # see the module docstring
    filtered: tuple[str, ...] = ()  # output_filter reasons when reason == "filtered"


class Provider(Protocol):
    name: str

    def reply(self, turn: Turn, on_delta: Callable[[str], None] | None = None) -> Reply: ...


class LocalProvider:
    """The engine's own words; never calls on_delta (there is nothing to stream)."""

    name = "local"

    def reply(self, turn: Turn, on_delta: Callable[[str], None] | None = None) -> Reply:
        return Reply(turn.question, self.name)


def build_messages(turn: Turn) -> list[dict[str, str]]:
    """The chat-completions messages for one turn: rules, recent history, then what to ask."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for role, text in turn.history[-HISTORY_TURNS:]:
        if role in _ROLES and text:
            messages.append({"role": _ROLES[role], "content": text[:MAX_HISTORY_MESSAGE_CHARS]})
    instruction = INSTRUCTION.format(question=turn.question)
    if turn.topic:
        instruction += f"\n(It asks about: {turn.topic}.)"
    # A system message, not a user one: the patient did not say this.
    messages.append({"role": "system", "content": instruction})
    return messages


class _Failure(Exception):
    def __init__(self, reason: str, detail: str = "", filtered: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason, self.detail, self.filtered = reason, detail, filtered


class _Stream:
    """Accumulates the model's text and passes only whole, checked sentences on."""

    def __init__(self, on_delta: Callable[[str], None] | None) -> None:
        self.text = ""
        self.shown = ""
        self.on_delta = on_delta

    def add(self, piece: str) -> None:
        self.text += piece
        if len(self.text) > MAX_REPLY_CHARS:
            raise _Failure("malformed", "reply too long")
        end = None
        for match in _SENTENCE_END.finditer(self.text):
            end = match.end()
        if end is not None:
            # Only up to the last sentence end: a half-written word ("30 m" of
            # "30 minutes") could trip the filter, or slip past it.
            self._show(self.text[:end].strip())

    def whole(self, text: str) -> None:
        """The reply came in one piece (not streamed): shown once, when finished."""
        self.text = text
        if len(self.text) > MAX_REPLY_CHARS:
            raise _Failure("malformed", "reply too long")

    def finish(self) -> str:
        text = self.text.strip()
        if not text:
            raise _Failure("empty")
        self._show(text)
        return text

    def _show(self, text: str) -> None:
        if not text or text == self.shown:
            return
        reasons = output_filter.check(text)
        if reasons:
            raise _Failure("filtered", ",".join(reasons), reasons)
        self.shown = text
        if self.on_delta is not None:
            try:
                self.on_delta(text)
            except Exception as exc:  # the caller's problem (a closed socket); the reply still counts
                logger.warning("AI intake on_delta failed (%s); streaming to it stopped", type(exc).__name__)
                self.on_delta = None


class OpenAIProvider:
    """An OpenAI-compatible /chat/completions endpoint, streamed (see the module docstring)."""

    name = "openai"

    def __init__(
        self, *, base_url: str, api_key: str, model: str, connect_timeout: float = 5.0, timeout: float = 20.0
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.model = model
        self.connect_timeout = connect_timeout
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> OpenAIProvider:
        return cls(
            base_url=settings.AI_BASE_URL,
            api_key=settings.AI_API_KEY,
            model=settings.AI_MODEL,
            connect_timeout=settings.AI_CONNECT_TIMEOUT_SECONDS,
            timeout=settings.AI_TIMEOUT_SECONDS,
        )

    def __repr__(self) -> str:  # no key in tracebacks or debug pages
        return f"OpenAIProvider(base_url={self.base_url!r}, model={self.model!r})"

    def reply(self, turn: Turn, on_delta: Callable[[str], None] | None = None) -> Reply:
        try:
            if not self.api_key:
                raise _Failure("not_configured", "AI_API_KEY is empty")
            text = self._complete(turn, _Stream(on_delta))
        except _Failure as failure:
            return self._fall_back(turn, failure)
        except Exception as exc:  # never raise into the conversation; the engine's words will do
            return self._fall_back(turn, _Failure("malformed", f"unexpected {type(exc).__name__}"))
        return Reply(text, self.name)

    def _fall_back(self, turn: Turn, failure: _Failure) -> Reply:
        # The detail is ours (a status, an exception's type, filter reasons),
        # never the patient's or the model's text, never the key.
        logger.warning("AI intake provider %s fell back (%s): %s", self.name, failure.reason, failure.detail)
        return Reply(turn.question, self.name, fell_back=True, reason=failure.reason, filtered=failure.filtered)

    # --- HTTP -----------------------------------------------------------------------------

    def _complete(self, turn: Turn, stream: _Stream) -> str:
        deadline = time.monotonic() + self.timeout
        url = urlsplit(self.base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise _Failure("not_configured", "AI_BASE_URL is not an http(s) URL")
        path = f"{url.path}/chat/completions" + (f"?{url.query}" if url.query else "")
        body = json.dumps(
            {
                "model": self.model,
                "stream": True,
                "temperature": 0.2,
                "max_tokens": 200,
                "messages": build_messages(turn),
            }
        ).encode()
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream, application/json",
            "User-Agent": "Dhanwantari",
        }
        connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(url.hostname, url.port, timeout=min(self.connect_timeout, self.timeout))
        watchdog: threading.Timer | None = None
        try:
            try:
                connection.connect()
            except TimeoutError:
                raise _Failure("timeout", "connect") from None
            except OSError as exc:
                raise _Failure("connection", type(exc).__name__) from None
            sock = connection.sock
            # Socket timeouts bound each wait, not the whole: a server that sends a
            # byte now and then (even inside the headers, where we cannot look)
            # would never time out. At the deadline the watchdog shuts the socket,
            # which ends any read in progress.
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _shut, args=(sock,))
            watchdog.daemon = True
            watchdog.start()
            try:
                sock.settimeout(_left(deadline))
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                if not 200 <= response.status < 300:
                    raise _Failure("http_error", f"HTTP {response.status}")
                return _read_reply(response, sock, deadline, stream)
            except TimeoutError:
                raise _Failure("timeout", "read") from None
            except (OSError, http.client.HTTPException) as exc:
                if time.monotonic() >= deadline:
                    raise _Failure("timeout", "deadline") from None
                if isinstance(exc, OSError | http.client.IncompleteRead | http.client.RemoteDisconnected):
                    raise _Failure("connection", type(exc).__name__) from None
                raise _Failure("malformed", type(exc).__name__) from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
            connection.close()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Failure("timeout", "deadline")
    return left


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: the reply finished as the deadline came
        sock.shutdown(socket.SHUT_RDWR)


def _read_reply(response: http.client.HTTPResponse, sock: socket.socket, deadline: float, stream: _Stream) -> str:
    """The model's text, from Server-Sent Events or, if the server ignored "stream", one JSON body."""
    buffer = b""
    sse: bool | None = None  # decided by the first line that is not blank
    done = False
    while not done:
        sock.settimeout(_left(deadline))
        data = response.read1(8192)
        if not data:
            if time.monotonic() >= deadline:  # the watchdog shut the socket
                raise _Failure("timeout", "deadline")
            break
        buffer += data
        if sse is None and buffer.strip():
            sse = buffer.lstrip().startswith((b"data:", b":", b"event:", b"id:", b"retry:"))
        if not sse:
            if len(buffer) > MAX_BODY_BYTES:
                raise _Failure("malformed", "body too large")
            continue
        *lines, buffer = buffer.split(b"\n")
        if len(buffer) > MAX_LINE_BYTES:
            raise _Failure("malformed", "line too long")
        for line in lines:
            if _sse_line(line, stream):
                done = True
                break
    if sse:
        if not done and not (buffer.strip() and _sse_line(buffer, stream)):
            raise _Failure("malformed", "stream ended without [DONE]")
        return stream.finish()
    stream.whole(_json_content(buffer))
    return stream.finish()


def _sse_line(raw: bytes, stream: _Stream) -> bool:
    """Handle one line of the event stream; True when the stream says it is done."""
    try:
        line = raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        raise _Failure("malformed", "not UTF-8") from None
    # One JSON object per data line, as every OpenAI-compatible server sends;
    # comments (":"), event names and blank lines carry nothing we need.
    if not line.startswith("data:"):
        return False
    payload = line[5:].strip()
    if payload == "[DONE]":
        return True
    event = _json(payload)
    if "error" in event:
        raise _Failure("http_error", "error event in stream")
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise _Failure("malformed", "no choices")
    if not choices:  # e.g. a closing usage chunk, or a prompt-filter notice
        return False
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(choice.get("delta", {}), dict):
        raise _Failure("malformed", "bad choice")
    content = (choice.get("delta") or {}).get("content")
    if content is not None and not isinstance(content, str):
        raise _Failure("malformed", "content is not text")
    if content:
        stream.add(content)
    finish = choice.get("finish_reason")
    if finish in ("length", "content_filter"):
        # Cut off by max_tokens or by the server's own filter: not a whole question.
        raise _Failure("malformed", f"finish_reason {finish}")
    # Some servers end with finish_reason "stop" and close without [DONE].
    return finish == "stop"


def _json_content(body: bytes) -> str:
    try:
        reply = _json(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Failure("malformed", "not UTF-8") from None
    if "error" in reply:
        raise _Failure("http_error", "error object")
    try:
        choice = reply["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Failure("malformed", "no choices[0].message.content") from None
    if content is not None and not isinstance(content, str):
        raise _Failure("malformed", "content is not text")
    if choice.get("finish_reason") in ("length", "content_filter"):
        raise _Failure("malformed", f"finish_reason {choice['finish_reason']}")
    return content or ""


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise _Failure("malformed", "not JSON") from None
    if not isinstance(value, dict):
        raise _Failure("malformed", "not a JSON object")
    return value


def get_provider(name: str | None = None) -> Provider:
    """The provider called `name`, or settings.AI_PROVIDER's; read on every call, so tests can switch it."""
    name = settings.AI_PROVIDER if name is None else name
    if name == "local":
        return LocalProvider()
    if name == "openai":
        return OpenAIProvider.from_settings()
    raise ImproperlyConfigured(f"Unknown AI provider {name!r}; choose one of {', '.join(NAMES)}.")
