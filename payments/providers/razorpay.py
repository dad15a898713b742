"""Razorpay: orders, payments and refunds over its REST API, and the two
signatures it uses.

- API: HTTPS with basic auth (key id / key secret), JSON bodies, amounts in
  paise. We use POST /v1/orders, GET /v1/payments/<id> and
  POST /v1/payments/<id>/refund (with X-Refund-Idempotency, so a retried
  refund is never paid twice). Any network, HTTP or parsing failure is a
  ProviderError raised before the caller writes anything.
- Checkout return: the browser hands us razorpay_order_id,
  razorpay_payment_id and razorpay_signature = HMAC-SHA256(order_id + "|" +
  payment_id, key secret), hex. A valid signature alone is not enough: the
  service also fetches the payment and checks it.
- Webhooks: X-Razorpay-Signature = HMAC-SHA256(raw body, webhook secret),
  hex; X-Razorpay-Event-Id names the event (the same id on every retry).

Standard library only (urllib, hmac, hashlib): the three calls we make do not
justify Razorpay's SDK and its dependencies. An empty secret never validates
anything, so an unconfigured deployment accepts no payment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from payments.providers.base import (
    PROVIDER_REFUSED,
    PROVIDER_UNREACHABLE,
    ProviderError,
    ProviderOrder,
    ProviderPayment,
    ProviderRefund,
    from_minor,
    to_minor,
)

logger = logging.getLogger(__name__)

# Razorpay ids are a prefix and base62 ("pay_29QQoUBi66xm2f"); anything else is
# refused before it goes into a URL path.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,64}$")
# An answer bigger than this is not one of the small JSON objects we asked for.
MAX_RESPONSE_BYTES = 1024 * 1024
# Razorpay's limit on an order's receipt.
RECEIPT_MAX_LENGTH = 40


def hmac_sha256_hex(message: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def checkout_signature(*, order_id: str, payment_id: str, secret: str) -> str:
    return hmac_sha256_hex(f"{order_id}|{payment_id}".encode(), secret)


def webhook_signature(*, body: bytes, secret: str) -> str:
    return hmac_sha256_hex(body, secret)


def _same(expected: str, given: str) -> bool:
    # Constant time, so the signature cannot be guessed byte by byte.
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _minor(entity: dict[str, Any], key: str) -> int:
    value = entity.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} is not a whole number of minor units")
    return value


def order_from_entity(entity: dict[str, Any]) -> ProviderOrder:
    """An order entity as Razorpay documents it; ValueError if it is not one."""
    currency = _text(entity.get("currency")).upper()
    return ProviderOrder(
        id=_required_id(entity.get("id")),
        amount=from_minor(_minor(entity, "amount"), currency),
        currency=currency,
        receipt=_text(entity.get("receipt")),
        status=_text(entity.get("status")),
    )


def payment_from_entity(entity: dict[str, Any]) -> ProviderPayment:
    """A payment entity as Razorpay documents it; ValueError if it is not one."""
    currency = _text(entity.get("currency")).upper()
    notes = entity.get("notes")
    return ProviderPayment(
        id=_required_id(entity.get("id")),
        order_id=_text(entity.get("order_id")),
        amount=from_minor(_minor(entity, "amount"), currency),
        currency=currency,
        status=_text(entity.get("status")),
        method=_text(entity.get("method")),
        error_code=_text(entity.get("error_code")),
        error_description=_text(entity.get("error_description")),
        created_at=_timestamp(entity.get("created_at")),
        notes=notes if isinstance(notes, dict) else {},
    )


def refund_from_entity(entity: dict[str, Any]) -> ProviderRefund:
    """A refund entity as Razorpay documents it; ValueError if it is not one."""
    currency = _text(entity.get("currency")).upper()
    return ProviderRefund(
        id=_required_id(entity.get("id")),
        payment_id=_text(entity.get("payment_id")),
        amount=from_minor(_minor(entity, "amount"), currency),
        currency=currency,
        status=_text(entity.get("status")),
        created_at=_timestamp(entity.get("created_at")),
    )


def _required_id(value: Any) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ValueError("missing or malformed id")
    return value


def _checked_id(value: str) -> str:
    if not ID_PATTERN.match(value or ""):
        raise ProviderError(PROVIDER_REFUSED.format(detail="that is not a Razorpay id."), code="bad_id")
    return value


class RazorpayProvider:
    name = "razorpay"
    online = True

    def __init__(
        self, *, key_id: str, key_secret: str, webhook_secret: str, api_base: str, timeout: float = 10.0
    ) -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> RazorpayProvider:
        return cls(
            key_id=settings.RAZORPAY_KEY_ID,
            key_secret=settings.RAZORPAY_KEY_SECRET,
            webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET,
            api_base=settings.RAZORPAY_API_BASE,
            timeout=settings.RAZORPAY_TIMEOUT,
        )

    # --- signatures ----------------------------------------------------------

    def checkout_signature_valid(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        if not (self.key_secret and order_id and payment_id and signature):
            return False
        expected = checkout_signature(order_id=order_id, payment_id=payment_id, secret=self.key_secret)
        return _same(expected, signature)

    def webhook_signature_valid(self, *, body: bytes, signature: str) -> bool:
        if not (self.webhook_secret and signature):
            return False
        return _same(webhook_signature(body=body, secret=self.webhook_secret), signature)

    # --- API -----------------------------------------------------------------

    def create_order(self, *, amount: Decimal, currency: str, receipt: str, notes: dict[str, str]) -> ProviderOrder:
        answer = self._call(
            "POST",
            "/v1/orders",
            {
                "amount": to_minor(amount, currency),
                "currency": currency,
                "receipt": receipt[:RECEIPT_MAX_LENGTH],
                "notes": notes,
            },
        )
        return self._parse(order_from_entity, answer)

    def fetch_payment(self, payment_id: str) -> ProviderPayment:
        answer = self._call("GET", f"/v1/payments/{_checked_id(payment_id)}")
        return self._parse(payment_from_entity, answer)

    def refund(
        self, *, payment_id: str, amount: Decimal, currency: str, idempotency_key: str, notes: dict[str, str]
    ) -> ProviderRefund:
        answer = self._call(
            "POST",
            f"/v1/payments/{_checked_id(payment_id)}/refund",
            {"amount": to_minor(amount, currency), "notes": notes},
            headers={"X-Refund-Idempotency": idempotency_key},
        )
        return self._parse(refund_from_entity, answer)

    def _parse(self, parse, answer: dict[str, Any]):
        try:
            return parse(answer)
        except ValueError as exc:
            logger.warning("Razorpay answered with an unexpected body: %s", exc)
            raise ProviderError(PROVIDER_UNREACHABLE, code="provider_bad_answer") from exc

    def _call(
        self, method: str, path: str, data: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        url = f"{self.api_base}{path}"
        # urllib also opens file:// and ftp:// URLs; only HTTP(S) may reach here.
        if not url.startswith(("https://", "http://")):
            raise ProviderError(PROVIDER_UNREACHABLE, code="provider_misconfigured")
        credentials = base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=json.dumps(data).encode() if data is not None else None,
            method=method,
            headers={
                "Authorization": f"Basic {credentials}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked above)
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = _error_description(exc)
            logger.warning("Razorpay %s %s answered %s: %s", method, path, exc.code, detail)
            raise ProviderError(PROVIDER_REFUSED.format(detail=detail), code="provider_refused") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            logger.warning("Razorpay %s %s failed: %s", method, path, exc)
            raise ProviderError(PROVIDER_UNREACHABLE, code="provider_unreachable") from exc
        try:
            if len(raw) > MAX_RESPONSE_BYTES:
                raise ValueError("answer too large")
            answer = json.loads(raw)
        except ValueError as exc:
            logger.warning("Razorpay %s %s answered with something that is not JSON", method, path)
            raise ProviderError(PROVIDER_UNREACHABLE, code="provider_bad_answer") from exc
        if not isinstance(answer, dict):
            raise ProviderError(PROVIDER_UNREACHABLE, code="provider_bad_answer")
        return answer


def _error_description(exc: urllib.error.HTTPError) -> str:
    """Razorpay's own words from an error answer ({"error": {"description": ...}}), or the status."""
    try:
        body = json.loads(exc.read(64 * 1024))
        description = body["error"]["description"]
        if isinstance(description, str) and description:
            return description[:200]
    except (ValueError, KeyError, TypeError, OSError):
        pass
    return f"HTTP {exc.code}"
