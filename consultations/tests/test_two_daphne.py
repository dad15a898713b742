"""Two daphne processes sharing one Redis deliver each other's room traffic.

The patient's socket is on one process and the doctor's on the other; a
message, its receipts and typing must cross between them through the Redis
channel layer, and the message must be the row both processes' database holds.

Runs only where the real pieces are: REDIS_URL set and a MySQL/MariaDB test
database (the CI run); on SQLite the daphne processes could not share the test
database, so it skips. The processes are given the pytest test database's
URL, so they read the users, sessions and consultation this test creates
(hence transaction=True: the rows must be committed).

Client: the `websockets` library (RoomClient below), sending the session
cookie and an allowed Origin like a browser would.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from consultations.models import Message
from consultations.tests.factories import ConsultationFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL), as in the CI run"),
]

BASE_DIR = Path(settings.BASE_DIR)
DAPHNE = Path(sys.executable).with_name("daphne")
ORIGIN = "http://localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    return f"mysql://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def two_daphnes(tmp_path):
    if connection.vendor != "mysql":
        pytest.skip("needs a MySQL/MariaDB test database the daphne processes can share")
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "dhanwantari.settings",
    }
    processes, ports = [], []
    for name in ("a", "b"):
        port = free_port()
        log = (tmp_path / f"daphne-{name}.log").open("wb")
        processes.append(
            subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "dhanwantari.asgi:application"],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        ports.append(port)
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process, tmp_path)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_port(port: int, process: subprocess.Popen, tmp_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("daphne-*.log"))
            pytest.fail(f"daphne exited with {process.returncode}:\n{logs}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"daphne did not listen on port {port} within 30 s")


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class RoomClient:
    """A browser-like room socket (session cookie, allowed Origin) from the
    `websockets` library, its frames queued as JSON.

    Not autobahn's asyncio client: once channels.testing (the consumer tests)
    is imported, txaio pins autobahn to Twisted for the whole process.
    """

    def __init__(self, connection) -> None:
        self.connection = connection
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._read_frames())

    @classmethod
    async def open(cls, port: int, path: str, cookie: str) -> RoomClient:
        connection = await connect(
            f"ws://127.0.0.1:{port}{path}", origin=ORIGIN, additional_headers={"Cookie": cookie}, open_timeout=10
        )
        return cls(connection)

    def send(self, frame: dict) -> None:
        asyncio.get_running_loop().create_task(self.connection.send(json.dumps(frame)))

    async def _read_frames(self) -> None:
        try:
            async for text in self.connection:
                self.inbox.put_nowait(json.loads(text))
        except ConnectionClosed:
            pass
        self.inbox.put_nowait({"type": "_closed", "code": self.connection.close_code})

    async def close(self) -> None:
        await self.connection.close()
        self.task.cancel()


async def next_frame(client: RoomClient, kind: str, *, where=lambda f: True) -> dict:
    while True:
        frame = await asyncio.wait_for(client.inbox.get(), 10)
        if frame["type"] == "_closed":
            raise AssertionError(f"socket closed: {frame['code']}")
        if frame["type"] == kind and where(frame):
            return frame


def test_message_receipts_and_typing_cross_between_two_daphne_processes(two_daphnes):
    port_a, port_b = two_daphnes
    consultation = ConsultationFactory(status="in_progress")
    patient_cookie, doctor_cookie = session_cookie(consultation.patient), session_cookie(consultation.doctor)

    async def scenario():
        room = f"/ws/consultations/{consultation.pk}/"
        patient = await RoomClient.open(port_a, room, patient_cookie)
        doctor = await RoomClient.open(port_b, room, doctor_cookie)
        # Presence crossed A <- B: the doctor's arrival reached the patient.
        arrived = await next_frame(patient, "presence")

        patient.send({"type": "message", "text": "Namaste, the headache is back", "client_id": "p1"})
        received = await next_frame(doctor, "message")
        delivered = await next_frame(patient, "receipt", where=lambda f: "delivered_at" in f)

        doctor.send({"type": "typing", "active": True})
        typing = await next_frame(patient, "typing")

        doctor.send({"type": "read", "up_to": received["message"]["id"]})
        read = await next_frame(patient, "receipt", where=lambda f: "read_at" in f)

        doctor.send({"type": "message", "text": "Since when?"})
        reply = await next_frame(patient, "message", where=lambda f: f["message"]["sender"] != consultation.patient.pk)

        await patient.close()
        await doctor.close()
        return arrived, received, delivered, typing, read, reply

    arrived, received, delivered, typing, read, reply = asyncio.run(scenario())

    first = Message.objects.get(sender=consultation.patient)
    assert arrived["user"] == consultation.doctor.pk and arrived["online"]
    assert received["message"]["id"] == first.pk
    assert received["message"]["body"] == first.body == "Namaste, the headache is back"
    assert delivered["ids"] == [first.pk]
    assert typing == {"type": "typing", "user": consultation.doctor.pk, "role": "doctor", "active": True}
    assert read["ids"] == [first.pk]
    assert reply["message"]["id"] == Message.objects.get(sender=consultation.doctor).pk
    first.refresh_from_db()
    assert first.delivered_at is not None and first.read_at is not None
