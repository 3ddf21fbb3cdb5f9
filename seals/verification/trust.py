"""Trust at the proven signing time: path building, revocation gathering and judgement."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import EmbeddedPdfSignature
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath

from pki.trust import RevinfoKind, RevocationMaterial, classify_revinfo
from seals.pinned import assess_pinned
from seals.reports import Finding, RevocationInfo, RevocationSource, RevocationStatus, SubIndication
from seals.verification.findings import Acc, finding, fmt, msg, revoked_later, short
from seals.verification.pathcache import all_certs, validated
from seals.verification.signer import anchor_subject, chain_subjects, to_crypto
from seals.verification.state import VerifierState

logger = logging.getLogger(__name__)


@dataclass
class CertAssessment:
    chain: tuple[str, ...] = ()
    anchor: str | None = None
    anchor_ours: bool = False
    revocation: RevocationInfo = field(
        default_factory=lambda: RevocationInfo(
            status=RevocationStatus.NOT_CHECKED, source=RevocationSource.NONE
        )
    )
    embedded_revinfo_for_leaf: bool = False


def anchor_is_ours(state: VerifierState, path: ValidationPath | None) -> bool:
    if path is None:
        return False
    try:
        anchor_cert = getattr(path.trust_anchor, "certificate", None)
        if anchor_cert is None:
            return False
        anchor = state.trust.anchor_for(anchor_cert)
    except Exception:
        return False
    return anchor is not None and anchor.ours


@dataclass
class Revinfo:
    """Revocation material gathered for one signer certificate, and where the leaf's came from."""

    material: RevocationMaterial
    service: RevocationMaterial
    source: RevocationSource
    leaf_service: RevinfoKind | None
    embedded_for_leaf: bool


@dataclass
class Judging:
    """The certificate under judgement and the moment it is judged at."""

    cert: asn1_x509.Certificate
    other_certs: list[asn1_x509.Certificate]
    moment: datetime
    poe: datetime | None


async def assess_certificate(
    state: VerifierState,
    acc: Acc,
    cert: asn1_x509.Certificate,
    *,
    other_certs: list[asn1_x509.Certificate],
    embedded: RevocationMaterial,
    poe: datetime | None,
) -> CertAssessment:
    """Path, revocation and judgement of the signer's certificate at the proven signing time
    (`poe`), or now when nothing proves when it signed."""
    result = CertAssessment()
    moment = poe if poe is not None and poe <= state.now else state.now
    key_usage_check(acc, cert)
    path = await build_path(state, acc, cert, other_certs, moment)
    if path is None:
        return result
    result.chain = chain_subjects(path)
    result.anchor = anchor_subject(path)
    result.anchor_ours = anchor_is_ours(state, path)
    if state.trust.anchor_for(cert) is not None:
        outcome = assess_pinned(cert, moment=moment, poe=poe)
        for finding in outcome.findings:
            acc.add(finding)
        if outcome.failure is not None:
            (acc.fail if outcome.failure_is_total else acc.indeterminate)(*outcome.failure)
        result.revocation = outcome.revocation
        return result
    revinfo = gather_revocation(state, cert, path, embedded, anchor_ours=result.anchor_ours)
    result.embedded_revinfo_for_leaf = revinfo.embedded_for_leaf
    judging = Judging(cert=cert, other_certs=other_certs, moment=moment, poe=poe)
    await judge_at_signing_time(state, acc, result, judging, revinfo)
    return result


async def build_path(
    state: VerifierState,
    acc: Acc,
    cert: asn1_x509.Certificate,
    other_certs: list[asn1_x509.Certificate],
    moment: datetime,
) -> ValidationPath | None:
    """A path to one of the recognised anchors (no revocation yet), or None with a finding."""

    probe = state.trust.validation_context(
        moment=moment,
        other_certs=other_certs,
        require_revocation=False,
        fetcher_backend=state.backend,
    )
    try:
        paths = await probe.path_builder.async_build_paths(cert)
    except (PathBuildingError, Exception) as exc:
        logger.debug("no path: %s", exc)
        paths = []
    if not paths:
        acc.indeterminate(
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
            finding("untrusted-ca"),
        )
        return None
    return paths[0]


def gather_revocation(
    state: VerifierState,
    cert: asn1_x509.Certificate,
    path: ValidationPath,
    embedded: RevocationMaterial,
    *,
    anchor_ours: bool,
) -> Revinfo:
    """Revocation material: ours from the service, others from the document."""
    material = embedded
    service = RevocationMaterial()
    source = RevocationSource.NONE
    leaf_service: RevinfoKind | None = None
    if anchor_ours and state.revocation_lookup is not None:
        certs = list(path.iter_certs(include_root=True))
        for issuer, subject in itertools.pairwise(certs):
            der = state.revocation_lookup(to_crypto(issuer), to_crypto(subject))
            if der is None:
                continue
            kind = classify_revinfo(der)
            if kind is RevinfoKind.OCSP:
                service = service + RevocationMaterial(ocsps=(der,))
            elif kind is RevinfoKind.CRL:
                service = service + RevocationMaterial(crls=(der,))
            if subject.dump() == cert.dump():
                leaf_service = kind
        material = material + service
    embedded_for_leaf = covers(embedded, cert)
    if leaf_service is RevinfoKind.OCSP:
        source = RevocationSource.SERVICE
    elif leaf_service is RevinfoKind.CRL:
        source = RevocationSource.CRL
    elif embedded_for_leaf:
        source = RevocationSource.EMBEDDED_DSS
    return Revinfo(
        material=material,
        service=service,
        source=source,
        leaf_service=leaf_service,
        embedded_for_leaf=embedded_for_leaf,
    )


async def judge_at_signing_time(
    state: VerifierState, acc: Acc, result: CertAssessment, judging: Judging, revinfo: Revinfo
) -> None:
    """Validate the path at the proven signing time (or now), revocation required, and judge
    the outcome: revoked, out of validity, no revocation data, weak algorithm, or good."""
    cert, other_certs, moment = judging.cert, judging.other_certs, judging.moment
    at_poe = await validate_at(state, cert, other_certs, revinfo.material, moment)
    if isinstance(at_poe, RevokedError):
        result.revocation = judge_revoked(acc, at_poe, judging, revinfo.source)
    elif isinstance(at_poe, ExpiredError | NotYetValidError):
        judge_out_of_validity(acc, at_poe, judging.poe)
    elif isinstance(at_poe, InsufficientRevinfoError):
        result.revocation = await judge_no_revinfo(state, acc, judging, revinfo)
    elif isinstance(at_poe, DisallowedAlgorithmError):
        acc.indeterminate(
            SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
            finding("weak-algorithm"),
        )
    elif isinstance(at_poe, Exception):
        acc.indeterminate(
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            msg(
                "chain-invalid",
                f"证书链验证失败：{short(at_poe)}",
                f"The certificate chain does not validate: {short(at_poe)}",
            ),
        )
    else:
        result.revocation = await judge_good(state, acc, judging, revinfo)
        acc.add(trusted_finding(result))


def judge_revoked(
    acc: Acc, at_poe: RevokedError, judging: Judging, source: RevocationSource
) -> RevocationInfo:
    """Revoked before the proven signing time fails; revoked with no proof is undetermined."""
    moment, poe = judging.moment, judging.poe
    revoked_at = at_poe.revocation_dt
    ca = is_ca_revocation(at_poe)
    if poe is not None and moment == poe:
        acc.fail(
            SubIndication.REVOKED,
            msg(
                "revoked",
                f"{'CA ' if ca else ''}证书在签署时间（{fmt(poe)}）之前已于 "
                f"{fmt(revoked_at)} 被吊销。",
                f"The {'CA' if ca else 'signer'} certificate was revoked on "
                f"{fmt(revoked_at)}, before the proven signing time {fmt(poe)}.",
            ),
        )
    else:
        acc.indeterminate(
            SubIndication.REVOKED_CA_NO_POE if ca else SubIndication.REVOKED_NO_POE,
            msg(
                "revoked-no-poe",
                f"证书已于 {fmt(revoked_at)} 被吊销，且没有时间戳证明签名早于吊销时间。",
                f"The certificate was revoked on {fmt(revoked_at)} and no time-stamp "
                "proves the signature was made before that.",
            ),
        )
    return RevocationInfo(
        status=RevocationStatus.REVOKED,
        source=source,
        revoked_at=revoked_at,
        checked_at=moment,
    )


def judge_out_of_validity(
    acc: Acc, at_poe: ExpiredError | NotYetValidError, poe: datetime | None
) -> None:
    """Outside its validity at a proven signing time fails; without proof, undetermined."""
    expired = isinstance(at_poe, ExpiredError)
    if poe is not None:
        acc.fail(
            SubIndication.EXPIRED if expired else SubIndication.NOT_YET_VALID,
            msg(
                "cert-out-of-validity",
                f"证书在签署时间（{fmt(poe)}）{'已过期' if expired else '尚未生效'}。",
                f"The certificate was {'expired' if expired else 'not yet valid'} at "
                f"the proven signing time {fmt(poe)}.",
            ),
        )
    else:
        acc.indeterminate(
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            msg(
                "cert-out-of-validity-no-poe",
                f"证书当前{'已过期' if expired else '尚未生效'}，且没有时间戳证明签署时间。",
                f"The certificate is {'expired' if expired else 'not yet valid'} now and "
                "no time-stamp proves when the signature was made.",
            ),
        )


async def judge_no_revinfo(
    state: VerifierState, acc: Acc, judging: Judging, revinfo: Revinfo
) -> RevocationInfo:
    """No revocation data at the signing time: the signature still stands when today's data
    shows a revocation only after the proven signing time."""
    cert, other_certs, moment, poe = judging.cert, judging.other_certs, judging.moment, judging.poe
    material, source = revinfo.material, revinfo.source
    later = None
    if poe is not None and moment < state.now:
        later = await validate_at(state, cert, other_certs, material, state.now)
    if isinstance(later, RevokedError) and poe is not None and later.revocation_dt > poe:
        acc.add(revoked_later(later.revocation_dt, poe))
        return RevocationInfo(
            status=RevocationStatus.REVOKED_AFTER_SIGNING,
            source=source,
            revoked_at=later.revocation_dt,
            checked_at=moment,
        )
    acc.indeterminate(
        SubIndication.TRY_LATER,
        finding("no-revocation-info"),
    )
    return RevocationInfo(
        status=RevocationStatus.UNKNOWN, source=RevocationSource.NONE, checked_at=moment
    )


async def judge_good(
    state: VerifierState, acc: Acc, judging: Judging, revinfo: Revinfo
) -> RevocationInfo:
    """Good at the signing time; say so if it was revoked since."""
    cert, other_certs, moment, poe = judging.cert, judging.other_certs, judging.moment, judging.poe
    service, material = revinfo.service, revinfo.material
    revoked_at: datetime | None = None
    status = RevocationStatus.GOOD
    if poe is not None and moment < state.now:
        # Today's status: for our own certificates the service's answer is authoritative;
        # a still-fresh "good" embedded at signing time must not hide a later revocation.
        current = service if revinfo.leaf_service is not None else material
        later = await validate_at(state, cert, other_certs, current, state.now)
        if isinstance(later, RevokedError) and later.revocation_dt > poe:
            acc.add(revoked_later(later.revocation_dt, poe))
            status = RevocationStatus.REVOKED_AFTER_SIGNING
            revoked_at = later.revocation_dt
    return RevocationInfo(
        status=status, source=revinfo.source, revoked_at=revoked_at, checked_at=moment
    )


def trusted_finding(result: CertAssessment) -> Finding:
    """Whose CA issued the certificate that passed."""
    if result.anchor_ours:
        return finding("trusted-ours")
    return msg(
        "trusted-recognised",
        f"签署者证书由受认可的电子认证服务机构签发（{result.anchor}）。",
        f"The signer's certificate was issued by a recognised CA ({result.anchor}).",
    )


async def validate_at(
    state: VerifierState,
    cert: asn1_x509.Certificate,
    other_certs: list[asn1_x509.Certificate],
    material: RevocationMaterial,
    moment: datetime,
) -> ValidationPath | Exception:
    """The path of `cert` validated at `moment` with `material`, revocation required, or
    pyhanko-certvalidator's verdict against it; reused from `pathcache.validated` where the
    answer cannot differ (same inputs, same gap between the instants they name)."""
    key = None
    if state.backend is None:  # with network fetching the answer is not a function of inputs
        key = validated.key(
            cert, other_certs, state.trust, material, moment, require_revocation=True
        )
        kept = validated.get(key, moment)
        if kept is not None:
            return kept
    vc = state.trust.validation_context(
        moment=moment,
        other_certs=other_certs,
        revocation=material,
        require_revocation=True,
        fetcher_backend=state.backend,
    )
    validator = CertificateValidator(cert, other_certs, validation_context=vc)
    answer: ValidationPath | Exception
    try:
        answer = await validator.async_validate_path()
    except (
        PathValidationError,
        PathBuildingError,
        InvalidCertificateError,
        ValidationError,
    ) as exc:
        answer = exc
    except Exception as exc:
        logger.info("path validation failed unexpectedly: %s", exc)
        return exc
    if key is not None:
        validated.put(
            key,
            moment,
            answer,
            certs=all_certs(cert, other_certs, state.trust),
            material=material,
        )
    return answer


def key_usage_check(acc: Acc, cert: asn1_x509.Certificate) -> None:
    try:
        usage = cert.key_usage_value
    except Exception:
        return
    if usage is None:
        return
    bits = set(usage.native)
    if not bits & {"digital_signature", "non_repudiation"}:
        acc.indeterminate(
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            finding("key-usage"),
        )


def is_ca_revocation(exc: RevokedError) -> bool:
    """Whether the revoked certificate is a CA in the path rather than the signer's own."""
    state = getattr(exc, "proc_state", None)
    try:
        return state is not None and not state.is_ee_cert
    except Exception:
        return False


def covers(material: RevocationMaterial, cert: asn1_x509.Certificate) -> bool:
    """Whether embedded material names the certificate (OCSP by serial, CRL by issuer)."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp

    serial = cert.serial_number
    issuer = cert.issuer
    for der in material.ocsps:
        try:
            basic = asn1_ocsp.OCSPResponse.load(der)["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial:
                    return True
        except Exception:  # noqa: S112
            continue
    for der in material.crls:
        try:
            if asn1_crl.CertificateList.load(der)["tbs_cert_list"]["issuer"] == issuer:
                return True
        except Exception:  # noqa: S112
            continue
    return False


def cms_revinfo(emb: EmbeddedPdfSignature) -> RevocationMaterial:
    """Revocation data in the CMS adbe-revocationInfoArchival signed attribute."""
    try:
        archival = find_unique_cms_attribute(
            emb.signer_info["signed_attrs"], "adobe_revocation_info_archival"
        )
    except Exception:
        return RevocationMaterial()
    try:
        return RevocationMaterial(
            ocsps=tuple(o.dump() for o in archival["ocsp"] or ()),
            crls=tuple(c.dump() for c in archival["crl"] or ()),
        )
    except Exception:
        return RevocationMaterial()
