"""Who may use a seal, for which document: policies, composed, separate from the act.

A policy's `check(session, ctx)` returns `Evidence` (what allowed the use: a grant, an
approval) or raises a `UseRefusedError` subclass whose `code` names the reason and whose
`detail` says it in words. `AllOf` needs every part, `AnyOf` one of them.

`SealUse` is the outcome of `SealRegistry.load_for_use`: an authorisation for exactly one
document by exactly one caller. `SealUse.consume` spends it in the caller's transaction with
conditional UPDATEs (`... WHERE consumed_at IS NULL`, `... uses < max_uses`) whose row counts
are checked, so two concurrent signers can never both spend one approval or the last use of a
grant; the loser gets a refusal and its transaction rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from pki.models import CertificateRecord, CertificateStatus
from seals.errors import (
    ApprovalConsumedError,
    ApprovalPendingError,
    ApprovalRejectedError,
    ApprovalRequiredError,
    CertificateInvalidError,
    GrantDocumentTypeError,
    GrantExhaustedError,
    GrantOutsideWindowError,
    NoGrantError,
    NotSealOwnerError,
    SealInputError,
    SealNotActiveError,
    SealOutsideValidityError,
    UseRefusedError,
)
from seals.kinds import SealKind
from seals.lifecycle import SealStatus, effective_status
from seals.models import Seal, SealGrant, SealUsage, SealUsageRequest, new_id

_SHA256 = re.compile(r"[0-9a-f]{64}")
_DOCUMENT_TYPE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class CallerKind(StrEnum):
    PERSON = "person"
    CLIENT = "client"


@dataclass(frozen=True)
class Caller:
    """Who wants to use a seal: a member (person id) or an API client (client id)."""

    kind: CallerKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONSUMED = "consumed"


@dataclass(frozen=True)
class SealFacts:
    """A snapshot of a seal as policies and signers see it (status is the effective one)."""

    id: str
    code: str
    organization_id: str
    person_id: str | None
    kind: SealKind
    name: str
    status: SealStatus
    stored_status: SealStatus
    valid_from: datetime
    valid_until: datetime
    requires_approval: bool
    certificate_id: str
    key_id: str
    pin_set: bool
    pin_locked_until: datetime | None
    image_sha256: str
    created_at: datetime
    status_changed_at: datetime
    revocation_reason: str | None
    use_count: int
    sm2_certificate_id: str | None = None
    """The SM2 certificate beside the main one (None: the seal signs with ECDSA/RSA only)."""
    sm2_key_id: str | None = None

    @classmethod
    def of(cls, seal: Seal, *, now: datetime) -> SealFacts:
        return cls(
            id=seal.id,
            code=seal.code,
            organization_id=seal.organization_id,
            person_id=seal.person_id,
            kind=SealKind(seal.kind),
            name=seal.name,
            status=effective_status(seal.status, valid_until=seal.valid_until, now=now),
            stored_status=SealStatus(seal.status),
            valid_from=seal.valid_from,
            valid_until=seal.valid_until,
            requires_approval=seal.requires_approval,
            certificate_id=seal.certificate_id,
            key_id=seal.key_id,
            pin_set=seal.pin_hash is not None,
            pin_locked_until=seal.pin_locked_until,
            image_sha256=seal.image_sha256,
            created_at=seal.created_at,
            status_changed_at=seal.status_changed_at,
            revocation_reason=seal.revocation_reason,
            use_count=seal.use_count,
            sm2_certificate_id=seal.sm2_certificate_id,
            sm2_key_id=seal.sm2_key_id,
        )

    @property
    def needs_pin(self) -> bool:
        """Personal seals need their owner's PIN at every use."""
        return self.kind is SealKind.PERSONAL


@dataclass(frozen=True)
class UseContext:
    seal: SealFacts
    caller: Caller
    document_sha256: str
    document_type: str | None
    now: datetime
    document_type_established: bool = False
    """True when the service itself knows the type (a template, an envelope); a caller's
    own claim is only 'declared'."""


@dataclass(frozen=True)
class Evidence:
    """What allowed a use: the grant and approval to spend, and the checks passed."""

    grant_id: str | None = None
    approval_id: str | None = None
    passed: tuple[str, ...] = ()

    def merged(self, other: Evidence) -> Evidence:
        return Evidence(
            grant_id=self.grant_id or other.grant_id,
            approval_id=self.approval_id or other.approval_id,
            passed=self.passed + other.passed,
        )


class Policy(Protocol):
    def check(self, session: Session, ctx: UseContext) -> Evidence:
        """Return the evidence that allows the use, or raise `UseRefusedError`."""
        ...


def _only_claimed(ctx: UseContext, grants: list[SealGrant]) -> bool:
    """A grant would cover this type if the service, not the caller, had established it."""
    return (
        ctx.document_type is not None
        and not ctx.document_type_established
        and any(
            g.requires_established_type and ctx.document_type in (g.document_type_set or ())
            for g in grants
        )
    )


def normalize_sha256(value: str) -> str:
    digest = value.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise SealInputError("document_sha256 must be 64 hexadecimal characters")
    return digest


def normalize_document_type(value: str | None) -> str | None:
    if value is None:
        return None
    doc_type = value.strip().lower()
    if not _DOCUMENT_TYPE.fullmatch(doc_type):
        raise SealInputError(
            f"document type {value!r} must be 1-64 of a-z, 0-9, '_', '.', '-' (e.g. 'contract')"
        )
    return doc_type


# --- the policies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveSeal:
    """The seal is active (not pending, suspended, revoked or expired)."""

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        status = ctx.seal.status
        if status is not SealStatus.ACTIVE:
            raise SealNotActiveError(
                f"seal {ctx.seal.code} is {status.value}; only an active seal can be used",
                seal_status=status.value,
            )
        return Evidence(passed=("seal active",))


@dataclass(frozen=True)
class WithinWindow:
    """Now lies within the seal's validity period."""

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        seal = ctx.seal
        if ctx.now < seal.valid_from:
            raise SealOutsideValidityError(
                f"seal {seal.code} is valid only from {seal.valid_from.isoformat()}"
            )
        if ctx.now >= seal.valid_until:
            raise SealOutsideValidityError(
                f"seal {seal.code} expired at {seal.valid_until.isoformat()}"
            )
        return Evidence(passed=("within validity",))


@dataclass(frozen=True)
class CertificateValid:
    """The seal's certificate is unrevoked and within its validity period."""

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        record = session.get(CertificateRecord, ctx.seal.certificate_id)
        if record is None or record.key_id is None:
            raise CertificateInvalidError(f"seal {ctx.seal.code} has no usable certificate")
        if record.status == CertificateStatus.REVOKED.value:
            raise CertificateInvalidError(
                f"the certificate of seal {ctx.seal.code} (serial {record.serial}) is revoked",
                serial=record.serial,
            )
        if not record.not_before <= ctx.now < record.not_after:
            raise CertificateInvalidError(
                f"the certificate of seal {ctx.seal.code} is outside its validity period",
                serial=record.serial,
            )
        return Evidence(passed=("certificate valid",))


@dataclass(frozen=True)
class SealOwner:
    """The caller is the person who owns this (personal) seal."""

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        owner = ctx.seal.person_id
        if owner is None or ctx.caller != Caller(CallerKind.PERSON, owner):
            raise NotSealOwnerError(f"only the owner may use seal {ctx.seal.code} without a grant")
        return Evidence(passed=("seal owner",))


@dataclass(frozen=True)
class HolderHasGrant:
    """An unrevoked grant to the caller covers this document type, now, and has uses left."""

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        grants = session.exec(
            _HOLDER_GRANTS,
            params={"seal_id": ctx.seal.id, "kind": ctx.caller.kind.value, "id": ctx.caller.id},
        ).all()
        if not grants:
            raise NoGrantError(f"{ctx.caller} holds no grant for seal {ctx.seal.code}")
        in_window = [g for g in grants if _grant_in_window(g, ctx.now)]
        if not in_window:
            raise GrantOutsideWindowError(
                f"the grants of {ctx.caller} for seal {ctx.seal.code} are not valid at this time"
            )
        typed = [
            g
            for g in in_window
            if g.document_type_set is None
            or (
                ctx.document_type in g.document_type_set
                and (ctx.document_type_established or not g.requires_established_type)
            )
        ]
        if not typed and _only_claimed(ctx, in_window):
            raise GrantDocumentTypeError(
                f"the grants for seal {ctx.seal.code} need the document type "
                f"{ctx.document_type} established by the service (a template or an "
                "envelope); the caller's own claim is not enough",
                allowed_document_types=[],
            )
        if not typed:
            allowed = sorted({t for g in in_window for t in g.document_type_set or ()})
            raise GrantDocumentTypeError(
                f"the grants for seal {ctx.seal.code} do not cover document type "
                f"{ctx.document_type or '(none given)'}; they cover: {', '.join(allowed)}",
                allowed_document_types=allowed,
            )
        usable = [g for g in typed if g.max_uses is None or g.uses < g.max_uses]
        if not usable:
            raise GrantExhaustedError(
                f"the grants of {ctx.caller} for seal {ctx.seal.code} have no uses left"
            )
        return Evidence(grant_id=usable[0].id, passed=("grant",))


_HOLDER_GRANTS = (
    select(SealGrant)
    .where(
        col(SealGrant.seal_id) == sa.bindparam("seal_id"),
        col(SealGrant.grantee_kind) == sa.bindparam("kind"),
        col(SealGrant.grantee_id) == sa.bindparam("id"),
        col(SealGrant.revoked_at).is_(None),
    )
    .order_by(col(SealGrant.created_at), col(SealGrant.id))
)
"""The caller's unrevoked grants on a seal, built once (building it per use cost more than
running it)."""


@dataclass(frozen=True)
class ApprovalGranted:
    """An approved, unused usage request of the caller exists for exactly this document.

    Applies when the seal requires approval (or always, with `always=True`)."""

    always: bool = False

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        if not (self.always or ctx.seal.requires_approval):
            return Evidence(passed=("approval not required",))
        requests = session.exec(
            select(SealUsageRequest)
            .where(
                SealUsageRequest.seal_id == ctx.seal.id,
                SealUsageRequest.document_sha256 == ctx.document_sha256,
                SealUsageRequest.requester_kind == ctx.caller.kind.value,
                SealUsageRequest.requester_id == ctx.caller.id,
            )
            .order_by(col(SealUsageRequest.created_at), col(SealUsageRequest.id))
        ).all()
        by_status = {ApprovalStatus(r.status): r for r in requests}
        if ApprovalStatus.APPROVED in by_status:
            return Evidence(approval_id=by_status[ApprovalStatus.APPROVED].id, passed=("approval",))
        what = f"seal {ctx.seal.code} requires an approved usage request for this document"
        if ApprovalStatus.PENDING in by_status:
            raise ApprovalPendingError(
                f"{what}; request {by_status[ApprovalStatus.PENDING].id} is still pending",
                usage_request_id=by_status[ApprovalStatus.PENDING].id,
            )
        if ApprovalStatus.CONSUMED in by_status:
            raise ApprovalConsumedError(
                f"{what}; the approval for it has already been used "
                "(an approval allows one use: file a new request)"
            )
        if ApprovalStatus.REJECTED in by_status:
            raise ApprovalRejectedError(f"{what}; the request for it was rejected")
        raise ApprovalRequiredError(
            f"{what} (SHA-256 {ctx.document_sha256}); none was filed by {ctx.caller}"
        )


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Policy, ...]

    def __init__(self, *parts: Policy) -> None:
        object.__setattr__(self, "parts", parts)

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        evidence = Evidence()
        for part in self.parts:
            evidence = evidence.merged(part.check(session, ctx))
        return evidence


@dataclass(frozen=True)
class AnyOf:
    """The first part that passes; when none does, the first part's refusal (naming all)."""

    parts: tuple[Policy, ...]

    def __init__(self, *parts: Policy) -> None:
        if not parts:
            raise ValueError("AnyOf needs at least one policy")
        object.__setattr__(self, "parts", parts)

    def check(self, session: Session, ctx: UseContext) -> Evidence:
        refusals: list[UseRefusedError] = []
        for part in self.parts:
            try:
                return part.check(session, ctx)
            except UseRefusedError as refusal:
                refusals.append(refusal)
        first = refusals[0]
        first.extra.setdefault("alternatives", [r.code for r in refusals])
        if len(refusals) > 1:
            first.detail += " (and: " + "; ".join(r.detail for r in refusals[1:]) + ")"
            first.args = (first.detail,)
        raise first


def default_policy(seal: SealFacts) -> Policy:
    """The house rule: active, valid, certificate good, a grant (or, for personal seals, the
    owner), and an approval when the seal requires one. The PIN is checked after these."""
    holder: Policy = (
        AnyOf(HolderHasGrant(), SealOwner()) if seal.kind is SealKind.PERSONAL else HolderHasGrant()
    )
    return AllOf(ActiveSeal(), WithinWindow(), CertificateValid(), holder, ApprovalGranted())


def _grant_in_window(grant: SealGrant, now: datetime) -> bool:
    if grant.not_before is not None and now < grant.not_before:
        return False
    return grant.not_after is None or now < grant.not_after


# --- the authorised use ------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageReceipt:
    """One consumed use (the `seal_usage` row)."""

    usage_id: str
    seal_id: str
    seal_code: str
    caller: Caller
    document_sha256: str
    document_type: str | None
    grant_id: str | None
    approval_id: str | None
    used_at: datetime


@dataclass(frozen=True)
class SealUse:
    """Permission for `caller` to apply `seal` to the document `document_sha256` once."""

    seal: SealFacts
    caller: Caller
    document_sha256: str
    document_type: str | None
    evidence: Evidence
    authorised_at: datetime
    checks: tuple[str, ...] = field(default=())
    document_type_established: bool = False

    @property
    def document_type_source(self) -> str | None:
        if self.document_type is None:
            return None
        return "established" if self.document_type_established else "declared"

    @property
    def certificate_id(self) -> str:
        return self.seal.certificate_id

    @property
    def key_id(self) -> str:
        return self.seal.key_id

    @property
    def sm2_certificate_id(self) -> str | None:
        """The seal's SM2 certificate, for the SM2 formats (None: the seal has none)."""
        return self.seal.sm2_certificate_id

    @property
    def sm2_key_id(self) -> str | None:
        return self.seal.sm2_key_id

    def consume(self, session: Session, *, now: datetime | None = None) -> UsageReceipt:
        """Spend this authorisation in the caller's transaction (call it in the transaction
        that stores the signed document). Raises a `UseRefusedError` when a concurrent
        transaction got there first: the seal stopped being active, the approval was spent,
        the grant was revoked or its last use taken.

        Core statements on the session's connection (no ORM flush): the `seal_usage` row is
        not an object of the session, so whoever counts uses (the service's statistics)
        registers with `on_use` and is told of each receipt in this transaction."""
        used_at = now or self.authorised_at
        session.flush()  # the caller's pending rows first (the ORM statements autoflushed)
        connection = session.connection()
        seal_row = connection.execute(_SPEND_SEAL, {"seal_id": self.seal.id, "used_at": used_at})
        if seal_row.rowcount != 1:
            raise SealNotActiveError(f"seal {self.seal.code} is no longer active")
        approval_id = self.evidence.approval_id
        grant_id = self.evidence.grant_id
        if approval_id is not None:
            _spend_approval(connection, approval_id, used_at)
        if grant_id is not None:
            _take_grant_use(connection, grant_id)
        usage_id = new_id()
        connection.execute(
            _USAGE.insert(),
            {
                "id": usage_id,
                "seal_id": self.seal.id,
                "organization_id": self.seal.organization_id,
                "user_kind": self.caller.kind.value,
                "user_id": self.caller.id,
                "document_sha256": self.document_sha256,
                "document_type": self.document_type,
                "document_type_source": self.document_type_source,
                "grant_id": grant_id,
                "approval_id": approval_id,
                "used_at": used_at,
            },
        )
        receipt = UsageReceipt(
            usage_id=usage_id,
            seal_id=self.seal.id,
            seal_code=self.seal.code,
            caller=self.caller,
            document_sha256=self.document_sha256,
            document_type=self.document_type,
            grant_id=grant_id,
            approval_id=approval_id,
            used_at=used_at,
        )
        for listener in _USE_LISTENERS:
            listener(session, self, receipt)
        return receipt


UseListener = Callable[[Session, SealUse, UsageReceipt], None]
_USE_LISTENERS: list[UseListener] = []


def on_use(listener: UseListener) -> None:
    """Call `listener(session, use, receipt)` for every use spent, in the spending
    transaction (the service counts uses for its statistics; idempotent)."""
    if listener not in _USE_LISTENERS:
        _USE_LISTENERS.append(listener)


_USAGE = SealUsage.__table__  # type: ignore[attr-defined]
_SEALS = Seal.__table__  # type: ignore[attr-defined]
_GRANTS = SealGrant.__table__  # type: ignore[attr-defined]
_REQUESTS = SealUsageRequest.__table__  # type: ignore[attr-defined]
# the statements of `consume`, built once (building them cost more than running them)
_SPEND_SEAL = (
    sa.update(_SEALS)
    .where(
        _SEALS.c.id == sa.bindparam("seal_id"),
        _SEALS.c.status == SealStatus.ACTIVE.value,
        _SEALS.c.valid_until > sa.bindparam("used_at"),
    )
    .values(use_count=_SEALS.c.use_count + 1, last_used_at=sa.bindparam("used_at"))
)
_SPEND_APPROVAL = (
    sa.update(_REQUESTS)
    .where(
        _REQUESTS.c.id == sa.bindparam("approval_id"),
        _REQUESTS.c.status == ApprovalStatus.APPROVED.value,
        _REQUESTS.c.consumed_at.is_(None),
    )
    .values(status=ApprovalStatus.CONSUMED.value, consumed_at=sa.bindparam("used_at"))
)
_TAKE_GRANT_USE = (
    sa.update(_GRANTS)
    .where(
        _GRANTS.c.id == sa.bindparam("grant_id"),
        _GRANTS.c.revoked_at.is_(None),
        sa.or_(_GRANTS.c.max_uses.is_(None), _GRANTS.c.uses < _GRANTS.c.max_uses),
    )
    .values(uses=_GRANTS.c.uses + 1)
)


def _spend_approval(connection: sa.Connection, approval_id: str, used_at: datetime) -> None:
    """Mark the approval consumed, unless a concurrent transaction spent it first."""
    spent = connection.execute(_SPEND_APPROVAL, {"approval_id": approval_id, "used_at": used_at})
    if spent.rowcount != 1:
        raise ApprovalConsumedError(
            f"the approval {approval_id} for this document has already been used",
            usage_request_id=approval_id,
        )


def _take_grant_use(connection: sa.Connection, grant_id: str) -> None:
    """Count one use of the grant, unless it was revoked or its last use taken meanwhile."""
    taken = connection.execute(_TAKE_GRANT_USE, {"grant_id": grant_id})
    if taken.rowcount != 1:
        revoked = connection.execute(
            sa.select(col(SealGrant.revoked_at)).where(col(SealGrant.id) == grant_id)
        ).scalar_one_or_none()
        if revoked is not None:
            raise NoGrantError(f"grant {grant_id} has been revoked")
        raise GrantExhaustedError(f"grant {grant_id} has no uses left")
