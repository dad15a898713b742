"""Sending text messages: the HTTP gateway backend against a real (fake) gateway
on 127.0.0.1, the console backend, and choosing between them by settings."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.sms import ConsoleSMSBackend, HttpSMSBackend, SMSError, get_sms_backend, send_sms

TOKEN = "gateway-token-123"


@dataclass
class FakeGateway:
    """An SMS gateway on a random free port that records what it is sent."""

    url: str
    status: int = 202
    delay: float = 0.0
    location: str = ""
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    state = FakeGateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "authorization": self.headers.get("Authorization"),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            time.sleep(state.delay)
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def do_GET(self) -> None:
            state.requests.append(
                {"method": "GET", "path": self.path, "authorization": self.headers.get("Authorization")}
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def backend_for(url: str, timeout: float = 2.0) -> HttpSMSBackend:
    return HttpSMSBackend(url=url, token=TOKEN, sender="DHNWTR", timeout=timeout)


def free_port() -> int:
    """A port nothing listens on: bound, noted, released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the HTTP gateway backend ------------------------------------------------------------


def test_the_gateway_gets_json_and_the_bearer_token(gateway):
    backend_for(gateway.url).send(to="+919812345678", message="Dhanwantari: Consultation in 1 hour")

    (request,) = gateway.requests
    assert request["path"] == "/v1/messages"
    assert request["content_type"] == "application/json"
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert request["json"] == {
        "to": "+919812345678",
        "sender": "DHNWTR",
        "message": "Dhanwantari: Consultation in 1 hour",
    }


def test_a_message_in_an_indian_script_arrives_intact(gateway):
    backend_for(gateway.url).send(to="+919812345678", message="धन्वंतरि: परामर्श एक घंटे में")

    assert gateway.requests[0]["json"]["message"] == "धन्वंतरि: परामर्श एक घंटे में"


@pytest.mark.parametrize("status", [500, 503, 400, 401])
def test_an_error_answer_raises_sms_error(gateway, status):
    gateway.status = status

    with pytest.raises(SMSError, match=f"answered {status}"):
        backend_for(gateway.url).send(to="+919812345678", message="Hello")

    assert len(gateway.requests) == 1


def test_an_unreachable_gateway_raises_sms_error():
    with pytest.raises(SMSError, match="unreachable"):
        backend_for(f"http://127.0.0.1:{free_port()}/v1/messages").send(to="+919812345678", message="Hello")


def test_a_gateway_that_does_not_answer_in_time_raises_sms_error(gateway):
    gateway.delay = 1.0

    started = time.monotonic()
    with pytest.raises(SMSError):
        backend_for(gateway.url, timeout=0.2).send(to="+919812345678", message="Hello")

    assert time.monotonic() - started < 0.9


def test_a_redirect_from_the_gateway_is_a_failure_and_does_not_carry_the_token(gateway):
    gateway.status = 302
    gateway.location = "/elsewhere"

    with pytest.raises(SMSError):
        backend_for(gateway.url).send(to="+919812345678", message="Hello")

    assert [r for r in gateway.requests if r["method"] == "GET"] == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://gateway.example/send", "gateway.example/send", "", "javascript:alert(1)"]
)
def test_a_gateway_url_that_is_not_http_is_refused(url):
    with pytest.raises(SMSError, match="http"):
        backend_for(url)


# --- choosing a backend -----------------------------------------------------------------


def test_the_http_backend_is_chosen_by_settings_and_configured_from_them(settings, gateway):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    settings.SMS_SENDER_ID = "DHANWN"
    settings.SMS_GATEWAY_TIMEOUT = 3.0

    backend = get_sms_backend()
    send_sms(to="+919812345678", message="Booked")

    assert isinstance(backend, HttpSMSBackend)
    assert backend.timeout == 3.0
    (request,) = gateway.requests
    assert request["authorization"] == f"Bearer {TOKEN}"
    assert request["json"]["sender"] == "DHANWN"


def test_the_console_backend_is_chosen_by_settings(settings):
    settings.SMS_BACKEND = "console"

    assert isinstance(get_sms_backend(), ConsoleSMSBackend)


def test_an_unknown_backend_name_is_refused(settings):
    settings.SMS_BACKEND = "carrier-pigeon"

    with pytest.raises(SMSError, match="carrier-pigeon"):
        get_sms_backend()
    with pytest.raises(SMSError):
        send_sms(to="+919812345678", message="Hello")


def test_the_console_backend_prints_the_message(settings, capsys):
    settings.SMS_BACKEND = "console"

    send_sms(to="+919812345678", message="Your code is 123456")

    assert capsys.readouterr().out == "[SMS to +919812345678] Your code is 123456\n"
