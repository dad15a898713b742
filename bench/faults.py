"""Fault tests of the consultation room: a server goes away mid-chat, nothing is lost.

    python -m bench.faults mariadb|redis|daphne|all [--rooms 10 --seconds 60 --outage 5]

- mariadb: a PRIVATE MariaDB (its own datadir in a temp dir, port 13306) gets the
  schema (`manage.py migrate`), the stack runs against it, and mid-chat mariadbd
  is stopped (SIGTERM) for `--outage` seconds and started again.
- redis: a PRIVATE redis-server (port 16379, no persistence) is the channel layer
  of a stack with two daphne processes; mid-chat it is stopped and started again
  (empty: every group membership is gone).
- daphne: a stack with two daphne processes, clients connected straight to them
  half and half; mid-chat daphne 0 is killed (SIGKILL) and its clients go to the other.

The redis and daphne scenarios use `--database-url` (default a `dh_load_faults`
database on the shared MariaDB, created and migrated if missing); mariadb and
daphne use `--redis-url` (default db 13 of the shared Redis).

Clients behave like the room page (bench._clients): on a drop they reconnect,
resync after the last message they have and send again what was refused or not
saved. At the end every message written must be in `messages` exactly once and
have reached the other participant; each scenario prints sent, acknowledged,
stored, duplicates, delivered and lost, and the exit status is 1 on any loss.

Each scenario starts and stops only its own processes (servers in their own
process groups, stopped by group id; the stack stops its own children).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._clients import (
    BASE_DIR,
    Child,
    Shared,
    clients_for,
    ensure_database,
    ensure_rooms,
    new_run_id,
    say,
    setup_django,
    sign_in_all,
    verify,
    wait_quiet,
)
from bench.load import limits_env

SCENARIOS = ("mariadb", "redis", "daphne")
MARIADB_PORT = 13306
REDIS_PORT = 16379


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=(*SCENARIOS, "all"))
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1:3306/dh_load_faults")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--channel-layer", choices=("redis", "pubsub"), default="pubsub")
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="chat duration; the fault comes at a third")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the server stays down")
    parser.add_argument("--rate", type=float, default=10.0, help="messages a second, all clients together")
    parser.add_argument("--quiet-timeout", type=float, default=60.0)
    parser.add_argument("--keep-tmp", action="store_true", help="keep the scenario's temp dir (logs, datadir)")
    return parser.parse_args(argv)


# --- helpers ------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    """Nothing listens on the port (a connect test: a bind test fails on TIME_WAIT left by our own last run)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


def wait_port(port: int, child: Child, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.running():
            raise RuntimeError(f"{child.name} exited before listening on {port}:\n{child.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not listen on {port} within {timeout:.0f} s:\n{child.tail()}")


# --- the chat, with a fault in the middle ----------------------------------------------------


async def chat_with_fault(clients, *, seconds: float, fault, quiet_timeout: float, shared: Shared) -> list[str]:
    """Chat for `seconds`; at a third, run `fault()` in a thread (it blocks while the server is down)."""
    timeline: list[str] = []
    stop = asyncio.Event()
    runners = [asyncio.ensure_future(c.run(stop)) for c in clients]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(c.ready or c.fatal for c in clients):
        await asyncio.sleep(0.1)
    say(f"{sum(c.ready for c in clients)}/{len(clients)} clients connected; chatting for {seconds:.0f} s")
    started = time.monotonic()
    speakers = [asyncio.ensure_future(c.speak(started + seconds)) for c in clients]
    await asyncio.sleep(seconds / 3)

    def note(text: str) -> None:
        sent = sum(len(c.sent) for c in clients)
        acked = sum(len(c.acked) for c in clients)
        connected = sum(c.ready for c in clients)
        line = f"t={time.monotonic() - started:5.1f}s {text} (sent {sent}, acknowledged {acked}, {connected} connected)"
        timeline.append(line)
        say(line)

    await asyncio.to_thread(fault, note)
    await asyncio.gather(*speakers)
    note("writing stopped; waiting for quiet")
    await wait_quiet(clients, quiet_timeout)
    note("quiet")
    shared.stopping = True
    stop.set()
    await asyncio.gather(*runners, return_exceptions=True)
    return timeline


def run_chat(stack, rooms, args, *, fault, urls_for, title: str, database_url: str) -> int:
    shared = Shared(run_id=new_run_id())
    cookies = sign_in_all(rooms, database_url)
    interval = 2 * len(rooms) / args.rate
    clients = clients_for(rooms, cookies, origin=stack.origin, urls_for=urls_for, shared=shared, interval=interval)
    say(f"run {shared.run_id}: {len(clients)} clients, {args.rate:g} msg/s in all")
    timeline = asyncio.run(
        chat_with_fault(clients, seconds=args.seconds, fault=fault, quiet_timeout=args.quiet_timeout, shared=shared)
    )
    verdict = verify(clients, rooms, shared)
    print(f"\n## Fault: {title} ({shared.run_id})\n")
    print(
        f"{len(clients)} clients in {len(rooms)} rooms, {args.seconds:.0f} s at {args.rate:g} msg/s,"
        f" {args.channel_layer} channel layer\n"
    )
    print("```")
    print("\n".join(timeline))
    print("\n".join(verdict.lines()))
    print("```", flush=True)
    return 0 if verdict.ok else 1


# --- scenarios ---------------------------------------------------------------------------------


def mariadb_argv(tmp: Path) -> list[str]:
    argv = [
        shutil.which("mariadbd") or "/usr/sbin/mariadbd",
        "--no-defaults",
        f"--datadir={tmp / 'data'}",
        f"--port={MARIADB_PORT}",
        "--bind-address=127.0.0.1",
        f"--socket={tmp / 'mysqld.sock'}",
        f"--pid-file={tmp / 'mysqld.pid'}",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
    ]
    if os.geteuid() == 0:
        argv.append("--user=root")
    return argv


def scenario_mariadb(args: argparse.Namespace, tmp: Path) -> int:
    from bench.stack import Stack

    if not port_free(MARIADB_PORT):
        raise RuntimeError(f"port {MARIADB_PORT} is busy: another private MariaDB? (this script never stops it)")
    install = [
        shutil.which("mariadb-install-db") or shutil.which("mysql_install_db") or "mariadb-install-db",
        "--no-defaults",
        f"--datadir={tmp / 'data'}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
    ]
    if os.geteuid() == 0:
        install.append("--user=root")
    say("initialising a private MariaDB datadir")
    result = subprocess.run(install, capture_output=True, text=True, timeout=300)
    if result.returncode:
        raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    server = Child("mariadbd", mariadb_argv(tmp), tmp / "mariadbd.log")
    database_url = f"mysql://root@127.0.0.1:{MARIADB_PORT}/dh_load_faults"
    try:
        server.start()
        wait_port(MARIADB_PORT, server)
        say(f"private MariaDB up on {MARIADB_PORT} (pid {server.process.pid}); migrating")
        # The chat needs no time-zone tables (they matter only to CONVERT_TZ in some
        # reports), so mysql_tzinfo_to_sql is not loaded here.
        ensure_database(database_url)
        setup_django(database_url)
        rooms = ensure_rooms(args.rooms, tag="faults")

        def fault(note) -> None:
            note(f"stopping mariadbd (SIGTERM) for {args.outage:g} s")
            server.stop()
            note("mariadbd stopped")
            time.sleep(args.outage)
            server.start()
            wait_port(MARIADB_PORT, server)
            note("mariadbd started again")

        with Stack(
            database_url=database_url,
            redis_url=args.redis_url,
            daphne_processes=2,
            channel_layer=args.channel_layer,
            env=limits_env(args.rate / (2 * args.rooms)),
            base_port=18200,
        ) as stack:
            return run_chat(
                stack,
                rooms,
                args,
                fault=fault,
                urls_for=lambda i: stack.ws_urls[:1],
                title="MariaDB restarted mid-chat",
                database_url=database_url,
            )
    finally:
        server.stop()


def scenario_redis(args: argparse.Namespace, tmp: Path) -> int:
    from bench.stack import Stack

    if not port_free(REDIS_PORT):
        raise RuntimeError(f"port {REDIS_PORT} is busy: another private redis-server? (this script never stops it)")
    argv = [
        shutil.which("redis-server") or "redis-server",
        "--port",
        str(REDIS_PORT),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        str(tmp),
    ]
    server = Child("redis-server", argv, tmp / "redis.log")
    redis_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
    try:
        server.start()
        wait_port(REDIS_PORT, server)
        say(f"private Redis up on {REDIS_PORT} (pid {server.process.pid})")
        ensure_database(args.database_url)
        setup_django(args.database_url)
        rooms = ensure_rooms(args.rooms, tag="faults")

        def fault(note) -> None:
            note(f"stopping redis-server (SIGTERM) for {args.outage:g} s")
            server.stop()
            note("redis-server stopped")
            time.sleep(args.outage)
            server.start()
            wait_port(REDIS_PORT, server)
            note("redis-server started again (empty)")

        with Stack(
            database_url=args.database_url,
            redis_url=redis_url,
            daphne_processes=2,
            channel_layer=args.channel_layer,
            env=limits_env(args.rate / (2 * args.rooms)),
            base_port=18300,
        ) as stack:
            return run_chat(
                stack,
                rooms,
                args,
                fault=fault,
                urls_for=lambda i: stack.ws_urls[:1],
                title="Redis restarted mid-chat",
                database_url=args.database_url,
            )
    finally:
        server.stop()


def scenario_daphne(args: argparse.Namespace, tmp: Path) -> int:
    from bench.stack import Stack

    ensure_database(args.database_url)
    setup_django(args.database_url)
    rooms = ensure_rooms(args.rooms, tag="faults")
    with Stack(
        database_url=args.database_url,
        redis_url=args.redis_url,
        daphne_processes=2,
        channel_layer=args.channel_layer,
        env=limits_env(args.rate / (2 * args.rooms)),
        base_port=18400,
    ) as stack:
        urls = stack.daphne_ws_urls

        def urls_for(i: int) -> list[str]:
            # Client i prefers daphne i % 2 (so each room has a participant on each,
            # half the time) and falls back to the other.
            first = i % 2 if (i // 2) % 2 == 0 else (i + 1) % 2
            return [urls[first], urls[1 - first]]

        def fault(note) -> None:
            note(f"killing daphne 0 (SIGKILL, pid {stack.daphne_pid(0)})")
            stack.kill_daphne(0)
            note("daphne 0 killed; not restarted")

        return run_chat(
            stack,
            rooms,
            args,
            fault=fault,
            urls_for=urls_for,
            title="one of two daphne processes killed",
            database_url=args.database_url,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scenario == "all":
        # One process per scenario: each configures Django for its own database.
        passthrough = [
            f"--database-url={args.database_url}",
            f"--redis-url={args.redis_url}",
            f"--rooms={args.rooms}",
            f"--seconds={args.seconds}",
            f"--outage={args.outage}",
            f"--rate={args.rate}",
            f"--quiet-timeout={args.quiet_timeout}",
            *(["--keep-tmp"] if args.keep_tmp else []),
        ]
        failed = []
        for name in SCENARIOS:
            rc = subprocess.run([sys.executable, "-m", "bench.faults", name, *passthrough], cwd=BASE_DIR).returncode
            if rc:
                failed.append(f"{name} (exit {rc})")
        print(f"\nfault tests: {'FAILED: ' + ', '.join(failed) if failed else 'all passed, nothing lost'}")
        return 1 if failed else 0
    tmp = Path(tempfile.mkdtemp(prefix=f"dh-faults-{args.scenario}-"))
    if args.keep_tmp:
        os.environ["BENCH_KEEP_TMP"] = "1"  # the stack keeps its logs too
    say(f"scenario {args.scenario}; temp dir {tmp}")
    try:
        return {"mariadb": scenario_mariadb, "redis": scenario_redis, "daphne": scenario_daphne}[args.scenario](
            args, tmp
        )
    finally:
        if args.keep_tmp:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
