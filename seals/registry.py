"""The seal registry: create seals bound to their own certificate and key, move them through
their lifecycle, find them by code or certificate, and authorise their use.

The caller owns the transaction; methods add, update and flush. Authorisation of the *caller*
(org admin, seal keeper) is the service's business; this module enforces the seal's rules.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from dataclasses import dataclass
from os import PathLike

from cryptography import x509
from sqlmodel import Session, col, select

from pki.authority import Authority, EnterpriseIdentity, Identity, PersonIdentity
from pki.errors import AlreadyRevokedError
from pki.keys import KeyAlgorithm
from seals import pin as pins
from seals.authorization import (
    Caller,
    Policy,
    SealFacts,
    SealUse,
    UseContext,
    default_policy,
    normalize_document_type,
    normalize_sha256,
)
from seals.codes import new_seal_code
from seals.errors import (
    SealConflictError,
    SealError,
    SealInputError,
    SealNotFoundError,
)
from seals.images import normalize_uploaded_image
from seals.kinds import SealKind, kind_spec
from seals.lifecycle import TERMINAL, SealAction, SealStatus, next_status
from seals.models import Seal
from seals.render import SealImageSpec, render_seal
from seals.seal_lookups import Clock
from seals.seal_pins import SealPins

PERSON_CERTIFIED_KINDS = frozenset({SealKind.PERSONAL})
"""Kinds bound to a personal certificate. The legal representative's seal is the
organization's (kept and used by it, naming its legal representative), so it is bound to an
enterprise certificate like the other organization seals."""
ONE_LIVE_PER_ORGANIZATION = frozenset({SealKind.OFFICIAL})
"""An organization has one official seal at a time (revoke the old one first)."""
MAX_NAME = 200


@dataclass(frozen=True)
class UploadedImage:
    """An image supplied by the holder (a handwritten signature), normalised on creation."""

    data: bytes
    white_to_transparent: bool = True


@dataclass(frozen=True, kw_only=True)
class NewSeal:
    """What a new seal is. `identity` is the verified owner written into its certificate."""

    organization_id: str
    kind: SealKind
    identity: Identity
    image: SealImageSpec | UploadedImage
    name: str | None = None
    """Display name; default: owner name + the kind's label (杭州青禾科技有限公司合同专用章)."""
    person_id: str | None = None
    requires_approval: bool = False
    lifetime_days: int | None = None
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    print_code: bool = True
    """Draw the seal code along the bottom arc where the kind has room for it."""
    activate: bool = False
    dpi: int = 600
    code_region: str | None = None
    """The seal code's region (6-digit division code); default: the registry's, else the
    owner's credit code's (positions 3-8)."""


@dataclass(frozen=True)
class Transition:
    """The outcome of a lifecycle act."""

    seal: SealFacts
    action: SealAction
    previous: SealStatus
    certificate_revoked: bool = False
    issuer_ca: str | None = None
    sm2_issuer_ca: str | None = None
    """The SM2 certificate's issuer when this act revoked it too."""


class SealRegistry(SealPins):
    def __init__(
        self,
        *,
        authority: Authority,
        font_path: str | PathLike[str] | None = None,
        clock: Clock | None = None,
        pin_policy: pins.PinPolicy | None = None,
        code_region: str | None = None,
        sm2: bool = False,
    ) -> None:
        self.authority = authority
        self.sm2 = sm2
        """Issue an SM2 certificate beside the main one for every new seal (a setting)."""
        self.code_region = code_region
        """Every code's region when this registry serves one region (a setting)."""
        self.font_path = font_path
        self.clock: Clock = clock or authority.clock
        self.pin_policy = pin_policy or pins.PinPolicy()

    # -- creation -------------------------------------------------------------------------

    def create(self, session: Session, *, new: NewSeal, created_by: str) -> SealFacts:
        """A seal with a fresh code, image, key and certificate (one transaction)."""
        form = kind_spec(new.kind)
        by_person = new.kind in PERSON_CERTIFIED_KINDS
        if by_person != isinstance(new.identity, PersonIdentity):
            wanted = "a person's" if by_person else "the organization's"
            raise SealInputError(f"a {new.kind.value} seal is certified with {wanted} identity")
        if by_person and new.person_id is None:
            raise SealInputError(f"a {new.kind.value} seal needs its owner (person_id)")
        if not by_person and new.person_id is not None:
            raise SealInputError(f"a {new.kind.value} seal belongs to the organization")
        if KeyAlgorithm(new.key_algorithm) is KeyAlgorithm.SM2:
            raise SealInputError(
                "a seal's main certificate is ECDSA or RSA; its SM2 certificate is issued beside it"
            )
        if isinstance(new.image, UploadedImage) and not form.accepts_uploaded_image:
            raise SealInputError(f"a {new.kind.value} seal is rendered, not uploaded")
        if isinstance(new.image, SealImageSpec) and new.image.kind is not new.kind:
            raise SealInputError("the image spec is for another kind of seal")
        if new.kind in ONE_LIVE_PER_ORGANIZATION:
            self._refuse_second_live(session, new)
        code = self._unused_code(session, self._region(new))
        name = (new.name if new.name is not None else _default_name(new)).strip()
        if not name or len(name) > MAX_NAME:
            raise SealInputError(f"a seal name is 1 to {MAX_NAME} characters")
        png, dpi, source = self._image(new, code)
        issued = self.authority.issue(
            session,
            identity=new.identity,
            owner_org_id=new.organization_id,
            owner_person_id=new.person_id,
            key_algorithm=new.key_algorithm,
            lifetime_days=new.lifetime_days,
            seal_code=code,
        )
        assert issued.key_id is not None
        dual = None
        if self.sm2:
            dual = self.authority.issue(
                session,
                identity=new.identity,
                owner_org_id=new.organization_id,
                owner_person_id=new.person_id,
                key_algorithm=KeyAlgorithm.SM2,
                lifetime_days=new.lifetime_days,
                seal_code=code,
            )
        now = self.clock()
        seal = Seal(
            code=code,
            organization_id=new.organization_id,
            person_id=new.person_id,
            kind=new.kind.value,
            name=name,
            status=(SealStatus.ACTIVE if new.activate else SealStatus.PENDING).value,
            image_png=png,
            image_sha256=hashlib.sha256(png).hexdigest(),
            image_source=source,
            image_dpi=dpi,
            certificate_id=issued.certificate_id,
            key_id=issued.key_id,
            sm2_certificate_id=dual.certificate_id if dual else None,
            sm2_key_id=dual.key_id if dual else None,
            valid_from=issued.not_before,
            valid_until=min(issued.not_after, dual.not_after) if dual else issued.not_after,
            requires_approval=new.requires_approval,
            created_by=created_by,
            created_at=now,
            status_changed_at=now,
        )
        session.add(seal)
        session.flush()
        return SealFacts.of(seal, now=now)

    def preview(self, *, spec: SealImageSpec, dpi: int) -> bytes:
        """A rendered image without creating anything (a placeholder seal code is shown)."""
        return render_seal(spec=spec, font_path=self.font_path, dpi=dpi).png

    def _image(self, new: NewSeal, code: str) -> tuple[bytes, int | None, str]:
        if isinstance(new.image, UploadedImage):
            png = normalize_uploaded_image(
                new.image.data, white_to_transparent=new.image.white_to_transparent
            )
            return png, None, "uploaded"
        spec = new.image
        if new.print_code and kind_spec(new.kind).accepts_seal_code:
            spec = dataclasses.replace(spec, seal_code=code)
        rendered = render_seal(spec=spec, font_path=self.font_path, dpi=new.dpi)
        return rendered.png, rendered.dpi, "rendered"

    def _region(self, new: NewSeal) -> str | None:
        if self.code_region is not None:
            return self.code_region
        if new.code_region is not None:
            return new.code_region
        if isinstance(new.identity, EnterpriseIdentity):
            return new.identity.uscc[2:8]
        return None

    def _unused_code(self, session: Session, region: str | None = None) -> str:
        for _ in range(8):
            code = new_seal_code(region)
            if session.exec(select(Seal.id).where(Seal.code == code)).first() is None:
                return code
        raise SealConflictError("could not draw an unused seal code")  # pragma: no cover

    def _refuse_second_live(self, session: Session, new: NewSeal) -> None:
        live = session.exec(
            select(Seal).where(
                Seal.organization_id == new.organization_id,
                Seal.kind == new.kind.value,
                col(Seal.status).notin_([s.value for s in TERMINAL]),
            )
        ).all()
        now = self.clock()
        if any(now < s.valid_until for s in live):
            raise SealConflictError(
                f"the organization already has a live {new.kind.value} seal; revoke it first"
            )

    # -- lifecycle ------------------------------------------------------------------------

    def transition(
        self,
        session: Session,
        *,
        seal_id: str,
        action: SealAction,
        organization_id: str | None = None,
        reason: str | None = None,
        certificate_reason: x509.ReasonFlags = x509.ReasonFlags.cessation_of_operation,
    ) -> Transition:
        """Apply `action` (`IllegalTransitionError` when the lifecycle forbids it). Revoking
        a seal revokes its certificate in the same transaction."""
        seal = session.get(Seal, seal_id, with_for_update=True)
        if seal is None or (
            organization_id is not None and seal.organization_id != organization_id
        ):
            raise SealNotFoundError(f"seal {seal_id} not found")
        now = self.clock()
        previous = SealFacts.of(seal, now=now).status
        target = next_status(previous, action)
        seal.status = target.value
        seal.status_changed_at = now
        revoked = False
        issuer = sm2_issuer = None
        if target is SealStatus.REVOKED:
            if reason is not None and len(reason) > 200:
                raise SealInputError("a revocation reason is at most 200 characters")
            seal.revocation_reason = reason
            try:
                outcome = self.authority.revoke(
                    session, certificate_id=seal.certificate_id, reason=certificate_reason
                )
                revoked, issuer = True, outcome.issuer_ca
            except AlreadyRevokedError:
                pass  # revoked directly through the certificate API before
            if seal.sm2_certificate_id is not None:
                with contextlib.suppress(AlreadyRevokedError):  # revoked through the API
                    sm2_issuer = self.authority.revoke(
                        session, certificate_id=seal.sm2_certificate_id, reason=certificate_reason
                    ).issuer_ca
        session.add(seal)
        session.flush()
        return Transition(
            seal=SealFacts.of(seal, now=now),
            action=action,
            previous=previous,
            certificate_revoked=revoked,
            issuer_ca=issuer,
            sm2_issuer_ca=sm2_issuer,
        )

    def expire_due(self, session: Session) -> list[SealFacts]:
        """Record `expired` for every seal whose validity has ended (a periodic sweep; reads
        and uses already treat such seals as expired)."""
        now = self.clock()
        due = session.exec(
            select(Seal).where(
                col(Seal.status).notin_([s.value for s in TERMINAL]),
                col(Seal.valid_until) <= now,
            )
        ).all()
        for seal in due:
            seal.status = SealStatus.EXPIRED.value
            seal.status_changed_at = now
            session.add(seal)
        session.flush()
        return [SealFacts.of(s, now=now) for s in due]

    def set_requires_approval(
        self, session: Session, *, seal_id: str, organization_id: str | None, required: bool
    ) -> SealFacts:
        seal = self.row(session, seal_id, organization_id=organization_id)
        seal.requires_approval = required
        session.add(seal)
        session.flush()
        return SealFacts.of(seal, now=self.clock())

    # -- use ------------------------------------------------------------------------------

    def load_for_use(
        self,
        session: Session,
        *,
        seal_id: str,
        caller: Caller,
        document_sha256: str,
        document_type: str | None = None,
        pin: str | None = None,
        organization_id: str | None = None,
        policy: Policy | None = None,
        document_type_established: bool = False,
    ) -> SealUse:
        """Authorise `caller` to apply seal `seal_id` to the document `document_sha256`.

        Runs `policy` (default: `default_policy`), then, for personal seals, the owner's PIN.
        Raises `SealNotFoundError` (missing, or not in `organization_id`), a
        `UseRefusedError` naming the reason, or `SealLockedError`. Nothing is spent here:
        call `SealUse.consume` in the transaction that stores the signed document.
        """
        digest = normalize_sha256(document_sha256)
        doc_type = normalize_document_type(document_type)
        seal = self.row(session, seal_id, organization_id=organization_id)
        now = self.clock()
        facts = SealFacts.of(seal, now=now)
        ctx = UseContext(
            seal=facts,
            caller=caller,
            document_sha256=digest,
            document_type=doc_type,
            now=now,
            document_type_established=document_type_established and doc_type is not None,
        )
        try:
            evidence = (policy or default_policy(facts)).check(session, ctx)
            checks = evidence.passed
            if facts.needs_pin:
                self._verify_pin(seal, pin, what="using the seal")
                if seal.pin_failures:
                    pins.reset_failures(session, seal_id=seal.id)
                checks += ("owner PIN",)
        except SealError as exc:
            # a refusal names the seal as people know it (name and code), never by its id
            exc.extra.setdefault("seal_code", facts.code)
            exc.extra.setdefault("seal_name", facts.name)
            raise
        return SealUse(
            seal=facts,
            caller=caller,
            document_sha256=digest,
            document_type=doc_type,
            evidence=evidence,
            authorised_at=now,
            checks=checks,
            document_type_established=ctx.document_type_established,
        )


def _default_name(new: NewSeal) -> str:
    form = kind_spec(new.kind)
    if isinstance(new.identity, EnterpriseIdentity):
        if new.kind is SealKind.LEGAL_REPRESENTATIVE and isinstance(new.image, SealImageSpec):
            return f"{new.identity.name}{form.label_zh}（{new.image.person_name}）"
        return f"{new.identity.name}{form.label_zh}"
    return f"{new.identity.name}{form.label_zh}"
