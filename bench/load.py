"""Load test of the consultation room: many websocket clients, nothing lost.

    python -m bench.load --database-url mysql://root@127.0.0.1:3306/dh_load \\
        --redis-url redis://127.0.0.1:6379/12 --clients 200 --rooms 100 --minutes 3 --rate 50

Creates (or reuses) `--rooms` in-progress chat consultations, each with its own
bench patient and doctor, starts the production topology (bench.stack: gunicorn,
two daphne processes, nginx in front), and connects one client per participant
(`--clients` = 2 x rooms). The clients together write `--rate` messages a second,
evenly spread, for `--minutes`; a client whose socket drops reconnects, resyncs
and resends what was not saved, as the room page and its user would.

Then it waits for quiet and checks, by each message's unique text (run id +
sequence): every message written is in the `messages` table exactly once
(COUNT and GROUP BY body HAVING COUNT(*) > 1) and reached the other participant.
It prints the counts and the delivery latency (write to the peer's receipt,
p50/p99) and exits 1 if anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time

from bench._clients import (
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="mysql://root@127.0.0.1:3306/dh_load...")
    parser.add_argument("--redis-url", required=True, help="redis://127.0.0.1:6379/12")
    parser.add_argument("--clients", type=int, default=200, help="websocket clients (2 per room)")
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=None, help="overrides --minutes (short smoke runs)")
    parser.add_argument("--rate", type=float, default=50.0, help="messages a second, all clients together")
    parser.add_argument("--daphne", type=int, default=2, help="daphne processes")
    parser.add_argument("--channel-layer", choices=("redis", "pubsub"), default="pubsub")
    parser.add_argument(
        "--direct", action="store_true", help="connect to the daphne processes round-robin instead of through nginx"
    )
    parser.add_argument("--base-port", type=int, default=18100)
    parser.add_argument("--quiet-timeout", type=float, default=60.0, help="seconds to wait for stragglers")
    args = parser.parse_args(argv)
    if args.clients != 2 * args.rooms:
        parser.error("--clients must be twice --rooms: each room has its patient and its doctor connected")
    return args


def limits_env(per_client_rate: float) -> dict[str, str]:
    """Room rate limits high enough for the planned rate (the product's default is 30 a minute, burst 10)."""
    per_minute = max(30, math.ceil(per_client_rate * 60 * 3))
    return {
        "ROOM_MESSAGES_PER_MINUTE": str(per_minute),
        "ROOM_MESSAGES_BURST": str(max(10, per_minute // 3)),
        "ROOM_FRAMES_PER_MINUTE": str(max(600, per_minute * 4)),
        "ROOM_FRAMES_BURST": str(max(120, per_minute)),
    }


async def chat(clients, duration: float, quiet_timeout: float, shared: Shared) -> float:
    stop = asyncio.Event()
    runners = [asyncio.ensure_future(c.run(stop)) for c in clients]
    # Everyone connected (and resynced) before the clock starts.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(c.ready or c.fatal for c in clients):
        await asyncio.sleep(0.1)
    connected = sum(c.ready for c in clients)
    say(f"{connected}/{len(clients)} clients connected; chatting for {duration:.0f} s")
    started = time.monotonic()
    until = started + duration
    speakers = [asyncio.ensure_future(c.speak(until)) for c in clients]
    reporter = asyncio.ensure_future(progress(clients, started))
    await asyncio.gather(*speakers)
    elapsed = time.monotonic() - started
    say("writing stopped; waiting for quiet")
    await wait_quiet(clients, quiet_timeout)
    reporter.cancel()
    shared.stopping = True
    stop.set()
    await asyncio.gather(*runners, return_exceptions=True)
    return elapsed


async def progress(clients, started: float) -> None:
    while True:
        await asyncio.sleep(10)
        sent = sum(len(c.sent) for c in clients)
        acked = sum(len(c.acked) for c in clients)
        received = sum(len(c.received) for c in clients)
        ready = sum(c.ready for c in clients)
        say(
            f"{time.monotonic() - started:5.0f} s: sent {sent}, acknowledged {acked}, received {received}, "
            f"{ready} connected"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.stack import Stack

    duration = args.seconds if args.seconds is not None else args.minutes * 60
    interval = args.clients / args.rate  # each client writes one message every `interval` seconds
    ensure_database(args.database_url)
    setup_django(args.database_url)
    say(f"preparing {args.rooms} rooms")
    rooms = ensure_rooms(args.rooms, tag="load")
    shared = Shared(run_id=new_run_id())
    with Stack(
        database_url=args.database_url,
        redis_url=args.redis_url,
        channel_layer=args.channel_layer,
        daphne_processes=args.daphne,
        nginx=not args.direct,
        env=limits_env(1 / interval),
        base_port=args.base_port,
    ) as stack:
        cookies = sign_in_all(rooms, args.database_url)
        if stack.nginx:
            urls = stack.ws_urls[:1]
            urls_for = lambda i: urls  # noqa: E731 - nginx balances
            route = "through nginx"
        else:
            urls_for = lambda i: [stack.daphne_ws_urls[i % len(stack.daphne_ws_urls)]]  # noqa: E731
            route = "round-robin over the daphne processes"
        clients = clients_for(rooms, cookies, origin=stack.origin, urls_for=urls_for, shared=shared, interval=interval)
        say(f"run {shared.run_id}: {len(clients)} clients {route}, {args.rate:g} msg/s in all")
        elapsed = asyncio.run(chat(clients, duration, args.quiet_timeout, shared))
    verdict = verify(clients, rooms, shared)
    print(f"\n## Load test {shared.run_id}\n")
    print(
        f"{len(clients)} clients in {len(rooms)} rooms, {args.daphne} daphne processes "
        f"({route}), {args.channel_layer} layer, {duration:.0f} s at {args.rate:g} msg/s "
        f"(achieved {verdict.sent / duration:.1f} msg/s; {elapsed:.0f} s with the last writes' spread)\n"
    )
    print("```")
    print("\n".join(verdict.lines()))
    print("```")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
