"""Websocket chat clients shared by bench.load and bench.faults.

A `RoomClient` behaves like the consultation room page (static/js/room.js) for
one participant: it connects with the user's session cookie and the site's
Origin, asks `resync {after: last id it has}` on every (re)connect, keeps
unacknowledged messages as "pending" (client_id -> text) and matches its own
messages that come back through resync by text, as the page's matchPending
does. The one thing it adds to the page is the user's retry: a pending message
that was not acknowledged when the socket dropped, or that was refused with an
`error` frame, is sent again (same text, new client_id) once the socket is back
and resync has shown it was not saved after all.

Every message text is unique: "<run id> <room>/<role> #<seq>", so the database
can be checked by text (`verify`), and a text's first send time gives the
delivery latency at the peer.

Django is configured in this process only for the ORM work before and after the
chat (creating rooms, counting rows), never while the event loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DOMAIN = "bench.dhanwantari.test"  # reserved TLD: never a real inbox
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {text}", file=sys.stderr, flush=True)


# --- Django (before and after the chat only) ----------------------------------------


def setup_django(database_url: str) -> None:
    """Configure Django in this process against `database_url` (once per process)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dhanwantari.settings")
    os.environ.setdefault("REDIS_URL", "")  # this process needs no channel layer
    django.setup()


@dataclass
class Room:
    index: int
    id: str
    patient: str
    doctor: str


def ensure_rooms(count: int, tag: str = "ws") -> list[Room]:
    """`count` in-progress chat consultations between bench patients and doctors; reused when present.

    Users are `bench-<tag>-<n>-patient@bench.dhanwantari.test` (and -doctor), one
    shared unusable password: the stack signs them in straight in the database.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from consultations.models import Consultation

    password = make_password(None)
    now = timezone.now()
    rooms: list[Room] = []
    mine = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", email__startswith=f"bench-{tag}-")
    existing = {u.email: u for u in mine}
    for n in range(count):
        with transaction.atomic():
            users = {}
            for role in (Role.PATIENT, Role.DOCTOR):
                email = f"bench-{tag}-{n:04d}-{role}@{BENCH_DOMAIN}"
                user = existing.get(email)
                if user is None:
                    user = User.objects.create(email=email, role=role, password=password, email_verified=True)
                users[role] = user
            consultation = (
                Consultation.objects.filter(
                    patient=users[Role.PATIENT], doctor=users[Role.DOCTOR], status="in_progress", mode="chat"
                )
                .order_by("created_at")
                .first()
            )
            if consultation is None:
                consultation = Consultation.objects.create(
                    patient=users[Role.PATIENT],
                    doctor=users[Role.DOCTOR],
                    mode="chat",
                    status="in_progress",
                    scheduled_at=now,
                    started_at=now,
                    chief_complaint="Load test",
                    fee_amount=0,
                    payment_status="not_required",
                )
        rooms.append(Room(n, consultation.pk, users[Role.PATIENT].pk, users[Role.DOCTOR].pk))
    return rooms


def sign_in_all(rooms: list[Room], database_url: str) -> dict[str, str]:
    """user id -> Cookie header, for every participant (one database connection)."""
    from bench.stack import _connect, cookie_header, sign_in

    conn = _connect(database_url)
    try:
        cookies = {}
        for room in rooms:
            for user in (room.patient, room.doctor):
                cookies[user] = cookie_header(sign_in(user, database_url, connection=conn))
        return cookies
    finally:
        conn.close()


def stored_counts(rooms: list[Room], prefix: str) -> dict[str, int]:
    """body -> number of rows in `messages` for this run's texts (GROUP BY body)."""
    from django.db import close_old_connections, connection

    close_old_connections()
    connection.close()  # after a database restart the old connection is dead
    ids = [r.id for r in rooms]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT body, COUNT(*) FROM messages WHERE consultation_id IN ({marks}) AND body LIKE %s "  # noqa: S608
                "GROUP BY body",
                [*part, prefix.replace("%", r"\%").replace("_", r"\_") + "%"],
            )
            for body, n in cursor.fetchall():
                counts[body] = n
    return counts


# --- the clients ---------------------------------------------------------------------


@dataclass
class Shared:
    """What all clients of a run share: first send times, by text."""

    run_id: str
    first_sent: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    stopping: bool = False


class RoomClient:
    def __init__(
        self,
        *,
        room: Room,
        role: str,
        cookie: str,
        origin: str,
        urls: list[str],
        shared: Shared,
        interval: float,
    ) -> None:
        self.room = room
        self.role = role
        self.me = room.patient if role == "patient" else room.doctor
        self.peer = room.doctor if role == "patient" else room.patient
        self.cookie = cookie
        self.origin = origin
        self.urls = urls  # ws:// bases: the first is this client's own, the others are tried in turn after a drop
        self.url_cycle = itertools.cycle(urls)
        self.shared = shared
        self.interval = interval
        self.tag = f"{room.index:04d}/{role[0]}"
        self.seq = 0
        self.ws = None
        self.ready = False  # connected and the reconnect's resync has finished
        self.ids: set[str] = set()  # message ids seen (echo, peer, resync)
        self.last_id: str | None = None
        self.sent: list[str] = []  # texts written, in order
        self.pending: OrderedDict[str, str] = OrderedDict()  # client_id -> text, sent, not acknowledged
        self.unsent: OrderedDict[str, None] = OrderedDict()  # texts to (re)send once ready
        self.acked: set[str] = set()
        self.received: set[str] = set()  # the peer's texts that reached this client
        self.received_live: set[str] = set()
        self.errors: dict[str, int] = {}
        self.connects = 0
        self.connect_failures = 0
        self.drops = 0
        self.resends = 0
        self.fatal: str | None = None
        self.url_used: str | None = None
        self._cid = itertools.count()

    # --- connection ---------------------------------------------------------------

    def path(self) -> str:
        return f"/ws/consultations/{self.room.id}/"

    async def run(self, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        attempt = 0
        while not stop.is_set() and self.fatal is None:
            base = next(self.url_cycle)
            try:
                async with connect(
                    base.rstrip("/") + self.path(),
                    origin=self.origin,
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=10,
                    ping_timeout=10,
                    compression=None,
                    max_size=2**22,
                    proxy=None,
                ) as ws:
                    self.ws = ws
                    self.url_used = base
                    self.connects += 1
                    attempt = 0
                    await self.resync()
                    closer = asyncio.ensure_future(stop.wait())
                    reader = asyncio.ensure_future(self.read(ws))
                    await asyncio.wait({closer, reader}, return_when=asyncio.FIRST_COMPLETED)
                    closer.cancel()
                    if not reader.done():
                        reader.cancel()
                        await ws.close()
                        return
                    reader.result()  # raises ConnectionClosed when the server dropped us
            except InvalidStatus as error:
                self.connect_failures += 1
                self._error(f"handshake {error.response.status_code}")
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as error:
                if self.ws is not None:
                    self.drops += 1
                    code = getattr(getattr(error, "rcvd", None), "code", None)
                    self._error(f"socket closed {code}" if code is not None else f"socket lost {type(error).__name__}")
                    if code in (CLOSE_UNAUTHENTICATED, CLOSE_NOT_FOUND):
                        self.fatal = f"closed with {code}"
                else:
                    self.connect_failures += 1
                    self._error(type(error).__name__)
            finally:
                self.ws = None
                self.ready = False
                # Sent but not acknowledged: the next resync says whether it was saved.
            if stop.is_set():
                return
            attempt += 1
            ceiling = min(2.0, 0.1 * 2**attempt)
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)

    async def send(self, frame: dict) -> None:
        ws = self.ws
        if ws is not None:
            await ws.send(json.dumps(frame))

    async def resync(self) -> None:
        """The page's reconnect: resync after the last id; `read` follows until complete, then retries."""
        await self.send({"type": "resync", "after": self.last_id})

    async def read(self, ws) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                self.on_message(frame["message"], frame.get("client_id"), live=True)
            elif kind == "resync":
                for message in frame["messages"]:
                    self.on_message(message, None, live=False)
                if frame.get("complete", True):
                    await self.after_resync()
                else:
                    await self.send({"type": "resync", "after": self.last_id})
            elif kind == "error":
                self._error(frame.get("code", "?"))
                client_id = frame.get("client_id")
                text = self.pending.pop(client_id, None) if client_id else None
                if text is not None and text not in self.acked:
                    # Refused: the page shows "Not sent"; the user sends it again.
                    self.unsent[text] = None
                    asyncio.get_running_loop().call_later(0.5 + random.random(), self._kick)
            elif kind == "readonly":
                self.fatal = f"readonly {frame.get('status')}"

    async def after_resync(self) -> None:
        # What is still pending was sent on a socket that dropped and did not
        # come back through resync: not saved, so the user retries it.
        for text in self.pending.values():
            if text not in self.acked:
                self.unsent[text] = None
        self.pending.clear()
        self.ready = True
        await self.flush()

    def _kick(self) -> None:
        if self.ready and self.unsent:
            asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        while self.ready and self.unsent:
            text, _ = self.unsent.popitem(last=False)
            if text in self.acked:
                continue
            self.resends += 1
            await self._send_text(text)

    async def _send_text(self, text: str) -> None:
        client_id = f"{self.tag}-{next(self._cid)}-{secrets.token_hex(3)}"
        self.pending[client_id] = text
        # A send on a dropping socket fails: the reconnect's resync decides.
        with contextlib.suppress(Exception):
            await self.send({"type": "message", "text": text, "client_id": client_id})

    def on_message(self, message: dict, client_id: str | None, *, live: bool) -> None:
        mid = message["id"]
        if mid in self.ids:
            return
        self.ids.add(mid)
        self.last_id = mid
        body = message.get("body") or ""
        if message.get("sender") == self.me:
            if client_id is not None and client_id in self.pending:
                self.acked.add(self.pending.pop(client_id))
            else:  # came back through resync (or an echo to another socket): match by text
                for cid, text in list(self.pending.items()):
                    if text == body:
                        del self.pending[cid]
                        break
                if body.startswith(self.shared.run_id):
                    self.acked.add(body)
                    self.unsent.pop(body, None)
        elif message.get("sender") == self.peer and body.startswith(self.shared.run_id) and body not in self.received:
            self.received.add(body)
            if live:
                self.received_live.add(body)
            sent_at = self.shared.first_sent.get(body)
            if sent_at is not None:
                self.shared.latencies.append(time.monotonic() - sent_at)

    # --- sending ------------------------------------------------------------------

    async def speak(self, until: float) -> None:
        """Write a new message every `interval` seconds (random phase) until `until` (monotonic)."""
        await asyncio.sleep(random.random() * self.interval)
        next_at = time.monotonic()
        while not self.shared.stopping and time.monotonic() < until and self.fatal is None:
            self.seq += 1
            text = f"{self.shared.run_id} {self.tag} #{self.seq}"
            self.sent.append(text)
            self.shared.first_sent[text] = time.monotonic()
            if self.ready:
                await self._send_text(text)
            else:  # offline: the page would keep it in the composer; send once back
                self.unsent[text] = None
            next_at += self.interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def _error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


def clients_for(
    rooms: list[Room], cookies: dict[str, str], *, origin: str, urls_for, shared: Shared, interval: float
) -> list[RoomClient]:
    """Two clients a room; `urls_for(i)` gives the ws:// bases client i may use, in order of preference."""
    clients = []
    for room in rooms:
        for role in ("patient", "doctor"):
            user = room.patient if role == "patient" else room.doctor
            i = len(clients)
            clients.append(
                RoomClient(
                    room=room,
                    role=role,
                    cookie=cookies[user],
                    origin=origin,
                    urls=urls_for(i),
                    shared=shared,
                    interval=interval,
                )
            )
    return clients


def peer_of(clients: list[RoomClient], client: RoomClient) -> RoomClient:
    i = clients.index(client)
    return clients[i + 1] if i % 2 == 0 else clients[i - 1]


def outstanding(clients: list[RoomClient]) -> tuple[int, int]:
    """(texts not yet acknowledged, texts not yet at the peer)."""
    unacked = undelivered = 0
    for i, c in enumerate(clients):
        peer = clients[i ^ 1]
        unacked += sum(1 for t in c.sent if t not in c.acked)
        undelivered += sum(1 for t in c.sent if t not in peer.received)
    return unacked, undelivered


async def wait_quiet(clients: list[RoomClient], timeout: float, *, final_resync: bool = True) -> None:
    """Until every text is acknowledged and at its peer, or `timeout`; then one last resync if needed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unacked, undelivered = outstanding(clients)
        if not unacked and not undelivered:
            return
        await asyncio.sleep(0.25)
    unacked, undelivered = outstanding(clients)
    say(f"not quiet after {timeout:.0f} s: {unacked} unacknowledged, {undelivered} not at the peer")
    if final_resync and undelivered:
        say("asking every connected client for a last resync")
        for c in clients:
            if c.ready:
                with contextlib.suppress(Exception):
                    await c.resync()
        await asyncio.sleep(5)


# --- the report ------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


@dataclass
class Verdict:
    sent: int
    acknowledged: int
    stored: int
    duplicates: int
    delivered: int
    delivered_live: int
    missing_in_db: list[str]
    acked_not_stored: list[str]
    not_delivered: list[str]
    duplicate_texts: list[str]
    resends: int
    drops: int
    connect_failures: int
    errors: dict[str, int]
    fatal: list[str]
    p50: float | None
    p99: float | None

    @property
    def lost(self) -> int:
        return len(set(self.missing_in_db) | set(self.not_delivered))

    @property
    def ok(self) -> bool:
        return not (self.missing_in_db or self.not_delivered or self.duplicate_texts or self.fatal)

    def lines(self) -> list[str]:
        out = [
            f"sent (distinct texts written)  {self.sent}",
            f"acknowledged (echo or resync)  {self.acknowledged}",
            f"stored (distinct, in messages) {self.stored}",
            f"duplicates (texts stored > 1)  {self.duplicates}",
            f"delivered to the peer          {self.delivered} ({self.delivered_live} live, "
            f"{self.delivered - self.delivered_live} through resync)",
            f"missing from the database      {len(self.missing_in_db)}",
            f"acknowledged but not stored    {len(self.acked_not_stored)}",
            f"not delivered to the peer      {len(self.not_delivered)}",
            f"lost                           {self.lost}",
            f"delivery latency p50 / p99     {ms(self.p50)} / {ms(self.p99)}",
            f"sent after reconnect or refusal {self.resends} (queued while offline, or retried)",
            f"socket drops / failed connects {self.drops} / {self.connect_failures}",
            f"error frames / failures        {dict(sorted(self.errors.items())) or '-'}",
        ]
        if self.fatal:
            out.append(f"clients stopped               {self.fatal[:5]}")
        for name, items in (
            ("missing from the database", self.missing_in_db),
            ("acknowledged but not stored", self.acked_not_stored),
            ("not delivered", self.not_delivered),
            ("stored more than once", self.duplicate_texts),
        ):
            if items:
                out.append(f"{name} (first 10): {sorted(items)[:10]}")
        out.append("RESULT: " + ("nothing lost, nothing duplicated" if self.ok else "FAILED"))
        return out


def verify(clients: list[RoomClient], rooms: list[Room], shared: Shared) -> Verdict:
    counts = stored_counts(rooms, shared.run_id + " ")
    sent = [t for c in clients for t in c.sent]
    sent_set = set(sent)
    acked = {t for c in clients for t in c.acked} & sent_set
    not_delivered = []
    delivered = delivered_live = 0
    for i, c in enumerate(clients):
        peer = clients[i ^ 1]
        for t in c.sent:
            if t in peer.received:
                delivered += 1
                delivered_live += t in peer.received_live
            else:
                not_delivered.append(t)
    errors: dict[str, int] = {}
    for c in clients:
        for k, v in c.errors.items():
            errors[k] = errors.get(k, 0) + v
    return Verdict(
        sent=len(sent_set),
        acknowledged=len(acked),
        stored=len(set(counts) & sent_set),
        duplicates=sum(1 for n in counts.values() if n > 1),
        delivered=delivered,
        delivered_live=delivered_live,
        missing_in_db=[t for t in sent_set if t not in counts],
        acked_not_stored=[t for t in acked if t not in counts],
        not_delivered=not_delivered,
        duplicate_texts=[t for t, n in counts.items() if n > 1],
        resends=sum(c.resends for c in clients),
        drops=sum(c.drops for c in clients),
        connect_failures=sum(c.connect_failures for c in clients),
        errors=errors,
        fatal=[f"{c.tag}: {c.fatal}" for c in clients if c.fatal],
        p50=percentile(shared.latencies, 50),
        p99=percentile(shared.latencies, 99),
    )


def new_run_id() -> str:
    return f"run-{time.strftime('%m%d%H%M%S')}-{secrets.token_hex(3)}"


# --- child processes (the fault scripts' own servers) -----------------------------------


class Child:
    """A server process this script started, in its own process group; stopped only by its pgid."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env, cwd=BASE_DIR
        )
        log.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        p = self.process
        if p is None:
            return
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, sig)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        self.process = None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def manage(args: list[str], database_url: str, timeout: float = 900) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def ensure_database(database_url: str) -> None:
    """Create the (dh_load*) database if missing and migrate it when it has no `messages` table."""
    import MySQLdb

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    conn = MySQLdb.connect(
        host=url.hostname or "127.0.0.1", port=url.port or 3306, user=url.username or "root", passwd=url.password or ""
    )
    try:
        cursor = conn.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'messages'", [name]
        )
        migrated = cursor.fetchone()[0] > 0
    finally:
        conn.close()
    if not migrated:
        say(f"migrating {name} (first use)")
        manage(["migrate", "--noinput", "-v0"], database_url)
