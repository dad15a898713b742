"""The chat consumer under load, beside the bare insert-and-relay consumer.

N rooms (in-progress doctor-led chat consultations, created in the bench database if
there are too few, marked chief_complaint="bench room"), two sockets per room (the
patient's and the doctor's, through the Stack's nginx with the session cookie and an
allowed Origin). Ping-pong: the patient sends, the doctor receives and replies, the
patient receives: one round trip, two messages, each saved (one INSERT at least).

- fixed rate: round trips spread evenly so the rooms together send `rate` messages/s;
- saturation: every room keeps one round trip in flight, as fast as it goes.

Our consumer also rechecks the room and the user per frame, marks delivery and sends
receipts: that is the cost being compared. Its rate limits are lifted for the run
(ROOM_* settings through the Stack's env).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import sys
import time

from websockets.asyncio.client import connect

from bench.stack import Stack, _connect, cookie_header, sign_in

# Lift the room's per-socket rate limits for the benchmark (settings.ROOM_*).
UNLIMITED = {
    "ROOM_MESSAGES_PER_MINUTE": "100000000",
    "ROOM_MESSAGES_BURST": "100000000",
    "ROOM_FRAMES_PER_MINUTE": "100000000",
    "ROOM_FRAMES_BURST": "100000000",
}


@dataclasses.dataclass
class ChatResult:
    consumer: str
    layer: str
    mode: str
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    round_trips: int
    errors: int = 0
    ratio: float | None = None
    # Per message, over the run: CPU of the daphne process(es) and SQL statements
    # MariaDB executed (its global Questions counter, so with nothing else running).
    cpu_ms_per_msg: float | None = None
    sql_per_msg: float | None = None


def prepare_rooms(stack: Stack, n: int) -> list[tuple[str, str, str]]:
    """(consultation id, patient id, doctor id) of n in-progress doctor-led chat rooms."""
    last = stack.run_module(["bench.chat", "--prepare-rooms", str(n)], what="preparing rooms", timeout=300)
    return [tuple(r) for r in json.loads(last)]


def _prepare_rooms_main(n: int) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dhanwantari.settings")
    import django

    django.setup()
    from django.utils import timezone

    from consultations.models import Consultation, ConsultationType, Mode, Status

    rooms = list(
        Consultation.objects.filter(chief_complaint="bench room", status=Status.IN_PROGRESS, mode=Mode.CHAT)
        .exclude(consultation_type=ConsultationType.AI)
        .values_list("id", "patient_id", "doctor_id")[:n]
    )
    if len(rooms) < n:
        template = (
            Consultation.objects.exclude(consultation_type=ConsultationType.AI)
            .filter(doctor__isnull=False, patient__is_active=True, doctor__is_active=True)
            .order_by("created_at")
            .first()
        )
        pairs = list(
            Consultation.objects.exclude(consultation_type=ConsultationType.AI)
            .filter(doctor__isnull=False, patient__is_active=True, doctor__is_active=True)
            .values_list("patient_id", "doctor_id")
            .distinct()[: n * 2]
        )
        now = timezone.now()
        fields = {
            f.attname: getattr(template, f.attname) for f in Consultation._meta.concrete_fields if not f.primary_key
        }
        new = []
        for _i, (patient_id, doctor_id) in zip(range(n - len(rooms)), itertools.cycle(pairs), strict=False):
            values = {
                **fields,
                "patient_id": patient_id,
                "doctor_id": doctor_id,
                "status": Status.IN_PROGRESS,
                "mode": Mode.CHAT,
                "chief_complaint": "bench room",
                "scheduled_at": now,
                "started_at": now,
                "ended_at": None,
                "cancelled_at": None,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
            values.pop("id", None)
            new.append(Consultation(**values))
        Consultation.objects.bulk_create(new)
        rooms += [(c.id, c.patient_id, c.doctor_id) for c in new]
    print(json.dumps(rooms[:n]))


class Socket:
    def __init__(self, ws, kind: str, user_id: str) -> None:
        self.ws = ws
        self.kind = kind
        self.user_id = user_id

    async def next_text(self) -> str:
        """The next message from the other side (our consumer: frames of other types are skipped)."""
        while True:
            raw = await self.ws.recv()
            if self.kind == "bare":
                return raw
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame["message"].get("sender") != self.user_id:
                return frame["message"]["body"]
            if frame.get("type") == "error":
                raise RuntimeError(f"error frame: {frame}")

    async def send(self, text: str, seq: int) -> None:
        if self.kind == "bare":
            await self.ws.send(text)
        else:
            await self.ws.send(json.dumps({"type": "message", "text": text, "client_id": f"c{seq}"}))


async def _open(url: str, origin: str, cookie: str, kind: str, user_id: str) -> Socket:
    ws = await connect(
        url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=30, max_queue=None, ping_interval=None
    )
    return Socket(ws, kind, user_id)


async def _run(
    stack: Stack, rooms, cookies, kind: str, *, rate: float | None, duration: float
) -> tuple[list[float], int]:
    base = stack.ws_urls[0]
    pairs = []
    for cid, patient, doctor in rooms:
        path = f"/ws/bench/{cid}/" if kind == "bare" else f"/ws/consultations/{cid}/"
        a = await _open(base + path, stack.origin, cookies[patient], kind, patient)
        b = await _open(base + path, stack.origin, cookies[doctor], kind, doctor)
        pairs.append((a, b))
    await asyncio.sleep(0.5)  # presence frames settle
    rtts: list[float] = []
    errors = 0
    stop_at = time.monotonic() + duration
    interval = (2 * len(pairs) / rate) if rate else 0.0

    async def room(i: int, a: Socket, b: Socket) -> None:
        nonlocal errors
        seq = 0
        next_at = time.monotonic() + (interval * i / len(pairs) if interval else 0)
        while True:
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            if time.monotonic() >= stop_at:
                return
            seq += 1
            start = time.monotonic()
            try:
                await a.send(f"ping {i}.{seq}", seq)
                await asyncio.wait_for(b.next_text(), 30)
                await b.send(f"pong {i}.{seq}", seq)
                await asyncio.wait_for(a.next_text(), 30)
            except (TimeoutError, RuntimeError) as exc:
                errors += 1
                print(f"[chat] room {i}: {exc}", file=sys.stderr)
                return
            rtts.append((time.monotonic() - start) * 1000)

    await asyncio.gather(*(room(i, a, b) for i, (a, b) in enumerate(pairs)))
    for a, b in pairs:
        await a.ws.close()
        await b.ws.close()
    return rtts, errors


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def daphne_cpu_seconds(stack: Stack) -> float:
    """User + system CPU the stack's daphne processes have used so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for index in range(stack.daphne_processes):
        pid = stack.daphne_pid(index)
        if pid is None:
            continue
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def statements_so_far(database_url: str) -> int:
    """MariaDB's count of statements run by all clients (SHOW GLOBAL STATUS 'Questions')."""
    conn = _connect(database_url)
    try:
        cursor = conn.cursor()
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])
    finally:
        conn.close()


def clear_rooms(database_url: str, room_ids: list[str]) -> None:
    """Delete the bench rooms' messages and their 'new message' notifications.

    Run before and after measuring, so the chat runs do not pile thousands of
    unread messages on the users whose pages the page benchmark loads next time.
    """
    if not room_ids:
        return
    conn = _connect(database_url)
    try:
        marks = ", ".join(["%s"] * len(room_ids))
        cursor = conn.cursor()
        # Only the %s placeholders are formatted in; the ids travel as parameters.
        cursor.execute(f"DELETE FROM messages WHERE consultation_id IN ({marks})", room_ids)  # noqa: S608
        ntf = f"kind = 'message_received' AND JSON_UNQUOTE(JSON_EXTRACT(data, '$.consultation_id')) IN ({marks})"
        cursor.execute(f"DELETE FROM notifications WHERE {ntf}", room_ids)  # noqa: S608
        conn.commit()
    finally:
        conn.close()


def measure(
    stack: Stack, *, rooms: int = 50, duration: float = 10, rate: float = 100, consumers=("bare", "ours")
) -> list[ChatResult]:
    room_rows = prepare_rooms(stack, rooms)
    room_ids = [r[0] for r in room_rows]
    clear_rooms(stack.database_url, room_ids)
    conn = _connect(stack.database_url)
    try:
        users = {u for _, p, d in room_rows for u in (p, d)}
        cookies = {u: cookie_header(sign_in(u, stack.database_url, connection=conn)) for u in users}
    finally:
        conn.close()
    results = []
    for mode, fixed in (("fixed rate", rate), ("saturation", None)):
        for kind in consumers:
            cpu_before, sql_before = daphne_cpu_seconds(stack), statements_so_far(stack.database_url)
            rtts, errors = asyncio.run(_run(stack, room_rows, cookies, kind, rate=fixed, duration=duration))
            cpu, sql = daphne_cpu_seconds(stack) - cpu_before, statements_so_far(stack.database_url) - sql_before
            label = f"{mode} ({fixed:g} msg/s)" if fixed else mode
            sent = max(1, 2 * len(rtts))
            r = ChatResult(
                consumer="bare insert-and-relay" if kind == "bare" else "ConsultationConsumer",
                layer=stack.channel_layer,
                mode=label,
                msgs_per_s=2 * len(rtts) / duration,
                p50_ms=_pct(rtts, 50),
                p99_ms=_pct(rtts, 99),
                round_trips=len(rtts),
                errors=errors,
                cpu_ms_per_msg=cpu * 1000 / sent,
                sql_per_msg=sql / sent,
            )
            results.append(r)
            print(
                f"[chat] {stack.channel_layer} {label} {r.consumer}: {r.msgs_per_s:.0f} msg/s"
                f" p50 {r.p50_ms:.1f} ms p99 {r.p99_ms:.1f} ms, daphne {r.cpu_ms_per_msg:.2f} ms CPU and"
                f" {r.sql_per_msg:.1f} SQL statements per message, errors {errors}",
                file=sys.stderr,
            )
    clear_rooms(stack.database_url, room_ids)
    for r in results:
        bare = next(x for x in results if x.mode == r.mode and x.consumer.startswith("bare"))
        r.ratio = r.msgs_per_s / bare.msgs_per_s if bare.msgs_per_s else None
    return results


if __name__ == "__main__":
    if "--prepare-rooms" in sys.argv:
        _prepare_rooms_main(int(sys.argv[sys.argv.index("--prepare-rooms") + 1]))
