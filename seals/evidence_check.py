"""The offline check of an evidence package (`eseal evidence verify FILE`): no service, no
database, only the ZIP (and optionally a trust anchor given by the verifier).

Checks run in an order that names the member at fault: the manifest's time-stamp on its
own, then the manifest against that time-stamp, then every member against the manifest,
then the time-stamp's chain to the root, then what the members say (the checkpoint's
time-stamp, each audit event's hash and its inclusion in the checkpoint, the report's
document digest). The first thing that does not hold is named; nothing after it is trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms
from cryptography import x509

from pki import merkle
from pki.timestamp_tokens import TokenError, TokenStatus, inspect_token
from seals.evidence import (
    CHECKPOINT,
    CHECKPOINT_STAMP,
    DOCUMENT,
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_STAMP,
    REPORT_JSON,
    ROOT,
    checkpoint_bytes,
    event_hash,
)


class EvidenceFailure(Exception):
    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"{member}: {reason}")
        self.member = member
        self.reason = reason


@dataclass(frozen=True)
class EvidenceReport:
    valid: bool
    member: str | None = None
    """The first member that does not hold (None when the package holds)."""
    reason: str | None = None
    subject: dict[str, Any] = field(default_factory=dict)
    sealed_at: str | None = None
    """When the manifest was time-stamped (UTC)."""
    checkpoint_seq: int | None = None
    events: int = 0
    checks: tuple[str, ...] = ()


def check_package(data: bytes, *, trust_root: bytes | None = None) -> EvidenceReport:
    """Check a package; ``trust_root`` (DER) pins the anchor instead of the package's own."""
    done: list[str] = []
    subject: dict[str, Any] = {}
    try:
        members = _read(data)
        manifest = _manifest(members)
        subject = dict(manifest.get("subject") or {})
        _manifest_stamp(members)
        done.append("manifest time-stamp intact and over manifest.json")
        _digests(members, manifest)
        done.append(f"{len(manifest['members'])} members match the manifest")
        root = _root(members, trust_root)
        stamp = _token(members, MANIFEST_STAMP, root)
        if not stamp.trusted:
            raise EvidenceFailure(MANIFEST_STAMP, "the time-stamping authority is not trusted")
        done.append(f"manifest time-stamped {stamp.gen_time.isoformat()} by {stamp.tsa}")
        checkpoint = _checkpoint(members, root)
        done.append(f"audit checkpoint at event {checkpoint['seq']} time-stamped")
        events = _events(members, checkpoint)
        done.append(f"{events} audit events hash correctly and sit in the checkpoint")
        _report(members)
        done.append("the report describes document.pdf")
    except EvidenceFailure as failure:
        return EvidenceReport(
            valid=False,
            member=failure.member,
            reason=failure.reason,
            subject=subject,
            checks=tuple(done),
        )
    return EvidenceReport(
        valid=True,
        subject=subject,
        sealed_at=stamp.gen_time.isoformat(),
        checkpoint_seq=int(checkpoint["seq"]),
        events=events,
        checks=tuple(done),
    )


def _read(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise EvidenceFailure("(package)", f"not a ZIP file ({exc})") from exc
    members: dict[str, bytes] = {}
    with archive:
        for info in archive.infolist():
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, ValueError, OSError) as exc:  # CRC or inflate error
                raise EvidenceFailure(info.filename, f"damaged in the ZIP ({exc})") from exc
    return members


def _json(members: dict[str, bytes], name: str) -> Any:
    if name not in members:
        raise EvidenceFailure(name, "missing")
    try:
        return json.loads(members[name])
    except (ValueError, UnicodeDecodeError) as exc:
        raise EvidenceFailure(name, f"not valid JSON ({exc})") from exc


def _manifest(members: dict[str, bytes]) -> dict[str, Any]:
    manifest = _json(members, MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise EvidenceFailure(MANIFEST, f"not an {FORMAT} manifest")
    if not isinstance(manifest.get("members"), dict):
        raise EvidenceFailure(MANIFEST, "lists no members")
    return manifest


def _root(members: dict[str, bytes], pinned: bytes | None) -> bytes:
    if ROOT not in members:
        raise EvidenceFailure(ROOT, "missing")
    root = pinned if pinned is not None else members[ROOT]
    try:
        x509.load_der_x509_certificate(root)
    except ValueError as exc:
        raise EvidenceFailure("(trust anchor)" if pinned else ROOT, "not a certificate") from exc
    return root


def _token(members: dict[str, bytes], name: str, root: bytes | None) -> TokenStatus:
    if name not in members:
        raise EvidenceFailure(name, "missing")
    try:
        status = inspect_token(members[name], trust_roots=[root] if root else [])
    except TokenError as exc:
        raise EvidenceFailure(name, str(exc)) from exc
    if not (status.intact and status.valid):
        raise EvidenceFailure(name, "the time-stamp token's signature does not verify")
    _embedded_certificates(members, name)
    return status


def _embedded_certificates(members: dict[str, bytes], name: str) -> None:
    """Certificates a token carries beside its signer's are covered by no signature: each
    must be, byte for byte, one the package itself carries, so a changed copy is named."""
    try:
        signed = cms.ContentInfo.load(members[name])["content"]
        sid = signed["signer_infos"][0]["sid"]
        carried = [c.chosen for c in signed["certificates"] or ()]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise EvidenceFailure(name, f"not a readable time-stamp token ({exc})") from exc
    known = {data for member, data in members.items() if member.startswith("pki/")}
    for certificate in carried:
        if sid.name == "issuer_and_serial_number" and (
            certificate.issuer == sid.chosen["issuer"]
            and certificate.serial_number == sid.chosen["serial_number"].native
        ):
            continue  # the signer's certificate: bound to the signature (ESSCertIDv2)
        if certificate.dump() not in known:
            subject = certificate.subject.human_friendly
            raise EvidenceFailure(name, f"carries a certificate the package does not ({subject})")


def _manifest_stamp(members: dict[str, bytes]) -> TokenStatus:
    """The token on its own first (no anchor), so a damaged root is named as itself later."""
    status = _token(members, MANIFEST_STAMP, None)
    if not status.covers(members[MANIFEST]):
        raise EvidenceFailure(MANIFEST, "changed after it was time-stamped")
    return status


def _digests(members: dict[str, bytes], manifest: dict[str, Any]) -> None:
    listed: dict[str, str] = manifest["members"]
    for name, digest in listed.items():
        if name not in members:
            raise EvidenceFailure(name, "listed in the manifest but missing")
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise EvidenceFailure(name, "does not match its digest in the manifest")
    extra = sorted(set(members) - set(listed) - {MANIFEST, MANIFEST_STAMP})
    if extra:
        raise EvidenceFailure(extra[0], "not listed in the manifest")


def _checkpoint(members: dict[str, bytes], root: bytes) -> dict[str, Any]:
    checkpoint = _json(members, CHECKPOINT)
    try:
        covered = checkpoint_bytes(
            seq=int(checkpoint["seq"]),
            head_hash=str(checkpoint["head_hash"]),
            merkle_root=str(checkpoint["merkle_root"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EvidenceFailure(CHECKPOINT, "incomplete") from exc
    status = _token(members, CHECKPOINT_STAMP, root)
    if not status.covers(covered):
        raise EvidenceFailure(CHECKPOINT, "does not match its time-stamp")
    if not status.trusted:
        raise EvidenceFailure(CHECKPOINT_STAMP, "the time-stamping authority is not trusted")
    return dict(checkpoint)


def _events(members: dict[str, bytes], checkpoint: dict[str, Any]) -> int:
    events = _json(members, EVENTS)
    if not isinstance(events, list):
        raise EvidenceFailure(EVENTS, "not a list of events")
    size = int(checkpoint["seq"])
    root = bytes.fromhex(checkpoint["merkle_root"])
    previous: dict[str, Any] | None = None
    for event in events:
        try:
            seq = int(event["seq"])
            recorded = str(event["hash"])
            path = [bytes.fromhex(p) for p in event["inclusion_path"]]
            computed = event_hash(event)
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceFailure(EVENTS, f"an event is incomplete ({exc})") from exc
        if computed != recorded:
            raise EvidenceFailure(EVENTS, f"event {seq} does not match its hash")
        if not merkle.verify_inclusion(bytes.fromhex(recorded), seq - 1, size, path, root):
            raise EvidenceFailure(EVENTS, f"event {seq} is not in the checkpoint's log")
        linked = previous is not None and seq == previous["seq"] + 1
        if linked and previous is not None and event["prev_hash"] != previous["hash"]:
            raise EvidenceFailure(EVENTS, f"event {seq} does not link to event {seq - 1}")
        previous = event
    return len(events)


def _report(members: dict[str, bytes]) -> None:
    report = _json(members, REPORT_JSON)
    if DOCUMENT not in members:
        raise EvidenceFailure(DOCUMENT, "missing")
    digest = hashlib.sha256(members[DOCUMENT]).hexdigest()
    stated = (report.get("document") or {}).get("sha256") if isinstance(report, dict) else None
    if stated != digest:
        raise EvidenceFailure(REPORT_JSON, "describes another document")
    if report.get("indication") != "TOTAL_PASSED":
        raise EvidenceFailure(DOCUMENT, f"did not verify ({report.get('indication')})")
