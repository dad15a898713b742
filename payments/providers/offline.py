"""The offline provider (the default): the patient pays the clinic, and the
doctor or our staff record the payment, and any refund, with a receipt number
(payments.services.payment_record_offline / refund_record_offline). Nothing
goes over the network, so every online operation is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NoReturn

from payments.providers.base import (
    PROVIDER_UNSUPPORTED,
    ProviderOrder,
    ProviderPayment,
    ProviderRefund,
    ProviderUnsupported,
)


class OfflineProvider:
    name = "offline"
    online = False

    def _unsupported(self) -> NoReturn:
        raise ProviderUnsupported(PROVIDER_UNSUPPORTED.format(provider=self.name), code="provider_unsupported")

    def create_order(self, *, amount: Decimal, currency: str, receipt: str, notes: dict[str, str]) -> ProviderOrder:
        self._unsupported()

    def fetch_payment(self, payment_id: str) -> ProviderPayment:
        self._unsupported()

    def refund(
        self, *, payment_id: str, amount: Decimal, currency: str, idempotency_key: str, notes: dict[str, str]
    ) -> ProviderRefund:
        self._unsupported()
