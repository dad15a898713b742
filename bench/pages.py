"""Key pages under load (wrk through the Stack), each beside the bare one-query page.

For every page: req/s and latency p50/p99 from `wrk --latency` as a signed-in user
(a session made with stack.sign_in), the ratio of its req/s to the bare page's in the
same run, and its SQL query count (all queries of one request, session and user
included), counted in a Django subprocess with django.test.Client and
CaptureQueriesContext against the same database.

The pages and their users are picked from the database (bench.pages.pick_targets):
the busiest patient, doctor, room and inbox, so a bigger data set shows up here.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import subprocess
import sys
from collections import Counter
from urllib.parse import urlparse

from bench.stack import Stack, _connect, cookie_header, sign_in

WRK = "/usr/bin/wrk"


@dataclasses.dataclass
class Target:
    name: str
    path: str
    user_id: str


@dataclasses.dataclass
class PageResult:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    errors: int = 0
    queries: int | None = None
    ratio: float | None = None
    status: int | None = None


def _one(cursor, sql: str, params=()) -> tuple | None:
    cursor.execute(sql, params)
    return cursor.fetchone()


def pick_targets(database_url: str) -> list[Target]:
    """The pages to load and who views each, chosen from the data (the heaviest users)."""
    conn = _connect(database_url)
    try:
        c = conn.cursor()
        rows = []
        c.execute(
            "SELECT id, user_id, specializations, consultation_modes FROM doctor_profiles"
            " WHERE verification_status = 'verified' AND deleted_at IS NULL ORDER BY rating_count DESC LIMIT 500"
        )
        doctors = c.fetchall()
        if not doctors:
            raise RuntimeError("no verified doctors in the database: generate or seed data first")
        specs = Counter(s for d in doctors for s in json.loads(d[2] or "[]"))
        spec = specs.most_common(1)[0][0] if specs else ""
        patient = _one(
            c,
            "SELECT c.patient_id FROM consultations c JOIN users u ON u.id = c.patient_id"
            " WHERE u.deleted_at IS NULL AND u.is_active GROUP BY c.patient_id ORDER BY COUNT(*) DESC LIMIT 1",
        )
        doctor = _one(
            c,
            "SELECT c.doctor_id FROM consultations c JOIN users u ON u.id = c.doctor_id"
            " WHERE c.doctor_id IS NOT NULL AND u.deleted_at IS NULL AND u.is_active"
            " GROUP BY c.doctor_id ORDER BY COUNT(*) DESC LIMIT 1",
        )
        room = _one(
            c,
            "SELECT m.consultation_id, c.patient_id FROM messages m JOIN consultations c ON c.id = m.consultation_id"
            " WHERE c.doctor_id IS NOT NULL AND c.deleted_at IS NULL"
            " GROUP BY m.consultation_id, c.patient_id ORDER BY COUNT(*) DESC LIMIT 1",
        )
        inbox = _one(
            c,
            "SELECT n.user_id FROM notifications n JOIN users u ON u.id = n.user_id"
            " WHERE u.deleted_at IS NULL AND u.is_active GROUP BY n.user_id ORDER BY COUNT(*) DESC LIMIT 1",
        )
        rx = _one(
            c,
            "SELECT id, patient_id FROM prescriptions WHERE status = 'issued' AND deleted_at IS NULL"
            " ORDER BY issued_at DESC LIMIT 1",
        )
        if not (patient and doctor and room and inbox and rx):
            raise RuntimeError("the database lacks consultations, messages, notifications or issued prescriptions")
        rows = [
            Target("bare page (1 query)", "/bench/bare/", patient[0]),
            Target("directory search", f"/doctors/?specialization={spec}&mode=video", patient[0]),
            Target("doctor profile", f"/doctors/{doctors[0][0]}/", patient[0]),
            Target("patient dashboard", "/dashboard/", patient[0]),
            Target("doctor dashboard", "/dashboard/", doctor[0]),
            Target("consultation room", f"/consultations/{room[0]}/room/", room[1]),
            Target("notification centre", "/notifications/", inbox[0]),
            Target("prescription PDF", f"/prescriptions/{rx[0]}/pdf/", rx[1]),
        ]
        return rows
    finally:
        conn.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def run_wrk(url: str, cookie: str, *, duration: float, connections: int, threads: int) -> dict:
    argv = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if result.returncode:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}")
    return parse_wrk(result.stdout)


def probe(base_url: str, path: str, cookie: str) -> int:
    """One GET without following redirects: a 302 to the sign-in page means the session did not work."""
    url = urlparse(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def measure(
    stack: Stack, targets: list[Target], *, duration: float = 10, connections: int = 16, threads: int = 2
) -> list[PageResult]:
    results = []
    conn = _connect(stack.database_url)
    try:
        cookies = {t.user_id: cookie_header(sign_in(t.user_id, stack.database_url, connection=conn)) for t in targets}
    finally:
        conn.close()
    for target in targets:
        cookie = cookies[target.user_id]
        status = probe(stack.base_url, target.path, cookie)
        if status != 200:
            print(f"[pages] warning: {target.name} {target.path} answered {status}", file=sys.stderr)
        # A short warm-up (imports, templates, connections), then the measured run.
        run_wrk(stack.base_url + target.path, cookie, duration=1, connections=2, threads=1)
        numbers = run_wrk(
            stack.base_url + target.path, cookie, duration=duration, connections=connections, threads=threads
        )
        results.append(PageResult(target.name, target.path, status=status, **numbers))
        print(f"[pages] {target.name}: {numbers['rps']:.0f} req/s p50 {numbers['p50_ms']:.1f} ms", file=sys.stderr)
    bare = results[0].rps or 1.0
    for r in results:
        r.ratio = r.rps / bare
    return results


def query_counts(stack: Stack, targets: list[Target]) -> dict[str, int]:
    """SQL queries of one request per page, counted in a Django process on the same database."""
    payload = json.dumps([dataclasses.asdict(t) for t in targets])
    last = stack.run_module(
        ["bench.pages", "--count-queries"], what="counting queries", payload=payload, test_client=True, timeout=600
    )
    return json.loads(last)


def _count_queries_main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dhanwantari.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    targets = [Target(**t) for t in json.loads(sys.stdin.read())]
    counts: dict[str, int] = {}
    clients: dict[str, Client] = {}
    for t in targets:
        client = clients.get(t.user_id)
        if client is None:
            client = clients[t.user_id] = Client()
            client.force_login(get_user_model().objects.get(pk=t.user_id))
        client.get(t.path)  # warm: the first request of a session may write it once
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(t.path)
        if response.status_code != 200:
            print(f"{t.name}: status {response.status_code}", file=sys.stderr)
        counts[t.name] = len(ctx.captured_queries)
        if os.environ.get("BENCH_SHOW_SQL"):
            for q in ctx.captured_queries:
                print(f"  {t.name}: {q['sql'][:300]}", file=sys.stderr)
    print(json.dumps(counts))


if __name__ == "__main__":
    if "--count-queries" in sys.argv:
        _count_queries_main()
