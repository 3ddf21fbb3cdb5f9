"""Evidence packages (存证): one ZIP that proves, years later and without the service, what
was sealed, that it verified, and what the audit log said about it.

Layout (every path below is listed with its SHA-256 in ``manifest.json``; ``manifest.tsr``
is an RFC 3161 token over ``manifest.json`` itself)::

    manifest.json            format, subject, creation time, member digests, checkpoint
    manifest.tsr             time-stamp token over manifest.json
    document.pdf             the final PDF
    report.json  report.pdf  the verification report at packaging time
    audit/events.json        every audit event about the subject, each with its RFC 9162
                             inclusion path into the checkpoint's Merkle root
    audit/checkpoint.json    the chain head (seq, hash) and Merkle root over all event hashes
    audit/checkpoint.tsr     time-stamp token over the checkpoint's canonical bytes
    pki/root.crt             the trust anchor (DER)
    pki/certs/*.crt  pki/crls/*.crl  pki/ocsp/*.ocsp   what validation used

The audit log's canonical event form lives here too, so the offline check needs nothing else.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

FORMAT = "eseal-evidence/1"
MANIFEST = "manifest.json"
MANIFEST_STAMP = "manifest.tsr"
DOCUMENT = "document.pdf"
REPORT_JSON = "report.json"
REPORT_PDF = "report.pdf"
EVENTS = "audit/events.json"
CHECKPOINT = "audit/checkpoint.json"
CHECKPOINT_STAMP = "audit/checkpoint.tsr"
ROOT = "pki/root.crt"
GENESIS_HASH = "0" * 64


def canonical_event_bytes(event: Mapping[str, Any]) -> bytes:
    """The exact bytes the audit log hashes for one event (sorted keys, UTF-8, compact);
    ``occurred_at`` as ISO 8601 UTC with microseconds and a Z."""
    occurred = event["occurred_at"]
    if isinstance(occurred, datetime):
        occurred = occurred.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {
        "seq": event["seq"],
        "occurred_at": occurred,
        "actor": event["actor"],
        "organization_id": event["organization_id"],
        "action": event["action"],
        "target_type": event["target_type"],
        "target_id": event["target_id"],
        "details": event["details"],
        "prev_hash": event["prev_hash"],
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_event_bytes(event)).hexdigest()


def checkpoint_bytes(*, seq: int, head_hash: str, merkle_root: str) -> bytes:
    """What a checkpoint's time-stamp token covers."""
    record = {
        "purpose": "eseal audit checkpoint",
        "seq": seq,
        "head_hash": head_hash,
        "merkle_root": merkle_root,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1).encode()


def build_package(
    *,
    subject: Mapping[str, Any],
    members: Mapping[str, bytes],
    created_at: datetime,
    stamp: Callable[[bytes], bytes],
) -> bytes:
    """The ZIP: the members, a manifest of their digests and a time-stamp over it."""
    if any(name in (MANIFEST, MANIFEST_STAMP) for name in members):
        raise ValueError("manifest names are reserved")
    manifest = {
        "format": FORMAT,
        "subject": dict(subject),
        "created_at": created_at.astimezone(UTC).isoformat(),
        "members": {
            name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())
        },
    }
    manifest_bytes = canonical_json(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(MANIFEST_STAMP, stamp(manifest_bytes))
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
    return out.getvalue()
