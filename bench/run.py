"""One command for the whole benchmark: `make bench` (or `python -m bench.run ...`).

Starts the production topology (bench.stack.Stack: nginx, gunicorn, daphne, Redis
channel layer) on the bench database, loads the key pages and the bare page with wrk
(bench.pages), the chat consumer and the bare consumer on both channel layers
(bench.chat), and prints markdown tables, also written to bench/results/latest.md.
With --compare-database-url (e.g. the demo data) the pages' query counts and p50 are
measured there too and set side by side: cost must not grow with the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys

from bench import chat, pages, profile
from bench.stack import BASE_DIR, Stack, _connect

RESULTS = BASE_DIR / "bench" / "results"


def db_empty(database_url: str) -> bool:
    try:
        conn = _connect(database_url)
    except Exception:
        return True
    try:
        c = conn.cursor()
        c.execute("SHOW TABLES LIKE 'users'")
        if c.fetchone() is None:
            return True
        c.execute("SELECT COUNT(*) FROM users")
        return c.fetchone()[0] == 0
    finally:
        conn.close()


def prepare_db(database_url: str, *, scale: float | None, demo: bool) -> None:
    """Create, migrate and fill the database if it has no users."""
    if not db_empty(database_url):
        return
    from urllib.parse import urlparse

    name = urlparse(database_url).path.lstrip("/")
    conn = _connect(database_url.rsplit("/", 1)[0] + "/mysql")
    try:
        conn.cursor().execute(
            f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    finally:
        conn.close()
    env = Stack(database_url=database_url, redis_url="", nginx=False, quiet=True).process_env()
    env.pop("STATIC_ROOT", None)

    def manage(*args: str) -> None:
        print(f"[run] manage.py {' '.join(args)} on {name}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)

    manage("migrate", "--noinput", "-v0")
    if demo:
        manage("seed_demo", "--force")
    else:
        manage("generate_load_data", "--scale", str(scale or 1), "--force")


def fmt(x: float | None, digits: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:,.{digits}f}"


def pages_table(results: list[pages.PageResult]) -> str:
    lines = [
        "| page | req/s | p50 ms | p99 ms | ratio to bare | SQL queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        flag = f" (HTTP {r.status})" if r.status != 200 else ""
        flag += f" ({r.non_2xx} non-2xx)" if r.non_2xx else ""
        lines.append(
            f"| {r.name}{flag} | {fmt(r.rps, 0)} | {fmt(r.p50_ms)} | {fmt(r.p99_ms)} | {fmt(r.ratio, 2)} |"
            f" {r.queries if r.queries is not None else '–'} |"
        )
    return "\n".join(lines)


def chat_table(results: list[chat.ChatResult]) -> str:
    lines = [
        "| layer | load | consumer | msg/s | RTT p50 ms | RTT p99 ms | ratio to bare | daphne CPU ms/msg |"
        " SQL statements/msg | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.layer} | {r.mode} | {r.consumer} | {fmt(r.msgs_per_s, 0)} | {fmt(r.p50_ms)} | {fmt(r.p99_ms)} |"
            f" {fmt(r.ratio, 2)} | {fmt(r.cpu_ms_per_msg, 2)} | {fmt(r.sql_per_msg, 1)} | {r.errors} |"
        )
    return "\n".join(lines)


def compare_table(small: list[pages.PageResult], big: list[pages.PageResult], small_name: str, big_name: str) -> str:
    lines = [
        f"| page | queries ({small_name}) | queries ({big_name}) | p50 ms ({small_name}) | p50 ms ({big_name}) |"
        " p50 growth |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    by_name = {r.name: r for r in small}
    for r in big:
        s = by_name.get(r.name)
        if s is None:
            continue
        growth = (r.p50_ms / s.p50_ms - 1) * 100 if s.p50_ms else float("nan")
        lines.append(
            f"| {r.name} | {s.queries} | {r.queries} | {fmt(s.p50_ms)} | {fmt(r.p50_ms)} | {fmt(growth, 0)}% |"
        )
    return "\n".join(lines)


def profile_table(profiles: dict[str, dict]) -> str:
    names = profile.BUCKETS
    lines = [
        "| page | ms per request | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for page, p in profiles.items():
        cells = " | ".join(f"{p['shares'][k] * 100:.0f}%" for k in names)
        lines.append(f"| {page} | {fmt(p['ms'])} | {cells} |")
    return "\n".join(lines)


def run_pages(stack: Stack, args, *, with_profile: bool = False) -> tuple[list[pages.PageResult], dict[str, dict]]:
    targets = pages.pick_targets(stack.database_url)
    results = pages.measure(stack, targets, duration=args.duration, connections=args.connections, threads=args.threads)
    counts = pages.query_counts(stack, targets)
    for r in results:
        r.queries = counts.get(r.name)
    profiles = profile.profile_pages(stack, targets) if with_profile else {}
    return results, profiles


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", "mysql://root:@127.0.0.1:3306/dh_bench")
    )
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"))
    p.add_argument("--scale", type=float, default=1.0, help="generate_load_data --scale, if the database is empty")
    p.add_argument("--demo", action="store_true", help="fill an empty --database-url with seed_demo instead")
    p.add_argument(
        "--compare-database-url",
        default=os.environ.get("BENCH_COMPARE_DATABASE_URL", ""),
        help="a second database (e.g. demo data, seeded if empty) for the pages' two-sizes table",
    )
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run and per chat run")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--rooms", type=int, default=50)
    p.add_argument("--rate", type=float, default=100, help="messages/s for the fixed-rate chat run")
    p.add_argument("--layers", default="redis,pubsub")
    p.add_argument("--no-nginx", action="store_true")
    p.add_argument("--skip-pages", action="store_true")
    p.add_argument("--skip-chat", action="store_true")
    p.add_argument("--base-port", type=int, default=18000)
    p.add_argument("--output", default=str(RESULTS / "latest.md"))
    args = p.parse_args(argv)

    prepare_db(args.database_url, scale=args.scale, demo=args.demo)
    if args.compare_database_url:
        prepare_db(args.compare_database_url, scale=None, demo=True)

    layers = [x.strip() for x in args.layers.split(",") if x.strip()]
    common = {
        "redis_url": args.redis_url,
        "gunicorn_workers": args.gunicorn_workers,
        "nginx": not args.no_nginx,
        "base_port": args.base_port,
        "env": chat.UNLIMITED,
    }
    page_results: list[pages.PageResult] = []
    profiles: dict[str, dict] = {}
    compare_results: list[pages.PageResult] = []
    chat_results: list[chat.ChatResult] = []
    notes: list[str] = []
    for i, layer in enumerate(layers):
        with Stack(database_url=args.database_url, channel_layer=layer, **common) as stack:
            notes += [n for n in stack.notes if n not in notes and "stack up" not in n]
            topology = (
                f"nginx → gunicorn ({args.gunicorn_workers} sync workers) for pages, daphne for /ws/"
                if stack.nginx
                else f"gunicorn ({args.gunicorn_workers} sync workers) directly, daphne for /ws/ (no nginx)"
            )
            if i == 0 and not args.skip_pages:
                page_results, profiles = run_pages(stack, args, with_profile=True)
            if not args.skip_chat:
                chat_results += chat.measure(stack, rooms=args.rooms, duration=args.duration, rate=args.rate)
    if args.compare_database_url and not args.skip_pages:
        with Stack(database_url=args.compare_database_url, **common) as stack:
            compare_results, _ = run_pages(stack, args)

    cores = os.cpu_count()
    out = [
        f"# Benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{cores} cores; {topology}; wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s on loopback;"
        f" database `{args.database_url.rsplit('/', 1)[-1]}`.",
    ]
    out += [f"\nNote: {n}" for n in notes]
    if page_results:
        out += ["", "## Pages", "", pages_table(page_results)]
    if profiles:
        out += [
            "",
            "## Where the time goes",
            "",
            "One request at a time in one Django process on the same database (no queueing), then"
            " the same requests under cProfile, own time summed by kind (bench/profile.py says what each"
            " column holds).",
            "",
            profile_table(profiles),
        ]
    if chat_results:
        out += [
            "",
            f"## Chat ({args.rooms} rooms, ping-pong, {args.duration:g} s per run)",
            "",
            chat_table(chat_results),
        ]
    if compare_results and page_results:
        small = args.compare_database_url.rsplit("/", 1)[-1]
        big = args.database_url.rsplit("/", 1)[-1]
        out += ["", "## Two data sizes", "", compare_table(compare_results, page_results, small, big)]
    text = "\n".join(out) + "\n"
    print(text)
    path = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(f"[run] written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
