"""The consultation room's JSON protocol over `ws/consultations/<id>/`.

Every frame is one JSON object with a "type". Text frames only; a frame larger
than ROOM_MAX_FRAME_BYTES (UTF-8 bytes) is refused before it is parsed.

Client -> server
----------------
- ``message   {text, client_id?}``  send a chat message (trimmed, 1-5000 chars).
  client_id (<= 64 chars, the client's own) is echoed back so the sender can
  match its optimistic bubble to the saved row.
- ``typing    {active}``            active: bool.
- ``read      {up_to}``             message id; the other party's messages up to
  and including it become read.
- ``resync    {after}``             message id or null; answers with what follows it.
- ``history   {before, limit?}``    message id or null; a page of older messages.
- ``call.offer  {sdp}``, ``call.answer {sdp}``, ``call.ice {candidate}``, ``call.hangup {}``
  WebRTC signalling, relayed untouched to the other participant's sockets;
  allowed only in an in-progress consultation whose mode is audio or video.
  sdp: string; candidate: object (RTCIceCandidateInit) or null (end of candidates).

Server -> client
----------------
- ``message   {message, client_id}`` a saved message (see message_json), sent to
  every socket of the room, the sender's included; client_id is the sender's
  echo (null for others' and system messages, which arrive the same way).
- ``receipt   {ids, delivered_at | read_at, reader}`` messages marked delivered or read,
  sent to the other participant's sockets (the senders of those messages).
- ``typing    {user, role, active}`` the other participant's typing state.
- ``presence  {user, role, online}`` a participant's socket connected or left.
- ``resync    {messages, complete}`` answer to resync; complete=false: ask again
  after the last id.
- ``history   {messages, has_more}`` answer to history.
- ``call.offer|call.answer|call.ice|call.hangup {from, sdp | candidate}`` relayed signalling.
  A ``call.hangup`` the server sends for a participant whose in-call socket
  dropped carries ``reason: "disconnected"``.
- ``call.config {mode, ice_servers}`` sent on connect in a writable audio or
  video consultation: mode "audio" or "video", ice_servers an RTCIceServer
  list (consultations.calls; TURN credentials minted per connection).

Call record: the callee's ``call.answer`` writes "Video call started" (or
"Audio ...") as a ``call`` message unless a call is already open (an ICE
restart's answer is the same call); ``call.hangup``, or the socket that sent
an offer or answer disconnecting, writes "Call ended (mm:ss)" once. Both
arrive as ordinary ``message`` frames (kind "call").
- ``error     {code, detail, client_id?}`` the frame was refused; the socket stays up.
  code: malformed_json, unknown_type, too_large, rate_limited, invalid, forbidden;
  or ``unavailable``: the database could not be reached, nothing of the frame
  was saved, and the server then closes the socket with 4503 (try again later):
  the page reconnects, resyncs and sends the message again.
- ``assistant.draft {text}`` in an AI intake: the assistant's reply so far, as a
  model streams it (whole sentences that passed the output filter; each frame
  carries the full text so far). The saved ``message`` replaces the draft.
- ``readonly  {status}`` the consultation is no longer scheduled or in progress;
  writes (message, typing, call.*) are refused; read, resync and history still
  work. Sent on connect, in answer to a write, and to every open socket when a
  service closes the room (messaging.room_closed_broadcast).

Close codes: 4503 the database was unavailable (reconnect with back-off),
4401 signed out / session no longer valid, 4404 not a participant
or no such consultation (the same for both, so ids cannot be probed).

Message text is data: the server stores and sends exactly what was typed
(trimmed); the page must insert it as text (textContent), never as HTML.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from consultations.models import Message

# Error codes.
MALFORMED_JSON = "malformed_json"
UNKNOWN_TYPE = "unknown_type"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
INVALID = "invalid"
FORBIDDEN = "forbidden"
READONLY = "readonly"
UNAVAILABLE = "unavailable"

CALL_TYPES = frozenset({"call.offer", "call.answer", "call.ice", "call.hangup"})
CLIENT_TYPES = frozenset({"message", "typing", "read", "resync", "history", *CALL_TYPES})
# Frames that change something other people see; refused in a read-only room.
WRITE_TYPES = frozenset({"message", "typing", *CALL_TYPES})

MAX_CLIENT_ID = 64
MAX_ID = 40
HISTORY_LIMIT = 50
RESYNC_LIMIT = 200


def room_group(consultation_id: str) -> str:
    """The channel-layer group of a consultation's sockets."""
    return f"consultation.{consultation_id}"


class ProtocolError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def error_frame(code: str, detail: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


def parse(text: str | None, max_bytes: int) -> dict[str, Any]:
    """Decode and validate one client frame; ProtocolError says what is wrong.

    The size is checked on the raw text before json.loads runs, so a huge frame
    costs no parsing.
    """
    if text is None:
        raise ProtocolError(INVALID, "Send text frames; binary frames are not part of this protocol.")
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise ProtocolError(TOO_LARGE, f"A frame can be at most {max_bytes} bytes.")
    try:
        frame = json.loads(text)
    except ValueError:
        raise ProtocolError(MALFORMED_JSON, "That frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise ProtocolError(MALFORMED_JSON, "A frame is a JSON object.")
    kind = frame.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown frame type {str(kind)[:40]!r}.")
    return _VALIDATORS[kind](frame)


def client_id_of(frame: Any) -> str | None:
    """The frame's client_id if it is a usable one (for echoing in errors)."""
    if isinstance(frame, dict):
        value = frame.get("client_id")
        if isinstance(value, str) and len(value) <= MAX_CLIENT_ID:
            return value
    return None


def _message_id(value: Any, field: str, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise ProtocolError(INVALID, f"{field} must be a message id.")
    return value


def _message(frame: dict) -> dict:
    text = frame.get("text")
    client_id = frame.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID):
        raise ProtocolError(INVALID, f"client_id must be a string of at most {MAX_CLIENT_ID} characters.")
    if not isinstance(text, str):
        raise ProtocolError(INVALID, "text must be a string.")
    return {"type": "message", "text": text, "client_id": client_id}


def _typing(frame: dict) -> dict:
    active = frame.get("active")
    if not isinstance(active, bool):
        raise ProtocolError(INVALID, "active must be true or false.")
    return {"type": "typing", "active": active}


def _read(frame: dict) -> dict:
    return {"type": "read", "up_to": _message_id(frame.get("up_to"), "up_to", nullable=False)}


def _resync(frame: dict) -> dict:
    return {"type": "resync", "after": _message_id(frame.get("after"), "after", nullable=True)}


def _history(frame: dict) -> dict:
    limit = frame.get("limit", HISTORY_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= HISTORY_LIMIT:
        raise ProtocolError(INVALID, f"limit must be a number from 1 to {HISTORY_LIMIT}.")
    return {"type": "history", "before": _message_id(frame.get("before"), "before", nullable=True), "limit": limit}


def _sdp(frame: dict) -> dict:
    sdp = frame.get("sdp")
    if not isinstance(sdp, str) or not sdp:
        raise ProtocolError(INVALID, "sdp must be a session description string.")
    return {"type": frame["type"], "sdp": sdp}


def _ice(frame: dict) -> dict:
    candidate = frame.get("candidate")
    if candidate is not None and not isinstance(candidate, dict):
        raise ProtocolError(INVALID, "candidate must be an ICE candidate object or null.")
    return {"type": "call.ice", "candidate": candidate}


def _hangup(frame: dict) -> dict:
    return {"type": "call.hangup"}


_VALIDATORS = {
    "message": _message,
    "typing": _typing,
    "read": _read,
    "resync": _resync,
    "history": _history,
    "call.offer": _sdp,
    "call.answer": _sdp,
    "call.ice": _ice,
    "call.hangup": _hangup,
}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def message_json(message: Message) -> dict[str, Any]:
    """A saved message as the protocol sends it (body is plain text, not HTML)."""
    return {
        "id": message.pk,
        "consultation": message.consultation_id,
        "kind": message.message_type,
        "sender": message.sender_id,
        "body": message.body,
        "attachment": message.attachment_id,
        "metadata": message.metadata,
        "created_at": _iso(message.created_at),
        "delivered_at": _iso(message.delivered_at),
        "read_at": _iso(message.read_at),
    }


@dataclass
class TokenBucket:
    """Per-connection rate limit: `per_minute` tokens a minute, bursts up to `burst`."""

    per_minute: int
    burst: int

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_minute / 60)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
