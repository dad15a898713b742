"""A fake Razorpay on loopback, for tests: the REST API we call, Checkout's
script, and signed webhooks.

    with FakeRazorpay() as fake:          # or the `fake_razorpay` pytest fixture
        fake.url                          # http://127.0.0.1:<random port>
        fake.checkout_js_url              # a stand-in for checkout.razorpay.com/v1/checkout.js

The API (basic auth with key_id / key_secret, JSON, amounts in paise):

    POST /v1/orders                  {amount, currency, receipt, notes} -> order
    GET  /v1/orders/<id>             -> order
    GET  /v1/payments/<id>           -> payment
    POST /v1/payments/<id>/refund    {amount, notes} (+ X-Refund-Idempotency) -> refund

Errors answer as Razorpay does: {"error": {"code": "BAD_REQUEST_ERROR",
"description": ...}} with 400 (401 for bad credentials). `fail_api_with = 503`
makes every API call fail that way.

`checkout.js` defines `window.Razorpay(options)` with `.on(event, fn)` and
`.open()`, which shows a small dialog with "Pay" and "Fail" buttons: Pay
creates a captured payment here and calls `options.handler` with a correctly
signed {razorpay_payment_id, razorpay_order_id, razorpay_signature}; Fail
creates a failed payment and calls the "payment.failed" handler with
Razorpay's error shape. Set `webhook_url` and the fake also posts the signed
webhooks Razorpay would (payment.captured + order.paid, or payment.failed)
before answering the browser.

Tests drive state directly too: `create_payment`, `process_refund`,
`event(...)` (a webhook envelope shaped like Razorpay's documented payloads),
`signed(...)` (body and headers) and `send_webhook(url, ...)`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_ALPHABET = string.ascii_letters + string.digits


def _id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(14))}"


def hmac_hex(message: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class RazorpayAPIError(Exception):
    def __init__(self, status: int, description: str, code: str = "BAD_REQUEST_ERROR") -> None:
        super().__init__(description)
        self.status, self.description, self.code = status, description, code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "description": self.description,
                "source": "business",
                "step": "payment_initiation",
                "reason": "input_validation_failed",
                "metadata": {},
            }
        }


class FakeRazorpay:
    def __init__(
        self,
        *,
        key_id: str = "rzp_test_fakekey0001",
        key_secret: str = "fake-key-secret-for-tests",  # noqa: S107 (a test fake's own secret)
        webhook_secret: str = "fake-webhook-secret-for-tests",  # noqa: S107
    ) -> None:
        self.key_id = key_id
        self.key_secret = key_secret
        self.webhook_secret = webhook_secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._refund_keys: dict[str, tuple[str, bytes]] = {}
        # (method, path) of every API call, in order.
        self.calls: list[tuple[str, str]] = []
        # The status new refunds answer with: "processed", or "pending" (then
        # `process_refund` finishes them, as Razorpay's refund.processed does).
        self.refund_status = "processed"
        # Answer every API call with this HTTP status (e.g. 503), or None.
        self.fail_api_with: int | None = None
        # Where the checkout dialog's Pay / Fail also send their webhooks, or None.
        self.webhook_url: str | None = None
        self.webhooks_sent: list[tuple[str, int]] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeRazorpay:
        fake = self

        class Handler(_Handler):
            gateway = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-razorpay", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeRazorpay:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def checkout_js_url(self) -> str:
        return f"{self.url}/v1/checkout.js"

    def settings(self) -> dict[str, Any]:
        """The Django settings that point the Razorpay provider here."""
        return {
            "PAYMENT_PROVIDER": "razorpay",
            "RAZORPAY_KEY_ID": self.key_id,
            "RAZORPAY_KEY_SECRET": self.key_secret,
            "RAZORPAY_WEBHOOK_SECRET": self.webhook_secret,
            "RAZORPAY_API_BASE": self.url,
            "RAZORPAY_CHECKOUT_JS": self.checkout_js_url,
            "RAZORPAY_TIMEOUT": 5.0,
        }

    # --- state --------------------------------------------------------------------------

    def create_order(self, *, amount: int, currency: str = "INR", receipt: str = "", notes=None) -> dict[str, Any]:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 100:
            raise RazorpayAPIError(400, "The amount must be atleast INR 1.00")
        if not isinstance(currency, str) or len(currency) != 3:
            raise RazorpayAPIError(400, "The currency provided is invalid.")
        order = {
            "id": _id("order"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": notes or {},
            "created_at": int(time.time()),
        }
        with self._lock:
            self.orders[order["id"]] = order
        return copy.deepcopy(order)

    def create_payment(
        self,
        order_id: str,
        *,
        status: str = "captured",
        amount: int | None = None,
        currency: str | None = None,
        error_description: str = "Your payment could not be completed as the bank declined it.",
    ) -> dict[str, Any]:
        """A payment attempt for an order, as the customer's side of Checkout would make it."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise RazorpayAPIError(400, "The id provided does not exist")
            failed = status == "failed"
            payment = {
                "id": _id("pay"),
                "entity": "payment",
                "amount": order["amount"] if amount is None else amount,
                "currency": currency or order["currency"],
                "status": status,
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": "upi",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": status == "captured",
                "description": "Consultation",
                "card_id": None,
                "bank": None,
                "wallet": None,
                "vpa": "patient@okfake",
                "email": "patient@example.test",
                "contact": "+919800000000",
                "notes": copy.deepcopy(order["notes"]),
                "fee": None if failed else 1180,
                "tax": None if failed else 180,
                "error_code": "BAD_REQUEST_ERROR" if failed else None,
                "error_description": error_description if failed else None,
                "error_source": "customer" if failed else None,
                "error_step": "payment_authorization" if failed else None,
                "error_reason": "payment_failed" if failed else None,
                "acquirer_data": {},
                "created_at": int(time.time()),
            }
            self.payments[payment["id"]] = payment
            order["attempts"] += 1
            if status == "captured":
                order["status"] = "paid"
                order["amount_paid"] = payment["amount"]
                order["amount_due"] = max(order["amount"] - payment["amount"], 0)
            else:
                order["status"] = "attempted"
            return copy.deepcopy(payment)

    def refund_payment(
        self, payment_id: str, *, amount: int | None = None, notes=None, idempotency_key: str = ""
    ) -> dict[str, Any]:
        with self._lock:
            request = json.dumps({"amount": amount, "notes": notes}, sort_keys=True).encode()
            if idempotency_key and idempotency_key in self._refund_keys:
                refund_id, first_request = self._refund_keys[idempotency_key]
                if first_request != request:
                    raise RazorpayAPIError(
                        400, "Different request with the same idempotency key has already been processed."
                    )
                return copy.deepcopy(self.refunds[refund_id])
            payment = self.payments.get(payment_id)
            if payment is None:
                raise RazorpayAPIError(400, "The id provided does not exist")
            if payment["status"] not in ("captured", "refunded"):
                raise RazorpayAPIError(400, "The payment has not been captured")
            left = payment["amount"] - payment["amount_refunded"]
            amount = left if amount is None else amount
            if not isinstance(amount, int) or amount < 100 or amount > left:
                raise RazorpayAPIError(400, "The refund amount provided is greater than amount captured")
            refund = {
                "id": _id("rfnd"),
                "entity": "refund",
                "amount": amount,
                "currency": payment["currency"],
                "payment_id": payment_id,
                "notes": notes or {},
                "receipt": None,
                "acquirer_data": {"arn": None},
                "created_at": int(time.time()),
                "batch_id": None,
                "status": self.refund_status,
                "speed_processed": "normal",
                "speed_requested": "normal",
            }
            self.refunds[refund["id"]] = refund
            payment["amount_refunded"] += amount
            full = payment["amount_refunded"] == payment["amount"]
            payment["refund_status"] = "full" if full else "partial"
            if full:
                payment["status"] = "refunded"
            if idempotency_key:
                self._refund_keys[idempotency_key] = (refund["id"], request)
            return copy.deepcopy(refund)

    def process_refund(self, refund_id: str, status: str = "processed") -> dict[str, Any]:
        """Finish a pending refund (as Razorpay does later), "processed" or "failed"."""
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"] = status
            return copy.deepcopy(refund)

    def sign_checkout(self, order_id: str, payment_id: str, *, secret: str | None = None) -> str:
        return hmac_hex(f"{order_id}|{payment_id}".encode(), secret or self.key_secret)

    def checkout_response(self, payment: dict[str, Any]) -> dict[str, str]:
        """What Checkout hands options.handler after a successful payment."""
        return {
            "razorpay_payment_id": payment["id"],
            "razorpay_order_id": payment["order_id"],
            "razorpay_signature": self.sign_checkout(payment["order_id"], payment["id"]),
        }

    # --- webhooks -----------------------------------------------------------------------

    def event(
        self,
        event_type: str,
        *,
        payment_id: str = "",
        refund_id: str = "",
        payment_changes: dict[str, Any] | None = None,
        refund_changes: dict[str, Any] | None = None,
        created_at: int | None = None,
    ) -> dict[str, Any]:
        """A webhook envelope as Razorpay documents it, from the fake's state.

        payment.* events carry the payment; order.paid the payment and the
        order; refund.* the refund and its payment. `*_changes` alter the
        entities sent (not the fake's state), for mismatch tests.
        """
        with self._lock:
            refund = copy.deepcopy(self.refunds[refund_id]) if refund_id else None
            payment_id = payment_id or (refund["payment_id"] if refund else "")
            payment = copy.deepcopy(self.payments[payment_id]) if payment_id else None
            order = copy.deepcopy(self.orders.get(payment["order_id"])) if payment and payment["order_id"] else None
        if refund is not None and event_type.startswith("refund."):
            refund["status"] = {"refund.processed": "processed", "refund.failed": "failed"}.get(
                event_type, refund["status"]
            )
        payment = {**payment, **(payment_changes or {})} if payment else None
        refund = {**refund, **(refund_changes or {})} if refund else None
        payload: dict[str, Any] = {}
        contains: list[str] = []
        if refund is not None:
            payload["refund"] = {"entity": refund}
            contains.append("refund")
        if payment is not None:
            payload["payment"] = {"entity": payment}
            contains.append("payment")
        if event_type == "order.paid" and order is not None:
            payload["order"] = {"entity": order}
            contains.append("order")
        return {
            "entity": "event",
            "account_id": "acc_FakeAccount0001",
            "event": event_type,
            "contains": contains,
            "payload": payload,
            "created_at": created_at or int(time.time()),
        }

    def signed(
        self, envelope: dict[str, Any] | bytes, *, event_id: str | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one webhook delivery (same event id on a retry: pass it)."""
        body = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": hmac_hex(body, secret or self.webhook_secret),
            "X-Razorpay-Event-Id": event_id or _id("evt"),
        }
        return body, headers

    def send_webhook(
        self, url: str, envelope: dict[str, Any] | bytes, *, event_id: str | None = None, secret: str | None = None
    ) -> tuple[int, bytes]:
        """POST one signed webhook to `url`; returns (status, body)."""
        body, headers = self.signed(envelope, event_id=event_id, secret=secret)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (test URL)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (test URL)
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read()
        self.webhooks_sent.append((json.loads(body).get("event", "?") if body else "?", status))
        return status, answer

    def _checkout_webhooks(self, events: list[str], payment_id: str) -> None:
        if self.webhook_url:
            for event_type in events:
                self.send_webhook(self.webhook_url, self.event(event_type, payment_id=payment_id))

    # --- HTTP ---------------------------------------------------------------------------

    def authorised(self, header: str) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        return hmac.compare_digest(header.encode(), expected.encode())


class _Handler(BaseHTTPRequestHandler):
    gateway: FakeRazorpay
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass

    # --- plumbing ---

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # Checkout's script runs on the site's origin and calls back here.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode())

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise RazorpayAPIError(400, "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RazorpayAPIError(400, "The request body is not valid JSON")
        return data

    def _handle(self, method: str) -> None:
        gateway = self.gateway
        path = self.path.split("?", 1)[0]
        try:
            if path == "/v1/checkout.js" and method == "GET":
                self._send(200, CHECKOUT_JS.encode(), "application/javascript; charset=utf-8")
                return
            if path.startswith("/checkout/") and method == "POST":
                self._json(200, self._checkout(path.removeprefix("/checkout/")))
                return
            if not path.startswith("/v1/"):
                raise RazorpayAPIError(404, "The requested URL was not found on the server.")
            gateway.calls.append((method, path))
            if gateway.fail_api_with:
                raise RazorpayAPIError(gateway.fail_api_with, "Service unavailable", code="SERVER_ERROR")
            if not gateway.authorised(self.headers.get("Authorization", "")):
                raise RazorpayAPIError(401, "Authentication failed")
            self._json(200, self._api(method, path.removeprefix("/v1/").strip("/").split("/")))
        except RazorpayAPIError as exc:
            self._json(exc.status, exc.body())

    def _api(self, method: str, parts: list[str]) -> dict[str, Any]:
        gateway = self.gateway
        if method == "POST" and parts == ["orders"]:
            data = self._body()
            return gateway.create_order(
                amount=data.get("amount"),
                currency=data.get("currency", "INR"),
                receipt=data.get("receipt", ""),
                notes=data.get("notes"),
            )
        if method == "GET" and len(parts) == 2 and parts[0] == "orders":
            with gateway._lock:
                if parts[1] not in gateway.orders:
                    raise RazorpayAPIError(400, "The id provided does not exist")
                return copy.deepcopy(gateway.orders[parts[1]])
        if method == "GET" and len(parts) == 2 and parts[0] == "payments":
            with gateway._lock:
                if parts[1] not in gateway.payments:
                    raise RazorpayAPIError(400, "The id provided does not exist")
                return copy.deepcopy(gateway.payments[parts[1]])
        if method == "POST" and len(parts) == 3 and parts[0] == "payments" and parts[2] == "refund":
            data = self._body()
            return gateway.refund_payment(
                parts[1],
                amount=data.get("amount"),
                notes=data.get("notes"),
                idempotency_key=self.headers.get("X-Refund-Idempotency", ""),
            )
        raise RazorpayAPIError(400, "The requested URL was not found on the server.")

    def _checkout(self, action: str) -> dict[str, Any]:
        """The customer's side of Checkout (called by the fake checkout.js)."""
        gateway = self.gateway
        data = self._body()
        if data.get("key") != gateway.key_id:
            raise RazorpayAPIError(400, "The api key provided is invalid")
        order_id = data.get("order_id", "")
        with gateway._lock:
            order = gateway.orders.get(order_id)
            if order is None:
                raise RazorpayAPIError(400, "The id provided does not exist")
            if data.get("amount") not in (None, order["amount"]):
                raise RazorpayAPIError(400, "The amount does not match the order")
        if action == "pay":
            payment = gateway.create_payment(order_id, status="captured")
            gateway._checkout_webhooks(["payment.captured", "order.paid"], payment["id"])
            return gateway.checkout_response(payment)
        if action == "fail":
            payment = gateway.create_payment(order_id, status="failed")
            gateway._checkout_webhooks(["payment.failed"], payment["id"])
            return {
                "error": {
                    "code": payment["error_code"],
                    "description": payment["error_description"],
                    "source": payment["error_source"],
                    "step": payment["error_step"],
                    "reason": payment["error_reason"],
                    "metadata": {"order_id": order_id, "payment_id": payment["id"]},
                }
            }
        raise RazorpayAPIError(404, "The requested URL was not found on the server.")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_OPTIONS(self) -> None:
        self._send(204, b"")


# The stand-in for Razorpay's checkout.js. Styled through the CSSOM (el.style),
# which a Content-Security-Policy without 'unsafe-inline' still allows.
CHECKOUT_JS = r"""
(function () {
  "use strict";
  var base = new URL(document.currentScript.src).origin;

  function css(el, rules) {
    Object.keys(rules).forEach(function (k) { el.style[k] = rules[k]; });
    return el;
  }

  function Razorpay(options) {
    if (!(this instanceof Razorpay)) return new Razorpay(options);
    if (!options || !options.key || !options.order_id) throw new Error("Razorpay: key and order_id are required");
    this.options = options;
    this.handlers = {};
    this.overlay = null;
  }

  Razorpay.prototype.on = function (name, callback) {
    this.handlers[name] = callback;
    return this;
  };

  Razorpay.prototype.close = function () {
    if (this.overlay) this.overlay.remove();
    this.overlay = null;
  };

  Razorpay.prototype._call = function (action) {
    var self = this;
    var o = self.options;
    // text/plain keeps this a "simple" cross-origin request (no preflight).
    return fetch(base + "/checkout/" + action, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ key: o.key, order_id: o.order_id, amount: o.amount }),
    }).then(function (r) { return r.json(); });
  };

  Razorpay.prototype.open = function () {
    var self = this;
    var o = self.options;
    var overlay = css(document.createElement("div"), {
      position: "fixed", inset: "0", background: "rgba(0,0,0,0.5)", display: "flex",
      alignItems: "center", justifyContent: "center", zIndex: "2147483647",
    });
    var box = css(document.createElement("div"), {
      background: "#fff", color: "#111", padding: "1.5rem", borderRadius: "12px",
      width: "min(90vw, 22rem)", fontFamily: "system-ui, sans-serif", display: "flex",
      flexDirection: "column", gap: "0.75rem",
    });
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Razorpay test checkout");
    var title = document.createElement("p");
    title.textContent = "Razorpay (test) · " + (o.name || "");
    var what = document.createElement("p");
    var amount = (Number(o.amount) / 100).toFixed(2);
    what.textContent = (o.description || "Payment") + ": " + (o.currency || "INR") + " " + amount;
    var pay = document.createElement("button");
    pay.type = "button";
    pay.textContent = "Pay";
    var fail = document.createElement("button");
    fail.type = "button";
    fail.textContent = "Fail";
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "Close";
    [pay, fail, dismiss].forEach(function (b) { css(b, { minHeight: "44px", fontSize: "1rem" }); });
    box.append(title, what, pay, fail, dismiss);
    overlay.append(box);
    document.body.append(overlay);
    self.overlay = overlay;

    pay.addEventListener("click", function () {
      pay.disabled = fail.disabled = true;
      self._call("pay").then(function (answer) {
        self.close();
        if (answer.error) {
          if (self.handlers["payment.failed"]) self.handlers["payment.failed"](answer);
        } else if (typeof o.handler === "function") {
          o.handler(answer);
        }
      });
    });
    fail.addEventListener("click", function () {
      pay.disabled = fail.disabled = true;
      self._call("fail").then(function (answer) {
        self.close();
        if (self.handlers["payment.failed"]) self.handlers["payment.failed"](answer);
      });
    });
    dismiss.addEventListener("click", function () {
      self.close();
      if (o.modal && typeof o.modal.ondismiss === "function") o.modal.ondismiss();
    });
  };

  window.Razorpay = Razorpay;
})();
"""


@pytest.fixture
def fake_razorpay(settings):
    """A running FakeRazorpay, with the RAZORPAY_* settings (and PAYMENT_PROVIDER) pointing at it."""
    with FakeRazorpay() as fake:
        for name, value in fake.settings().items():
            setattr(settings, name, value)
        yield fake
