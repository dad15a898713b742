"""Audio and video calls in the consultation room.

Media goes peer to peer (WebRTC); the room's socket carries the signalling
(consultations.protocol, `call.*` frames). This module holds what the server
adds to that:

- ``ice_servers(user, now)``: the RTCIceServer list handed to the page on
  connect. TURN credentials follow the TURN REST API scheme that coturn
  checks under ``use-auth-secret`` (draft-uberti-behave-turn-rest-00):
  username ``"<expiry unix time>:<user id>"``, credential
  ``base64(HMAC-SHA1(shared secret, username))``. The TURN server recomputes
  the HMAC and refuses an expired username, so a credential copied out of a
  page stops working by itself; the secret never leaves the server.
- ``call_start`` / ``call_end``: the "Video call started" and
  "Call ended (mm:ss)" system messages. A call is open while the room's
  latest call message is a start; both services lock the consultation row, so
  an ICE-restart answer does not start a second call and two hang-ups (or a
  hang-up racing a disconnect) end it once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from accounts.models import User
from consultations.messaging import system_message
from consultations.models import Consultation, Message, MessageType, Mode

CALL_STARTED = "call_started"
CALL_ENDED = "call_ended"
STARTED_BODY = {Mode.VIDEO: "Video call started", Mode.AUDIO: "Audio call started"}
ENDED_BODY = "Call ended ({duration})"


# --- ICE servers ---------------------------------------------------------------------


def turn_credential(*, secret: str, user_id: str, expires: int) -> tuple[str, str]:
    """(username, credential) for the TURN REST API scheme, valid until `expires` (unix time)."""
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(user: User, now: datetime) -> list[dict[str, Any]]:
    """The RTCIceServer dicts (RTCConfiguration.iceServers) for `user` at `now`.

    STUN whenever configured; TURN when TURN_URLS is set, with a credential
    valid TURN_CREDENTIAL_TTL seconds when TURN_SHARED_SECRET is set, else with
    the static TURN_USERNAME / TURN_PASSWORD. Nothing here is logged.
    """
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if settings.TURN_URLS:
        if settings.TURN_SHARED_SECRET:
            expires = int(now.timestamp()) + settings.TURN_CREDENTIAL_TTL
            username, credential = turn_credential(
                secret=settings.TURN_SHARED_SECRET, user_id=str(user.pk), expires=expires
            )
            servers.append({"urls": list(settings.TURN_URLS), "username": username, "credential": credential})
        elif settings.TURN_USERNAME:
            servers.append(
                {
                    "urls": list(settings.TURN_URLS),
                    "username": settings.TURN_USERNAME,
                    "credential": settings.TURN_PASSWORD,
                }
            )
    return servers


# --- call start and end ----------------------------------------------------------------


def format_duration(seconds: int) -> str:
    """12:03, or 1:02:03 past an hour."""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _open_call(consultation: Consultation) -> Message | None:
    last = (
        Message.objects.filter(consultation=consultation, message_type=MessageType.CALL)
        .order_by("-created_at", "-id")
        .first()
    )
    if last is not None and last.metadata.get("event") == CALL_STARTED:
        return last
    return None


def _locked(consultation: Consultation) -> Consultation:
    # The row lock serialises the room's call events: the "is a call open?"
    # read and the write that follows cannot interleave with another socket's.
    return Consultation.all_objects.select_for_update().get(pk=consultation.pk)


def call_start(*, consultation: Consultation, at: datetime) -> Message | None:
    """Write "<Video|Audio> call started" unless a call is already open (None then)."""
    with transaction.atomic():
        locked = _locked(consultation)
        if _open_call(locked) is not None:
            return None
        kind = locked.mode if locked.mode in STARTED_BODY else Mode.VIDEO
        return system_message(
            consultation=locked,
            body=STARTED_BODY[kind],
            message_type=MessageType.CALL,
            metadata={"event": CALL_STARTED, "kind": str(kind), "started_at": at.isoformat()},
        )


def call_end(*, consultation: Consultation, at: datetime, reason: str) -> Message | None:
    """Write "Call ended (mm:ss)" for the open call; None when no call is open.

    reason: "hangup" or "disconnected".
    """
    with transaction.atomic():
        locked = _locked(consultation)
        started = _open_call(locked)
        if started is None:
            return None
        started_at = parse_datetime(started.metadata.get("started_at") or "") or started.created_at
        seconds = int((at - started_at).total_seconds())
        return system_message(
            consultation=locked,
            body=ENDED_BODY.format(duration=format_duration(seconds)),
            message_type=MessageType.CALL,
            metadata={
                "event": CALL_ENDED,
                "kind": started.metadata.get("kind"),
                "started_at": started_at.isoformat(),
                "ended_at": at.isoformat(),
                "duration_seconds": max(seconds, 0),
                "reason": reason,
            },
        )
