"""The `alliance` command: run, migrate, serve, work and seed the marketplace."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from shared.config import SERVICES, load_settings
from shared.observability import configure_logging


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("ALLIANCE_DATA_DIR", ".data")).resolve()


def cmd_up(args: argparse.Namespace) -> int:
    from infra.runner import up

    configure_logging("runner")
    return up(_data_dir(args.data_dir), demo=args.demo, threads=args.threads)


def cmd_migrate(args: argparse.Namespace) -> int:
    from infra.bootstrap import migrate
    from infra.embedded import ensure_servers

    configure_logging("migrate")
    servers = ensure_servers(_data_dir(args.data_dir))
    try:
        asyncio.run(migrate(load_settings()))
    finally:
        servers.stop()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from infra.runner import service_port

    configure_logging(args.service)
    uvicorn.run(
        f"services.{args.service}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port or service_port(args.service),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from infra.worker import run_worker

    configure_logging("worker")
    run_worker(load_settings(), args.threads)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from infra.seed import seed_demo

    if not args.demo:
        print("nothing to seed: pass --demo", file=sys.stderr)
        return 2
    configure_logging("seed")
    asyncio.run(seed_demo(load_settings()))
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from shared.bus import Bus

    bus = Bus(load_settings().redis_url)
    for queue in args.queue or SERVICES:
        for message in bus.dead_letters(queue):
            print(json.dumps({"queue": queue, **message}))
    bus.close()
    return 0


def cmd_makemigration(args: argparse.Namespace) -> int:
    from shared.migrations import revision

    revision(args.service, load_settings().database_url, args.message)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="alliance", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole marketplace on one origin (Ctrl-C stops)")
    up.add_argument("--demo", action="store_true", help="seed the demo marketplace if empty")
    up.add_argument("--threads", type=int, default=4, help="worker threads")
    up.add_argument("--data-dir", help="where embedded servers keep data (default .data)")
    up.set_defaults(func=cmd_up)

    mig = sub.add_parser("migrate", help="create database, roles, schemas; apply migrations")
    mig.add_argument("--data-dir")
    mig.set_defaults(func=cmd_migrate)

    serve = sub.add_parser("serve", help="run one service's HTTP API")
    serve.add_argument("service", choices=[*SERVICES, "web"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, help="default: from ALLIANCE_<SERVICE>_URL")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="consume events for every service")
    worker.add_argument("--threads", type=int, default=4)
    worker.set_defaults(func=cmd_worker)

    seed = sub.add_parser("seed", help="fill a running marketplace with demo data")
    seed.add_argument("--demo", action="store_true", help="the demo marketplace")
    seed.set_defaults(func=cmd_seed)

    dead = sub.add_parser("dead-letters", help="list events that exhausted their retries")
    dead.add_argument("--queue", action="append", choices=SERVICES)
    dead.set_defaults(func=cmd_dead_letters)

    mk = sub.add_parser("makemigration", help="autogenerate a migration for a service")
    mk.add_argument("service", choices=SERVICES)
    mk.add_argument("-m", "--message", required=True)
    mk.set_defaults(func=cmd_makemigration)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.captureWarnings(True)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
