"""The ``eseal`` command: init, serve, API clients, audit checks, password resets."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app import cli_evidence, cli_ops
from app.bootstrap import ADMIN_USERNAME, initialise
from app.db import make_engine, unit_of_work
from app.errors import AppError
from app.security import Scope
from app.settings import Settings

FIRST_SECRET_FILE = "first-admin-password"  # noqa: S105 (a file name)


def _cmd_init(args: argparse.Namespace, settings: Settings, *, interactive: bool = True) -> int:
    result = initialise(settings)
    if not result.changed_anything:
        print("eseal is already initialised; nothing changed.")
        return 0
    for line in result.changed:
        print(f"- {line}")
    if result.admin_password:
        _hand_over(settings, result.admin_password, interactive=interactive)
    return 0


def _hand_over(settings: Settings, password: str, *, interactive: bool) -> None:
    """The first password goes to a person at a terminal, or to a 0600 file -- never to
    output that a service manager keeps as its log (issue 10)."""
    if interactive and sys.stdout.isatty():
        print(f"First administrator: username '{ADMIN_USERNAME}', password '{password}'")
        print("(shown once; only its hash is kept)")
        return
    path = settings.data_dir / FIRST_SECRET_FILE
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(f"username: {ADMIN_USERNAME}\npassword: {password}\n")
    print(f"First administrator '{ADMIN_USERNAME}': the password is in {path} (mode 0600);")
    print("sign in, change it, and delete that file.")


def share_cores(workers: int | None) -> int:
    """The web worker count (default: one per core), and the cores shared out between them:
    unless set, each web worker gets cores / workers PDF and signing processes, so N web
    workers do not start N times a full set (every worker inherits this environment)."""
    cores = os.cpu_count() or 1
    workers = max(1, workers or cores)
    for variable in ("ESEAL_PDF_WORKERS", "ESEAL_SEAL_WORKERS"):
        os.environ.setdefault(variable, str(max(1, cores // workers)))
    return workers


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    _cmd_init(args, settings, interactive=False)  # a service's output ends up in its log
    workers = share_cores(args.workers)
    base = f"http://{args.host}:{args.port}"
    print(f"Console:  {base}/console/")
    print(f"API docs: {base}/docs")
    uvicorn.run(
        "app.main:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=None,
        # Never let uvicorn rewrite the peer from X-Forwarded-For (its default trusts
        # loopback); app.clientaddr believes only ESEAL_TRUSTED_PROXIES.
        proxy_headers=False,
        forwarded_allow_ips="",
    )
    return 0


def _cmd_client_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.tenancy import create_api_client

    engine = make_engine(settings.resolved_database_url)
    organization_id = None if args.org == "platform" else args.org
    scopes = [s for part in args.scopes for s in part.replace(",", " ").split()]
    try:
        with unit_of_work(engine) as session:
            client, key = create_api_client(
                session,
                principal=None,
                organization_id=organization_id,
                name=args.name,
                scopes=scopes,
            )
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"client id: {client.id}")
    print(f"scopes:    {client.scopes}")
    print(f"API key (shown once): {key.key}")
    return 0


def _cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from app.services.audit import verify_chain

    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(engine) as session:
            report = verify_chain(session)
    finally:
        engine.dispose()
    if report.intact:
        print(f"audit chain intact: {report.events} events")
        return _cmd_audit_checkpoint(args, settings, create=False)
    print(f"audit chain BROKEN at event {report.first_broken_seq}: {report.reason}")
    return 1


def _cmd_audit_checkpoint(args: argparse.Namespace, settings: Settings, *, create: bool) -> int:
    """Check the chain against its last checkpoint, or time-stamp its head now."""
    from app.services import checkpoints
    from app.wiring import build_services

    services = build_services(settings)
    try:
        with unit_of_work(services.engine) as session:
            if create:
                made = checkpoints.create(session, services, actor="operator:cli")
                print(f"checkpoint at event {made.seq}: head {made.head_hash}")
                return 0
            check = checkpoints.verify(session, services)
    finally:
        services.engine.dispose()
    if check.checkpoint_seq is None:
        print("no checkpoint yet (eseal audit checkpoint makes one)")
        return 0
    if check.holds:
        print(f"checkpoint of {check.checkpoint_at} (event {check.checkpoint_seq}) holds")
        return 0
    print(f"audit chain does NOT match its checkpoint: {check.reason}")
    return 1


def _cmd_admin(args: argparse.Namespace, settings: Settings) -> int:
    from app.cli_admin import UnknownAccountError, forget_sign_in_failures, reset_password

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(engine) as session:
            new_password = reset_password(session, username=args.username, password=password)
        forget_sign_in_failures(settings, args.username)
    except UnknownAccountError:
        print(f"error: no console account named '{args.username}'", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"Password of '{args.username}' reset; its console sessions were ended.")
    if password is None:
        print(f"New password (shown once): {new_password}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eseal", description="eseal electronic seal service")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="create the data folder, schema, CA hierarchy and first admin")
    serve = sub.add_parser("serve", help="initialise if needed, then run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="web worker processes (default: the core count; bench/scale.py measures 1 vs 2)",
    )

    client = sub.add_parser("client", help="API clients for portals and scripts")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    create = client_sub.add_parser("create", help="create a client and print its key once")
    create.add_argument("--org", required=True, help="organization id, or 'platform'")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        nargs="+",
        required=True,
        help="scopes: " + " ".join(s.value for s in Scope),
    )

    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the whole hash chain; exit 1 if broken")
    audit_sub.add_parser("checkpoint", help="time-stamp the chain's head now")
    cli_evidence.add_parser(sub)
    cli_ops.add_parsers(sub)

    admin = sub.add_parser("admin", help="console accounts, on the server itself")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    reset = admin_sub.add_parser(
        "reset-password",
        help="set a new console password (random, printed once), lift a lockout, end sessions",
    )
    reset.add_argument("--username", default=ADMIN_USERNAME)
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from standard input instead of generating one",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "evidence":
        return cli_evidence.run(args)  # offline: no settings, no database
    settings = Settings()
    if args.command in ("init", "serve"):
        from sqlalchemy.exc import SQLAlchemyError

        from app.startup import StartupError, check_data_dir, describe
        from pki.errors import KeyStoreError

        try:
            check_data_dir(settings)
            return (
                _cmd_init(args, settings) if args.command == "init" else _cmd_serve(args, settings)
            )
        except (StartupError, SQLAlchemyError, OSError, KeyStoreError) as exc:
            print(f"eseal: {describe(exc, settings)}", file=sys.stderr)
            return 2
    if args.command == "client":
        return _cmd_client_create(args, settings)
    if args.command == "audit" and args.audit_command == "checkpoint":
        return _cmd_audit_checkpoint(args, settings, create=True)
    if args.command == "audit":
        return _cmd_audit_verify(args, settings)
    if args.command == "admin":
        return _cmd_admin(args, settings)
    if args.command in ("backup", "restore", "keys"):
        return cli_ops.run(args, settings)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
