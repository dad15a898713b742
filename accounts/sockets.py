"""Closing a user's open websockets when their session stops being valid.

Every socket a signed-in user opens joins the channel-layer group
`user.<id>`; sending "session.close" to it makes each of those sockets close
with code 4401, in whichever daphne process it lives (the Redis layer spans
processes). accounts.receivers calls this on sign-out, password change or
reset, account lock, deactivation and deletion.

Consumers also re-check the user on every incoming frame (active, not
deleted, not locked, session hash still matching the password), so a change
that slipped past every signal (a password set in the shell) still ends the
socket at its next frame.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

CLOSE_EVENT = "session.close"


def user_group(user_id: str) -> str:
    return f"user.{user_id}"


def user_sockets_close(user_id: str, *, reason: str) -> None:
    """Close every open socket of the user, once the current transaction commits.

    After commit: a lock or deactivation that is rolled back must not sign
    anyone out; outside a transaction it runs at once.
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": CLOSE_EVENT, "reason": reason})
        except Exception:
            # A channel layer that is down must not break sign-out or password
            # change; the consumers' per-frame re-check still closes the socket.
            log.exception("Could not tell the sockets of %s to close (%s).", user_id, reason)

    transaction.on_commit(send)
