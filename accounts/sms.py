"""Sending text messages: one small interface, two backends, chosen by SMS_BACKEND.

- "console" (default): writes the message to the log, for development.
- "http": POSTs JSON {"to", "sender", "message"} to SMS_GATEWAY_URL with
  `Authorization: Bearer SMS_GATEWAY_TOKEN`, the shape most Indian SMS
  gateways accept or can be fronted with. A non-2xx answer is an SMSError.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


class SMSError(Exception):
    """The gateway refused or could not be reached."""


class SMSBackend(Protocol):
    def send(self, *, to: str, message: str) -> None: ...


class ConsoleSMSBackend:
    def send(self, *, to: str, message: str) -> None:
        # Development only: the message (possibly a code) goes to the console.
        print(f"[SMS to {to}] {message}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects is misconfigured: following would resend the
    bearer token to another address as a GET without the message."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise SMSError(f"SMS gateway redirected ({code}) instead of accepting the message.")


_opener = urllib.request.build_opener(_NoRedirects)


class HttpSMSBackend:
    def __init__(self, *, url: str, token: str, sender: str, timeout: float) -> None:
        if not url.startswith(("https://", "http://")):
            raise SMSError("SMS_GATEWAY_URL must be an http(s) URL.")
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, *, to: str, message: str) -> None:
        payload = json.dumps({"to": to, "sender": self.sender, "message": message}).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SMSError(f"SMS gateway answered {exc.code}.") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SMSError(f"SMS gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise SMSError(f"SMS gateway answered {status}.")


def get_sms_backend() -> SMSBackend:
    if settings.SMS_BACKEND == "http":
        return HttpSMSBackend(
            url=settings.SMS_GATEWAY_URL,
            token=settings.SMS_GATEWAY_TOKEN,
            sender=settings.SMS_SENDER_ID,
            timeout=settings.SMS_GATEWAY_TIMEOUT,
        )
    if settings.SMS_BACKEND == "console":
        return ConsoleSMSBackend()
    raise SMSError(f"Unknown SMS_BACKEND {settings.SMS_BACKEND!r}: use 'console' or 'http'.")


def send_sms(*, to: str, message: str) -> None:
    get_sms_backend().send(to=to, message=message)
