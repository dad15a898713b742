"""Payment providers behind one interface (payments.providers.base.PaymentProvider).

`active_provider()` is the one settings.PAYMENT_PROVIDER names; services ask
for a provider by name when an event or a refund belongs to a given one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from payments.providers.base import PaymentProvider, ProviderError, ProviderUnsupported

__all__ = ["PaymentProvider", "ProviderError", "ProviderUnsupported", "active_provider", "provider_for"]

NAMES = ("offline", "razorpay")


def provider_for(name: str) -> PaymentProvider:
    """A provider by name, configured from settings (read on every call, so tests can point it elsewhere)."""
    if name == "offline":
        from payments.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "razorpay":
        from payments.providers.razorpay import RazorpayProvider

        return RazorpayProvider.from_settings()
    raise ImproperlyConfigured(f"Unknown payment provider {name!r}; choose one of {', '.join(NAMES)}.")


def active_provider() -> PaymentProvider:
    return provider_for(settings.PAYMENT_PROVIDER)
