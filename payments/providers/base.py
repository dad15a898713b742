"""What every payment provider offers, in our own terms (Decimal amounts,
our currency codes), so services never handle a provider's wire format.

Amounts cross the wire in the currency's smallest unit (paise for INR);
`to_minor` / `from_minor` are the only conversions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError

PROVIDER_UNREACHABLE = "The payment provider could not be reached. Nothing was charged or changed; please try again."
PROVIDER_REFUSED = "The payment provider refused the request: {detail}"
PROVIDER_UNSUPPORTED = "The {provider} provider does not take online payments; the clinic records them."

# ISO 4217 exponents that are not 2 (the currencies Razorpay lists as zero- or
# three-decimal). Every other currency has 100 minor units.
_EXPONENTS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "JOD": 3,
    "KWD": 3,
    "OMR": 3,
    "TND": 3,
}


class ProviderError(ValidationError):
    """A provider call failed (network, timeout, HTTP error, unreadable answer).

    Raised before anything of ours is written: a caller that gets it has
    changed nothing.
    """


class ProviderUnsupported(ProviderError):
    """The provider has no such operation (the offline provider takes no online payments)."""


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal rupees -> integer paise (or the currency's own minor unit); exact or ValueError."""
    minor = amount * (10 ** _EXPONENTS.get(currency.upper(), 2))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units.")
    return int(minor)


def from_minor(value: int, currency: str) -> Decimal:
    exponent = _EXPONENTS.get(currency.upper(), 2)
    return (Decimal(value) / (10**exponent)).quantize(Decimal(1).scaleb(-exponent))


@dataclass(frozen=True)
class ProviderOrder:
    id: str
    amount: Decimal
    currency: str
    receipt: str = ""
    status: str = ""


@dataclass(frozen=True)
class ProviderPayment:
    id: str
    order_id: str
    amount: Decimal
    currency: str
    # created, authorized, captured, refunded, failed (Razorpay's words).
    status: str
    method: str = ""
    error_code: str = ""
    error_description: str = ""
    created_at: datetime | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        # "authorized" counts: the account captures automatically (see README),
        # and a payment authorised then auto-refunded arrives as a refund event.
        return self.status in ("captured", "authorized")


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    payment_id: str
    amount: Decimal
    currency: str
    # pending, processed, failed.
    status: str
    created_at: datetime | None = None


class PaymentProvider(Protocol):
    """One payment provider. `online` providers take payments on our pay page."""

    name: str
    online: bool

    def create_order(self, *, amount: Decimal, currency: str, receipt: str, notes: dict[str, str]) -> ProviderOrder: ...

    def fetch_payment(self, payment_id: str) -> ProviderPayment: ...

    def refund(
        self, *, payment_id: str, amount: Decimal, currency: str, idempotency_key: str, notes: dict[str, str]
    ) -> ProviderRefund: ...
