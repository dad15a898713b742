"""Background work for consultations: the reminders before each one, the AI intake's replies.

`send_reminders` does what `manage.py send_reminders` does, for deployments
that schedule tasks rather than cron. Either way, run it every 5 minutes:

    */5 * * * * cd /srv/dhanwantari && .venv/bin/python manage.py send_reminders

Running it twice, or twice at once, sends nothing twice (consultations.reminders).
"""

from __future__ import annotations

from django_tasks import task

from consultations.reminders import reminders_send


@task()
def send_reminders() -> int:
    """Send the 24-hour and 1-hour reminders owed now; returns how many were sent."""
    return reminders_send()


@task()
def intake_reply(consultation_id: str) -> str | None:
    """The AI intake's next question (consultations.intake.services.intake_reply).

    A model's reply is streamed to the room as `assistant.draft` frames, whole
    sentences that passed the output filter; the saved message replaces the draft.
    Returns the message id, or None when there was nothing to answer.
    """
    from consultations.intake.services import intake_reply as reply

    message = reply(consultation_id=consultation_id, on_delta=_draft_sender(consultation_id))
    return message.pk if message is not None else None


def _draft_sender(consultation_id: str):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from consultations.protocol import room_group

    layer = get_channel_layer()

    def send(text: str) -> None:
        if layer is not None:
            async_to_sync(layer.group_send)(
                room_group(consultation_id), {"type": "room.draft", "text": text, "origin": None, "reader": None}
            )

    return send
