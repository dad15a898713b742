"""The consultation room's messages: send, system messages, receipts, resync and history.

The services room for the `messages` table (consultations/services.py holds the
consultation's own state changes). Consumers, views and the AI assistant write
messages only through here.

Ordering and cursors: a room's messages are ordered by (created_at, id), the
model's ordering, served by the (consultation_id, created_at) index. A cursor is
a message id; "after" and "before" compare the (created_at, id) pair, so two
messages saved in the same millisecond are neither skipped nor repeated.

Broadcasts: the consumer broadcasts what it saves itself (it echoes the
sender's client_id); writes made elsewhere (system messages, a status change
that closes the room) reach open sockets through room_broadcast_on_commit, so
a client never sees something that was rolled back.

Notifications: the other party gets one in-app "message_received" notification
per unread burst (none while an earlier one is still unread), whether or not
they are connected: the consumer cannot know which of their devices is looking.
The notification never carries the message text (email can be switched on for
the kind, and medical text does not belong in an inbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, User
from accounts.services import notification_send
from consultations.models import Consultation, Message, MessageType, Status
from consultations.policies import is_participant
from consultations.protocol import message_json, room_group
from records.models import FileUpload

MAX_BODY_CHARS = 5000
# Consultations whose chat is open for writing; every other status is read-only.
WRITABLE_STATUSES = frozenset({Status.SCHEDULED, Status.IN_PROGRESS})

# Error messages are constants so tests and the consumer can import them.
NOT_A_PARTICIPANT = "Only the consultation's patient and doctor can take part in its chat."
ROOM_READ_ONLY = "This consultation is {status}, so its chat is read-only."
MESSAGE_EMPTY = "A message cannot be empty."
MESSAGE_TOO_LONG = f"A message can be at most {MAX_BODY_CHARS} characters long."
CURSOR_UNKNOWN = "That message is not part of this consultation."


class MessagingError(ValidationError):
    """A message write or read refused; the message says why and nothing was written."""


class NotParticipant(MessagingError):
    pass


class RoomReadOnly(MessagingError):
    def __init__(self, status: str) -> None:
        super().__init__(ROOM_READ_ONLY.format(status=Status(status).label.lower()), code="readonly")
        self.status = status


class InvalidMessage(MessagingError):
    pass


class UnknownCursor(MessagingError):
    pass


def room_writable(consultation: Consultation) -> bool:
    return consultation.status in WRITABLE_STATUSES and consultation.deleted_at is None


def _lock_room(consultation_id: str) -> Consultation | None:
    """The consultation's row locked FOR UPDATE, reading only what the write rules need.

    Other fields of the returned object load on first use (deferred), so the
    narrow column list changes cost, never behaviour.
    """
    try:
        return (
            Consultation.objects.select_for_update()
            .only("status", "deleted_at", "patient", "doctor", "consultation_type")
            .get(pk=consultation_id)
        )
    except Consultation.DoesNotExist:
        return None


def message_send(*, consultation: Consultation, sender: User, body: str) -> Message:
    """Save a text message from a participant of a scheduled or in-progress consultation."""
    text = (body or "").strip()
    if not text:
        raise InvalidMessage(MESSAGE_EMPTY, code="empty")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidMessage(MESSAGE_TOO_LONG, code="too_long")
    with transaction.atomic():
        # The row lock serialises a room's writers: created_at is taken while
        # the lock is held and the lock is released by the commit, so messages
        # commit in created_at order and a resync cursor can never jump over a
        # message that commits late. It also makes the status check race-free
        # against a cancel or completion committing at the same moment.
        locked = _lock_room(consultation.pk)
        if locked is None or not is_participant(sender, locked):
            raise NotParticipant(NOT_A_PARTICIPANT, code="forbidden")
        if not room_writable(locked):
            raise RoomReadOnly(locked.status)
        message = Message(consultation=locked, sender=sender, message_type=MessageType.TEXT, body=text)
        # The field checks, without the five queries full_clean() would add:
        # the consultation is the row locked above and the sender a checked
        # participant (foreign keys), the id is a fresh ULID (uniqueness), and
        # the type and attachment rules are CHECK constraints the INSERT meets.
        message.full_clean(
            exclude=("consultation", "sender", "attachment"), validate_unique=False, validate_constraints=False
        )
        message.save()
        recipient_id = _other_party_id(locked, sender)
        if recipient_id is not None:
            _notify_once(recipient_id, locked, sender)
    return message


ATTACHMENT_NOT_OURS = "That file is not in this consultation's records."


def attachment_send(*, consultation: Consultation, sender: User, upload: FileUpload, body: str = "") -> Message:
    """Save an attachment message for a file already stored by records.services.files_upload.

    The file must be in this consultation's patient's records (the upload
    service put it there, linked to the consultation). The message carries the
    file's shown name, sniffed type and size in `metadata`, so a client can draw
    a file card or an image preview without another read; the bytes are only
    ever served by the records app's permission-checked view. Broadcast to the
    room after commit (the uploader's page learns of it from the HTTP answer
    too and drops the duplicate by id).
    """
    text = (body or "").strip()
    if len(text) > MAX_BODY_CHARS:
        raise InvalidMessage(MESSAGE_TOO_LONG, code="too_long")
    if upload.patient_id != consultation.patient_id:
        raise InvalidMessage(ATTACHMENT_NOT_OURS, code="invalid")
    with transaction.atomic():
        # The same lock as message_send, for the same reasons (commit order, status race).
        locked = _lock_room(consultation.pk)
        if locked is None or not is_participant(sender, locked):
            raise NotParticipant(NOT_A_PARTICIPANT, code="forbidden")
        if not room_writable(locked):
            raise RoomReadOnly(locked.status)
        message = Message(
            consultation=locked,
            sender=sender,
            message_type=MessageType.ATTACHMENT,
            body=text,
            attachment=upload,
            metadata={
                "name": upload.original_filename,
                "content_type": upload.content_type,
                "size": upload.size_bytes,
                "thumbnail": bool(upload.thumbnail),
            },
        )
        message.full_clean()
        message.save()
        recipient_id = _other_party_id(locked, sender)
        if recipient_id is not None:
            _notify_once(recipient_id, locked, sender)
        room_broadcast_on_commit(
            locked.pk, {"type": "room.message", "message": message_json(message), "client_id": None}
        )
    return message


def _other_party_id(consultation: Consultation, user: User) -> str | None:
    """The participant who is not `user` (None in an AI intake written by its patient)."""
    return consultation.doctor_id if user.pk == consultation.patient_id else consultation.patient_id


def _notify_once(recipient_id: str, consultation: Consultation, sender: User) -> None:
    pending = Notification.objects.filter(
        user_id=recipient_id, kind="message_received", read_at__isnull=True, data__consultation_id=consultation.pk
    )
    if pending.exists():
        return
    notification_send(
        user=User.objects.get(pk=recipient_id),
        kind="message_received",
        title=f"New message from {sender.display_name}",
        body="Open the consultation to read it.",
        deeplink=reverse("consultations:detail", args=[consultation.pk]),
        data={"consultation_id": consultation.pk},
    )


def system_message(
    *,
    consultation: Consultation,
    body: str,
    message_type: str = MessageType.SYSTEM,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """A message with no sender ("Dr Rao joined", "Video call ended after 12 min").

    Written whatever the consultation's status: closing a room is itself news.
    `message_type` is "system" or "call"; `metadata` carries the event's data
    (e.g. {"event": "call_ended", "duration_seconds": 720}).
    """
    if message_type not in (MessageType.SYSTEM, MessageType.CALL):
        raise InvalidMessage("A system message is of type system or call.", code="invalid")
    message = Message(
        consultation=consultation,
        sender=None,
        message_type=message_type,
        body=body.strip()[:MAX_BODY_CHARS],
        metadata=metadata or {},
    )
    with transaction.atomic():
        message.full_clean()
        message.save()
        room_broadcast_on_commit(
            consultation.pk, {"type": "room.message", "message": message_json(message), "client_id": None}
        )
    return message


def assistant_send(
    *, consultation: Consultation, assistant: User, body: str, metadata: dict[str, Any] | None = None
) -> Message:
    """A text message from the AI intake assistant (consultations.intake) in its own consultation.

    The assistant is not a participant, so message_send would refuse it; this
    is the one other way a text message is written. Broadcast after commit.
    """
    if not consultation.is_ai:
        raise NotParticipant(NOT_A_PARTICIPANT, code="forbidden")
    message = Message(
        consultation=consultation,
        sender=assistant,
        message_type=MessageType.TEXT,
        body=body.strip()[:MAX_BODY_CHARS],
        metadata=metadata or {},
    )
    with transaction.atomic():
        message.full_clean()
        message.save()
        room_broadcast_on_commit(
            consultation.pk, {"type": "room.message", "message": message_json(message), "client_id": None}
        )
    return message


def room_closed_broadcast(*, consultation: Consultation) -> None:
    """Tell the room's open sockets, after commit, that writing has stopped (`readonly`).

    For the services that complete, cancel or mark a consultation missed:
    without it a socket learns the room is read-only at its next frame.
    """
    if not room_writable(consultation):
        room_broadcast_on_commit(consultation.pk, {"type": "room.readonly", "status": consultation.status})


def room_broadcast_on_commit(consultation_id: str, event: dict[str, Any]) -> None:
    """Send a channel-layer event to the room's group once the transaction commits."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(room_group(consultation_id), {"origin": None, "reader": None, **event})

    transaction.on_commit(send)


# --- receipts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    ids: list[str]
    at: datetime | None


def messages_mark_delivered(*, consultation: Consultation, reader: User, up_to_id: str) -> Receipt:
    """Mark the other party's messages up to `up_to_id` delivered to `reader` (once each)."""
    return _mark(consultation, reader, up_to_id, read=False)


def messages_delivered(*, consultation_id: str, reader_id: str, message_ids: list[str]) -> Receipt:
    """Messages that reached one of `reader`'s sockets: stamp them delivered, once each.

    The live path (the consumer gathers what arrived in a short window: one
    UPDATE for all of it); resync uses messages_mark_delivered, which catches
    up on everything before a cursor. The conditions make it a no-op for the
    reader's own messages, another room's and those already stamped (by
    another device of the reader), so nothing needs locking first. The receipt
    lists exactly the rows stamped now: all of them (1 query), or, when some
    were already stamped, those carrying this stamp (a 2nd query).
    """
    if not message_ids:
        return Receipt(ids=[], at=None)
    now = timezone.now()
    unstamped = (
        Message.objects.filter(pk__in=message_ids, consultation_id=consultation_id, delivered_at__isnull=True)
        .exclude(sender_id=reader_id)
        .exclude(sender__isnull=True)
    )
    updated = unstamped.update(delivered_at=now, updated_at=now)
    if not updated:
        return Receipt(ids=[], at=None)
    if updated == len(set(message_ids)):
        return Receipt(ids=list(dict.fromkeys(message_ids)), at=now)
    stamped = set(
        Message.objects.filter(pk__in=message_ids, consultation_id=consultation_id, delivered_at=now).values_list(
            "id", flat=True
        )
    )
    return Receipt(ids=[i for i in dict.fromkeys(message_ids) if i in stamped], at=now)


def messages_mark_read(*, consultation: Consultation, reader: User, up_to_id: str) -> Receipt:
    """Mark the other party's messages up to `up_to_id` read (and delivered, if not yet)."""
    return _mark(consultation, reader, up_to_id, read=True)


def _mark(consultation: Consultation, reader: User, up_to_id: str, *, read: bool) -> Receipt:
    if not is_participant(reader, consultation):
        raise NotParticipant(NOT_A_PARTICIPANT, code="forbidden")
    cursor = _cursor(consultation, up_to_id)
    field = "read_at" if read else "delivered_at"
    now = timezone.now()
    with transaction.atomic():
        # Locked so that two devices of the reader do not both report the same
        # rows as newly read; each row gets its timestamp once.
        unmarked = (
            Message.objects.select_for_update()
            .filter(consultation=consultation, sender__isnull=False, **{f"{field}__isnull": True})
            .exclude(sender_id=reader.pk)
            .filter(_at_or_before(cursor))
        )
        ids = list(unmarked.values_list("id", flat=True))
        if not ids:
            return Receipt(ids=[], at=None)
        Message.objects.filter(pk__in=ids).update(**{field: now, "updated_at": now})
        if read:
            Message.objects.filter(pk__in=ids, delivered_at__isnull=True).update(delivered_at=now)
    return Receipt(ids=ids, at=now)


# --- resync and history --------------------------------------------------------------


def _cursor(consultation: Consultation, message_id: str) -> tuple[datetime, str]:
    # all_objects: a message deleted since the client saw it is still a valid
    # place to resume from.
    row = (
        Message.all_objects.filter(consultation=consultation, pk=message_id).values_list("created_at", "id").first()
        if isinstance(message_id, str)
        else None
    )
    if row is None:
        raise UnknownCursor(CURSOR_UNKNOWN, code="invalid")
    return row


def after_message(consultation: Consultation, message_id: str) -> Q:
    """The filter for a room's messages strictly after `message_id`, in the room's order.

    UnknownCursor if it is not one of this consultation's messages.
    """
    return _after(_cursor(consultation, message_id))


def _after(cursor: tuple[datetime, str]) -> Q:
    created_at, pk = cursor
    return Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=pk)


def _at_or_before(cursor: tuple[datetime, str]) -> Q:
    created_at, pk = cursor
    return Q(created_at__lt=created_at) | Q(created_at=created_at, id__lte=pk)


def _room(consultation: Consultation) -> QuerySet[Message]:
    return Message.objects.filter(consultation=consultation).select_related("sender")


def messages_after(*, consultation: Consultation, after_id: str | None, limit: int) -> tuple[list[Message], bool]:
    """The messages strictly after `after_id` (all of them from the start if None), oldest first.

    Returns (messages, complete): complete is False when more than `limit`
    follow, and the client asks again after the last one it received.
    """
    qs = _room(consultation)
    if after_id is not None:
        qs = qs.filter(after_message(consultation, after_id))
    rows = list(qs.order_by("created_at", "id")[: limit + 1])
    return rows[:limit], len(rows) <= limit


def messages_page(*, consultation: Consultation, before_id: str | None, limit: int) -> tuple[list[Message], bool]:
    """A page of history: the `limit` messages before `before_id` (the latest if None), oldest first.

    Returns (messages, has_more).
    """
    qs = _room(consultation)
    if before_id is not None:
        created_at, pk = _cursor(consultation, before_id)
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    return list(reversed(rows[:limit])), len(rows) > limit
