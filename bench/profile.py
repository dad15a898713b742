"""Where a page's time goes: each key page profiled in one Django process, one request at a time.

    python -m bench.profile < targets.json      (bench.run calls profile_pages)

For every target: a warm-up, then `--requests` requests timed without the
profiler (ms per request, no concurrency, so no queueing), then the same
requests under cProfile, whose own time per function is summed into buckets:

- sql: Django's ORM and the MySQL driver (building queries, waiting for
  MariaDB, turning rows into objects);
- templates: the template engine, its tags and filters, escaping, date and
  number formatting (django.template, templatetags, utils.html/formats/dateformat);
- request: the handler, middleware, sessions, auth, CSRF, allauth;
- urls: resolving and reversing URLs;
- pdf: ReportLab and the QR code (the prescription PDF);
- app: our own code outside templates (views, queries, services);
- harness: the test client driving the requests (not part of serving a page);
- other: what is left (standard library code not called from any of the above).

Builtins and standard-library functions (getattr, copy, datetime, ...) take the
bucket of the code that called them, caller by caller, so "templates" includes
the getattr calls made while resolving template variables.

cProfile's overhead inflates cheap, frequent calls, so the shares are a guide to
where to look, not a stopwatch; the ms column is measured without it.
"""

from __future__ import annotations

import cProfile
import dataclasses
import json
import os
import pstats
import sys
import time

from bench.stack import BASE_DIR, Stack

BUCKETS = ("sql", "templates", "request", "urls", "pdf", "app", "harness", "other")

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "templates",
        (
            "/django/template/",
            "/templatetags/",
            "/django/utils/html",
            "/django/utils/safestring",
            "/django/utils/formats",
            "/django/utils/dateformat",
            "/django/utils/numberformat",
            "/django/utils/timezone",
            "/django/utils/translation",
        ),
    ),
    ("sql", ("/django/db/", "/MySQLdb/", "/sqlite3/")),
    (
        "request",
        (
            "/django/core/handlers/",
            "/django/middleware/",
            "/django/contrib/sessions/",
            "/django/contrib/auth/",
            "/django/contrib/messages/",
            "/allauth/",
            "/csp/",
            "/django/http/",
            "middleware.py",
        ),
    ),
    ("urls", ("/django/urls/",)),
    ("pdf", ("/reportlab/", "/qrcode/", "/PIL/")),
    ("harness", ("/django/test/", "/bench/profile.py")),
)


def bucket_of(filename: str, function: str) -> str:
    """The bucket of a function by where it lives; "other" for builtins and the standard library."""
    if filename == "~":  # builtins: the driver's C calls are SQL, the rest belongs to their callers
        return "sql" if "_mysql" in function or "Connection.query" in function else "other"
    for name, needles in _RULES:
        if any(n in filename for n in needles):
            return name
    if filename.startswith(str(BASE_DIR)) and "/.venv/" not in filename:
        return "app"
    return "other"


def shares(stats: pstats.Stats) -> dict[str, float]:
    """Own time summed by bucket; an "other" function's time goes to its callers' buckets."""
    table = stats.stats  # type: ignore[attr-defined]
    totals = dict.fromkeys(BUCKETS, 0.0)

    def spread(key, own: float, depth: int) -> None:
        filename, _line, function = key
        bucket = bucket_of(filename, function)
        callers = table.get(key, (0, 0, 0, 0, {}))[4]
        if bucket != "other" or depth > 4 or not callers:
            totals[bucket] += own
            return
        whole = sum(c[2] for c in callers.values()) or 1.0
        for caller, (_cc, _nc, caller_own, _ct) in callers.items():
            spread(caller, own * caller_own / whole, depth + 1)

    for key, (_cc, _nc, own, _cum, _callers) in table.items():
        if own:
            spread(key, own, 0)
    whole = sum(totals.values()) or 1.0
    return {k: v / whole for k, v in totals.items()}


def profile_pages(stack: Stack, targets: list, *, requests: int = 20) -> dict[str, dict]:
    """{page name: {"ms": per request, "shares": {bucket: fraction}}} from a subprocess on the stack's database."""
    payload = json.dumps({"targets": [dataclasses.asdict(t) for t in targets], "requests": requests})
    return json.loads(
        stack.run_module(["bench.profile"], what="profiling", payload=payload, test_client=True, timeout=900)
    )


def _main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dhanwantari.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    payload = json.loads(sys.stdin.read())
    n = payload["requests"]
    out: dict[str, dict] = {}
    for t in payload["targets"]:
        client = Client()
        client.force_login(get_user_model().objects.get(pk=t["user_id"]))
        for _ in range(3):
            response = client.get(t["path"])
        if response.status_code != 200:
            print(f"{t['name']}: status {response.status_code}", file=sys.stderr)
        start = time.perf_counter()
        for _ in range(n):
            client.get(t["path"])
        ms = (time.perf_counter() - start) / n * 1000
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            client.get(t["path"])
        profiler.disable()
        out[t["name"]] = {"ms": ms, "shares": shares(pstats.Stats(profiler))}
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
