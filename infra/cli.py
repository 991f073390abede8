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
    import importlib

    import uvicorn

    from infra.runner import service_port
    from shared.app import HeadAsGet

    configure_logging(args.service)
    create_app = importlib.import_module(f"services.{args.service}.app").create_app
    uvicorn.run(
        lambda: HeadAsGet(create_app()),
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

    settings = load_settings()
    bus = Bus(settings.redis_url, settings.queue_namespace)
    for queue in args.queue or SERVICES:
        for message in bus.dead_letters(queue):
            print(json.dumps({"queue": queue, **message}))
    bus.close()
    return 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    """Platform staff are made here, never over HTTP; a new account's password comes from env."""
    from infra.embedded import ensure_servers
    from services.accounts.staff import add_staff
    from shared.db import Database
    from shared.errors import Problem

    async def run() -> int:
        db = Database(load_settings().app_database_url, pool_size=1)
        try:
            password = os.environ.get(args.password_env)
            user, created = await add_staff(
                db, args.email, args.role, name=args.name, password=password
            )
        except Problem as exc:
            print(
                f"alliance staff add: {exc.detail} (new accounts read ${args.password_env})",
                file=sys.stderr,
            )
            return 2
        finally:
            await db.close()
        print(f"{'created' if created else 'updated'} {user.email}: platform {user.platform_role}")
        return 0

    servers = ensure_servers(_data_dir(args.data_dir))
    try:
        return asyncio.run(run())
    finally:
        servers.stop()


def cmd_mail(args: argparse.Namespace) -> int:
    """Development mailbox: list the messages, or print one (by number, or `last`)."""
    from services.accounts.mail import mailbox, read_message

    messages = mailbox(_data_dir(args.data_dir) / "mail")
    if args.which is None:
        for number, path in enumerate(messages, 1):
            message = read_message(path)
            print(f"{number:>4}  {message['Date']}  {message['To']}  {message['Subject']}")
        if not messages:
            print("no mail yet", file=sys.stderr)
        return 0
    index = len(messages) if args.which == "last" else int(args.which)
    if not 1 <= index <= len(messages):
        print(f"no message {args.which} (there are {len(messages)})", file=sys.stderr)
        return 2
    sys.stdout.write(messages[index - 1].read_text())
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

    staff = sub.add_parser("staff", help="manage platform staff (moderators, admins)")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    staff_add = staff_sub.add_parser("add", help="give an account a platform role")
    staff_add.add_argument("--email", required=True)
    staff_add.add_argument("--role", required=True, choices=["moderator", "admin"])
    staff_add.add_argument("--name", help="for a new account (default: the email's local part)")
    staff_add.add_argument(
        "--password-env",
        default="ALLIANCE_STAFF_PASSWORD",
        help="environment variable holding a new account's password",
    )
    staff_add.add_argument("--data-dir")
    staff_add.set_defaults(func=cmd_staff_add)

    mail = sub.add_parser("mail", help="list or print mails sent in development (data dir)")
    mail.add_argument("which", nargs="?", help="a message number from the list, or `last`")
    mail.add_argument("--data-dir")
    mail.set_defaults(func=cmd_mail)

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
