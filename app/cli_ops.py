"""Operations commands: ``eseal backup``, ``eseal restore`` and ``eseal keys`` (moving keys)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.db import make_engine
from app.settings import Settings


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    made = sub.add_parser("backup", help="database rows, documents and key reference to a folder")
    made.add_argument("folder", type=Path, help="a new folder for the backup")
    made.add_argument(
        "--include-master-key",
        action="store_true",
        help="also write the master key (else keep it apart, e.g. in a password safe)",
    )
    restore = sub.add_parser(
        "restore", help="a backup into a fresh installation, then check documents and audit"
    )
    restore.add_argument("folder", type=Path)
    keys = sub.add_parser("keys", help="private keys: where they are, moving them into the token")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "rekey-seals",
        help="give every live seal whose key is in the database a new key in the PKCS#11 "
        "token and a new certificate; the old one is revoked as superseded (audited)",
    )


def _master_key_for_restore(settings: Settings, backed_up: bytes | None) -> str | None:
    """Refuse a master key that differs from the backup's; write the backup's if none is set."""
    from app.wiring import master_key

    if backed_up is None:
        return None
    configured = settings.master_key is not None or settings.resolved_master_key_file.exists()
    if configured:
        if master_key(settings) != backed_up:
            return "the configured master key is not the backup's: its keys would not unlock"
        return None
    path = settings.resolved_master_key_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(backed_up)
    print(f"- wrote the backup's master key to {path} (mode 0600)")
    return None


def rekey_seals(settings: Settings) -> int:
    from app.services.rekey import RekeyError, rekey_all
    from app.wiring import build_services

    services = build_services(settings)
    try:
        moved = rekey_all(services, actor="operator:cli")
    except RekeyError as exc:
        print(f"eseal keys rekey-seals: {exc}")
        return 2
    finally:
        services.engine.dispose()
    for done in moved:
        print(f"seal {done.seal_code}: certificate {done.old_certificate_id} superseded by "
              f"{done.new_certificate_id} (key in the token)")  # fmt: skip
    print(f"{len(moved)} seal(s) re-keyed into the token")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "keys":
        return rekey_seals(settings)
    from app.services import backup
    from app.wiring import build_blob_store, master_key

    engine = make_engine(settings.resolved_database_url)
    try:
        blobs = build_blob_store(settings, engine)
        if args.command == "backup":
            key = master_key(settings) if args.include_master_key else None
            made = backup.backup(
                engine=engine, blobs=blobs, settings=settings, folder=args.folder, master_key=key
            )
            kept = "" if key else "; master key NOT included"
            print(f"backup in {made.folder}: schema {made.revision}, {made.rows} rows, "
                  f"{made.blobs} documents{kept}")  # fmt: skip
            return 0
        backup.read_manifest(args.folder)
        problem = _master_key_for_restore(settings, backup.backed_up_master_key(args.folder))
        if problem:
            print(f"eseal restore: {problem}")
            return 2
        done = backup.restore(
            engine=engine,
            blobs=blobs,
            database_url=settings.resolved_database_url,
            folder=args.folder,
        )
    except backup.BackupError as exc:
        print(f"eseal {args.command}: {exc}")
        return 2
    finally:
        engine.dispose()
    print(f"restored {done.rows} rows and {done.blobs} documents; "
          f"{done.documents_checked} stored documents match their hashes; "
          f"audit chain intact ({done.audit_events} events)")  # fmt: skip
    return 0
