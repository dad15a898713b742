"""The consultation room's websocket, `ws/consultations/<id>/`.

The protocol (frames, fields, error codes, close codes) is documented in
consultations.protocol; messages are written through consultations.messaging.

Security, in order: the origin check and session auth run before this class
(dhanwantari.asgi). On connect, only the consultation's patient and doctor get
in; everyone else is refused with the same close code whether the
consultation exists or not. On EVERY incoming frame the consultation and the
user are read again: a participant removed or a consultation deleted closes
the socket (4404); a user signed out elsewhere, locked, deactivated, deleted
or whose password changed closes it (4401); a consultation no longer
scheduled or in progress answers writes with `readonly` at once.

Broadcasts happen after commit: messaging's services run in their own
transaction inside database_sync_to_async (a consumer is never inside an
outer transaction), so when the call returns the row is committed and only
then is it sent to the group. A client never sees a message that was rolled
back, and a resync right after a broadcast always finds it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Exists
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from accounts.sockets import user_group
from consultations import calls, messaging, protocol, tasks
from consultations.intake import services as intake
from consultations.models import Consultation, Message, Mode, Status
from consultations.policies import consultation_for_participant

log = logging.getLogger(__name__)

# Errors that may mean the database is unreachable; database_down() decides.
DATABASE_DOWN = (OperationalError, InterfaceError)
# The database went away: the page reconnects with back-off and resyncs. (RFC 6455
# has 1013 "Try Again Later", but daphne (autobahn) lets a server close only with 1000
# or 3000-4999, so an application code in the 4xxx range of our other close codes.)
CLOSE_TRY_AGAIN = 4503
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404

CALL_MODES = frozenset({Mode.AUDIO, Mode.VIDEO})
INTAKE_PACE = 3
CALL_NOT_ALLOWED = "Calls are possible only during an in-progress audio or video consultation."
# How long an arrived message waits for the socket's next frame to carry its
# delivery stamp before it is stamped on its own (the double tick's delay at most).
DELIVERY_WINDOW = 0.25
UNAVAILABLE = "Could not reach the server's records just now. Reconnecting; the message will be sent again."

# What the per-frame recheck reads: the room's rules need these columns, not the
# rows' forty. Anything else read from the returned objects is loaded on first
# use (Django's deferred fields), so a narrower list costs a query, never a bug.
RECHECK_CONSULTATION_FIELDS = ("status", "deleted_at", "patient", "doctor", "consultation_type", "mode")
RECHECK_USER_FIELDS = ("password", "is_active", "deleted_at", "locked_until", "role")


# The room's hot path has its own threads: the default executor also runs the
# assistant's replies (a model's seconds) and DNS lookups, which must not hold up
# every room's saves in the process.
ROOM_DB_POOL = ThreadPoolExecutor(max_workers=settings.ROOM_DB_THREADS, thread_name_prefix="room-db")


def on_db(func):
    """database_sync_to_async for the room's hot path (a message's save, delivery stamps).

    On MariaDB it runs on ROOM_DB_POOL, each thread with its own connection
    (persistent with CONN_MAX_AGE), so one room's save does not queue behind
    another room's in the process's single sync thread; row locks order what
    must be ordered, and a socket handles one frame at a time anyway. SQLite
    (make run, the SQLite test pass) allows one writer, so there it stays on
    the one shared thread.
    """
    if connection.vendor == "sqlite":
        return database_sync_to_async(func)
    return database_sync_to_async(func, thread_sensitive=False, executor=ROOM_DB_POOL)


# MariaDB/MySQL client and server codes that mean the connection is gone or the
# server is going away: can't connect (2002, 2003), gone away / lost (2006, 2013,
# 2055), shutting down (1053), connection killed (1927), idle disconnect (4031).
CONNECTION_LOST = frozenset({1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})


def database_down(error: Exception) -> bool:
    """The database is unreachable (wait and retry), not refusing this statement.

    A lock timeout, a deadlock, a read-only or full server are errors of their
    own and are not answered with "reconnect and send again".
    """
    if isinstance(error, InterfaceError):
        return True
    code = error.args[0] if isinstance(error, OperationalError) and error.args else None
    return code in CONNECTION_LOST


class RoomClosed(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class ConsultationConsumer(AsyncWebsocketConsumer):
    user_id: str | None = None
    # The room stopped taking writes (a `readonly` went out): no more drafts.
    closed = False
    group_name: str | None = None
    # This socket sent an offer or an answer and has not hung up: its
    # disconnecting ends the call (consultations.calls writes "Call ended").
    in_call = False
    # Message ids that reached this socket and await their delivery stamp, and
    # the pending task that will stamp them (stamp_delivered).
    undelivered: list[str]
    delivery: asyncio.Future | None = None
    # The receipt of the stamp made in the current frame's hop, for receive() to send.
    stamped: messaging.Receipt | None = None
    session_key: str | None = None

    # --- connection ---------------------------------------------------------------

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        consultation_id = self.scope["url_route"]["kwargs"]["consultation_id"]
        try:
            consultation = await database_sync_to_async(consultation_for_participant)(user, consultation_id)
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user_id = user.pk
        self.role = user.role
        # Which of the consultation's two users this socket is: the recheck joins that one.
        self.side = "patient" if consultation.patient_id == user.pk else "doctor"
        self.replies: set[asyncio.Future] = set()
        self.undelivered = []
        self.consultation_id = consultation.pk
        session = self.scope.get("session")
        self.session_hash = session.get(HASH_SESSION_KEY, "") if session is not None else ""
        self.session_key = session.session_key if session is not None else None
        # An intake is answered at the pace of quick replies, one message per
        # question: three times the chat allowance, so a quick patient is not
        # refused mid-case (the assistant's own replies pace it anyway).
        pace = INTAKE_PACE if consultation.is_ai else 1
        self.messages_bucket = protocol.TokenBucket(
            settings.ROOM_MESSAGES_PER_MINUTE * pace, settings.ROOM_MESSAGES_BURST * pace
        )
        self.frames_bucket = protocol.TokenBucket(settings.ROOM_FRAMES_PER_MINUTE, settings.ROOM_FRAMES_BURST)
        self.group_name = protocol.room_group(consultation.pk)
        self.own_group = user_group(user.pk)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        await self.accept()
        if not messaging.room_writable(consultation):
            self.closed = True
            await self.send_frame({"type": "readonly", "status": consultation.status})
        elif consultation.mode in CALL_MODES:
            # Minted per connection: a reconnecting page gets fresh TURN credentials.
            await self.send_frame(
                {
                    "type": "call.config",
                    "mode": consultation.mode,
                    "ice_servers": calls.ice_servers(user, timezone.now()),
                }
            )
        await self.presence(online=True, hello=True)

    async def disconnect(self, code: int) -> None:
        try:
            await self.leave()
        finally:
            if getattr(self, "undelivered", None):
                # What reached this socket was delivered: stamp it now, not never
                # (last: a slow database must not hold up leaving the room).
                try:
                    await self.stamp_delivered(0)
                except Exception:
                    log.exception("room %s: delivery stamps on disconnect failed", self.consultation_id)

    async def leave(self) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            await self.channel_layer.group_discard(self.own_group, self.channel_name)
            if self.in_call:
                # The other side's page ends the call too, so the record and
                # both screens agree; calling again starts a new call.
                await self.group_send(
                    "room.call", frame={"type": "call.hangup", "reason": "disconnected"}, user=self.user_id
                )
                await self.end_call("disconnected")
            await self.presence(online=False, hello=False)

    async def presence(self, *, online: bool, hello: bool) -> None:
        await self.channel_layer.group_send(
            self.group_name,
            {
                "type": "room.presence",
                "user": self.user_id,
                "role": self.role,
                "online": online,
                "hello": hello,
                "origin": self.channel_name,
            },
        )

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame))

    # --- incoming frames ----------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        client_id = None
        try:
            if not self.frames_bucket.take():
                raise protocol.ProtocolError(protocol.RATE_LIMITED, "Too many frames; slow down.")
            frame = protocol.parse(text_data, settings.ROOM_MAX_FRAME_BYTES)
            client_id = frame.get("client_id")
            kind = frame["type"]
            if kind == "message" and not self.messages_bucket.take():
                raise protocol.ProtocolError(protocol.RATE_LIMITED, "You are sending messages too fast; wait a moment.")
            # What reached this socket and waits for its stamp rides along with
            # this frame's hop (a reply usually follows what it answers).
            arrived = self.take_undelivered()
            try:
                await self.on_frame(frame, arrived)
            finally:
                # The hop's delivery stamp is announced whatever became of the
                # frame itself (a refused message does not undo a stamp).
                receipt, self.stamped = self.stamped, None
                if receipt is not None:
                    await self.send_receipt(receipt)
        except protocol.ProtocolError as error:
            await self.send_frame(protocol.error_frame(error.code, error.detail, client_id))
        except messaging.RoomReadOnly as error:
            self.closed = True
            await self.send_frame({"type": "readonly", "status": error.status})
        except messaging.NotParticipant as error:
            await self.send_frame(protocol.error_frame(protocol.FORBIDDEN, error.message, client_id))
        except messaging.MessagingError as error:
            await self.send_frame(protocol.error_frame(protocol.INVALID, error.message, client_id))
        except DATABASE_DOWN as error:
            if not database_down(error):
                raise
            # MariaDB restarting or unreachable: the frame's transaction rolled
            # back, so nothing of it is stored. Say so, then close "try again
            # later": the page reconnects with back-off, resyncs and sends the
            # message again, and a fresh connection is opened on the way.
            log.warning("room %s: database unavailable", self.consultation_id, exc_info=True)
            await self.send_frame(protocol.error_frame(protocol.UNAVAILABLE, UNAVAILABLE, client_id))
            await self.close(code=CLOSE_TRY_AGAIN)

    async def on_frame(self, frame: dict, arrived: list[str]) -> None:
        kind = frame["type"]
        client_id = frame.get("client_id")
        try:
            consultation, user, saved = await on_db(self.recheck_and_save)(frame, arrived)
        except RoomClosed as closed:
            await self.close(code=closed.code)
            return
        if kind in protocol.WRITE_TYPES and not messaging.room_writable(consultation):
            if kind == "call.hangup" and self.in_call:
                # Completed or cancelled mid-call: the call still ends on record.
                await self.end_call("hangup")
            self.closed = True
            await self.send_frame({"type": "readonly", "status": consultation.status})
            return
        if saved is not None:
            # Committed: message_send's transaction ended inside the hop.
            await self.group_send("room.message", message=protocol.message_json(saved), client_id=client_id)
        elif kind == "message":
            await self.on_intake_message(consultation, user, frame)
        elif kind == "typing":
            await self.group_send("room.typing", user=self.user_id, role=self.role, active=frame["active"])
        elif kind == "read":
            await self.on_read(consultation, user, frame["up_to"])
        elif kind == "resync":
            await self.on_resync(consultation, user, frame["after"])
        elif kind == "history":
            await self.on_history(consultation, frame["before"], frame["limit"])
        elif kind in protocol.CALL_TYPES:
            await self.on_call(consultation, frame)

    def recheck(self) -> tuple[Consultation, User]:
        """The consultation and the user as the database has them now, or RoomClosed.

        One narrow query: the consultation joined to this socket's side (its
        patient or its doctor), which must still be this user. The all_objects
        manager and select_related skip the soft-delete filter, so deletion is
        checked by hand.
        """
        side = self.side
        # The session itself, in the same query: a sign-out whose "close your
        # sockets" event was lost (a Redis blip) still shuts the room at the next frame.
        session_alive = Exists(
            Session.objects.filter(session_key=self.session_key or "", expire_date__gt=timezone.now())
        )
        try:
            consultation = (
                Consultation.all_objects.select_related(side)
                .only(*RECHECK_CONSULTATION_FIELDS, *(f"{side}__{field}" for field in RECHECK_USER_FIELDS))
                .annotate(session_alive=session_alive)
                .get(pk=self.consultation_id)
            )
        except Consultation.DoesNotExist:
            raise RoomClosed(CLOSE_NOT_FOUND) from None
        if consultation.deleted_at is not None or getattr(consultation, f"{side}_id") != self.user_id:
            raise RoomClosed(CLOSE_NOT_FOUND)
        user = getattr(consultation, side)
        session_ok = consultation.session_alive and constant_time_compare(
            self.session_hash, user.get_session_auth_hash()
        )
        if not user.is_active or user.deleted_at is not None or user.is_locked or not session_ok:
            raise RoomClosed(CLOSE_UNAUTHENTICATED)
        return consultation, user

    def recheck_and_save(self, frame: dict, arrived: list[str]) -> tuple[Consultation, User, Message | None]:
        """One thread hop for a frame: recheck(), stamp `arrived`, save a chat message.

        Each hop also costs a connection health check, so a frame's work shares
        one: the recheck, the delivery stamp of messages that reached this
        socket since the last stamp (left in self.stamped for receive() to
        announce, even if the save then fails), and a chat message to a
        writable doctor-led room. An intake message, a read-only room or any
        other frame returns no message; on_frame() goes on from there.
        """
        consultation, user = self.recheck()
        self.stamped = self.stamp(arrived)
        if frame["type"] != "message" or consultation.is_ai or not messaging.room_writable(consultation):
            return consultation, user, None
        message = messaging.message_send(consultation=consultation, sender=user, body=frame["text"])
        return consultation, user, message

    async def on_intake_message(self, consultation: Consultation, user: User, frame: dict) -> None:
        """The AI intake: the guard runs as the message is saved; the reply is a task.

        An emergency's guidance was written in the same transaction and
        reaches the room on commit, before this echo; no reply is queued.
        """
        turn = await database_sync_to_async(intake.intake_message)(
            consultation=consultation, patient=user, body=frame["text"]
        )
        await self.group_send("room.message", message=protocol.message_json(turn.message), client_id=frame["client_id"])
        if not turn.emergency:
            await self.group_send("room.typing", user="assistant", role="assistant", active=True)
            # Off this socket's path: with the immediate task backend the reply
            # (and a model's seconds) runs right here, so it gets its own thread
            # and task, and this socket keeps relaying frames (the drafts too).
            reply = asyncio.ensure_future(self.intake_reply(consultation.pk))
            self.replies.add(reply)  # held until done, so it is not garbage-collected mid-way
            reply.add_done_callback(self.replies.discard)

    async def intake_reply(self, consultation_id: str) -> None:
        try:
            await database_sync_to_async(tasks.intake_reply.enqueue, thread_sensitive=False)(consultation_id)
        except Exception:
            # The patient's message is saved; the next one (or a retry) asks again.
            log.exception("intake reply failed for %s", consultation_id)

    async def on_read(self, consultation: Consultation, user: User, up_to: str) -> None:
        receipt = await database_sync_to_async(messaging.messages_mark_read)(
            consultation=consultation, reader=user, up_to_id=up_to
        )
        if receipt.ids:
            await self.group_send("room.receipt", ids=receipt.ids, field="read_at", at=receipt.at.isoformat())

    async def on_resync(self, consultation: Consultation, user: User, after: str | None) -> None:
        messages, complete = await database_sync_to_async(messaging.messages_after)(
            consultation=consultation, after_id=after, limit=protocol.RESYNC_LIMIT
        )
        await self.send_frame(
            {"type": "resync", "messages": [protocol.message_json(m) for m in messages], "complete": complete}
        )
        if messages:
            await self.mark_delivered(consultation, user, messages[-1].pk)

    async def on_history(self, consultation: Consultation, before: str | None, limit: int) -> None:
        messages, has_more = await database_sync_to_async(messaging.messages_page)(
            consultation=consultation, before_id=before, limit=limit
        )
        await self.send_frame(
            {"type": "history", "messages": [protocol.message_json(m) for m in messages], "has_more": has_more}
        )

    async def on_call(self, consultation: Consultation, frame: dict) -> None:
        if consultation.status != Status.IN_PROGRESS or consultation.mode not in CALL_MODES:
            raise protocol.ProtocolError(protocol.FORBIDDEN, CALL_NOT_ALLOWED)
        kind = frame["type"]
        if kind in ("call.offer", "call.answer"):
            self.in_call = True
        await self.group_send("room.call", frame=frame, user=self.user_id)
        if kind == "call.answer":
            # The callee accepted (or answered an ICE restart, which
            # call_start recognises as the same call). Relayed first: the
            # record need not delay the media.
            await database_sync_to_async(calls.call_start)(consultation=consultation, at=timezone.now())
        elif kind == "call.hangup":
            await self.end_call("hangup")

    async def end_call(self, reason: str) -> None:
        self.in_call = False
        await database_sync_to_async(self._end_call)(reason)

    def _end_call(self, reason: str) -> None:
        consultation = Consultation.all_objects.filter(pk=self.consultation_id).first()
        if consultation is not None:
            calls.call_end(consultation=consultation, at=timezone.now(), reason=reason)

    async def mark_delivered(self, consultation: Consultation, user: User, up_to: str) -> None:
        receipt = await database_sync_to_async(messaging.messages_mark_delivered)(
            consultation=consultation, reader=user, up_to_id=up_to
        )
        if receipt.ids:
            await self.group_send("room.receipt", ids=receipt.ids, field="delivered_at", at=receipt.at.isoformat())

    async def group_send(self, event_type: str, **fields: Any) -> None:
        await self.channel_layer.group_send(
            self.group_name, {"type": event_type, "origin": self.channel_name, "reader": self.user_id, **fields}
        )

    # --- group events -------------------------------------------------------------

    async def room_message(self, event: dict) -> None:
        message = event["message"]
        mine = event["origin"] == self.channel_name
        await self.send_frame(
            {"type": "message", "message": message, "client_id": event["client_id"] if mine else None}
        )
        if message["sender"] and message["sender"] != self.user_id:
            # Reached one of the recipient's sockets: delivered. Stamped with
            # this socket's next frame (usually the reply) or, if none comes
            # within DELIVERY_WINDOW, on its own: one UPDATE and one receipt
            # for all that arrived meanwhile, not a hop per message.
            self.undelivered.append(message["id"])
            if self.delivery is None:
                self.delivery = asyncio.ensure_future(self.stamp_delivered(DELIVERY_WINDOW))

    def take_undelivered(self) -> list[str]:
        """The ids waiting for their delivery stamp, now this caller's to stamp."""
        if self.delivery is not None:
            self.delivery.cancel()
            self.delivery = None
        ids, self.undelivered = self.undelivered, []
        return ids

    async def stamp_delivered(self, delay: float) -> None:
        """After `delay`, recheck the participant and stamp what reached this socket (2-3 queries)."""
        if delay:
            await asyncio.sleep(delay)
            self.delivery = None  # this task is done waiting: take_undelivered must not cancel it now
        ids = self.take_undelivered()
        if not ids:
            return
        try:
            receipt = await on_db(self.delivered)(ids)
        except RoomClosed as closed:
            await self.close(code=closed.code)
            return
        except DATABASE_DOWN as error:
            if not database_down(error):
                raise
            # The messages are on screen; their stamp waits for the reader's read
            # receipt. The socket closes as receive() would, so the recheck that
            # could not run here runs again on the reconnect.
            log.warning("room %s: delivery not stamped, database unavailable", self.consultation_id)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        await self.send_receipt(receipt)

    def delivered(self, message_ids: list[str]) -> messaging.Receipt:
        self.recheck()
        return self.stamp(message_ids)

    def stamp(self, message_ids: list[str]) -> messaging.Receipt:
        return messaging.messages_delivered(
            consultation_id=self.consultation_id, reader_id=self.user_id, message_ids=message_ids
        )

    async def send_receipt(self, receipt: messaging.Receipt) -> None:
        if receipt.ids:
            await self.group_send("room.receipt", ids=receipt.ids, field="delivered_at", at=receipt.at.isoformat())

    async def room_receipt(self, event: dict) -> None:
        # Ticks are drawn on the sender's messages only: the reader's own
        # sockets have nothing to draw (one frame fewer per message).
        if event["reader"] == self.user_id:
            return
        await self.send_frame(
            {"type": "receipt", "ids": event["ids"], event["field"]: event["at"], "reader": event["reader"]}
        )

    async def room_typing(self, event: dict) -> None:
        if event["user"] != self.user_id:
            await self.send_frame(
                {"type": "typing", "user": event["user"], "role": event["role"], "active": event["active"]}
            )

    async def room_presence(self, event: dict) -> None:
        if event["user"] == self.user_id:
            return
        await self.send_frame(
            {"type": "presence", "user": event["user"], "role": event["role"], "online": event["online"]}
        )
        if event["hello"]:
            # Tell the newcomer we are here too (no hello: no ping-pong).
            await self.presence(online=True, hello=False)

    async def room_call(self, event: dict) -> None:
        if event["user"] != self.user_id:
            if event["frame"]["type"] == "call.hangup":
                self.in_call = False
            await self.send_frame({**event["frame"], "from": event["user"]})

    async def room_draft(self, event: dict) -> None:
        # A reply still being worded when the intake closed (an emergency
        # meanwhile) is never saved; its drafts must not show either.
        if not self.closed:
            await self.send_frame({"type": "assistant.draft", "text": event["text"]})

    async def room_readonly(self, event: dict) -> None:
        self.closed = True
        await self.send_frame({"type": "readonly", "status": event["status"]})

    async def session_close(self, event: dict) -> None:
        # accounts.sockets.CLOSE_EVENT ("session.close") lands here.
        await self.close(code=CLOSE_UNAUTHENTICATED)
