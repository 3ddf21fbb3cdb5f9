"""The QCStatements extension (RFC 3739, ETSI EN 319 412-5), built with asn1crypto.

asn1crypto knows no QCStatements type, so the ASN.1 structures are declared here as asn1crypto
classes and encoded by its DER encoder (no hand-made bytes). What a certificate states is data
(`QcProfile`): the type of the certificate (e-seal or e-signature), the semantics identifier of
the subject's identifier (EN 319 412-1: legal or natural person), and - only where true for the
deployment - EU qualified status (QcCompliance) and a qualified signature/seal creation device
(QcSSCD). Both default to off: a claim of qualified status that the issuer cannot back is worse
than none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from asn1crypto import core
from cryptography import x509

QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
PKIX_QC_SYNTAX_V2 = "1.3.6.1.5.5.7.11.2"  # id-qcs-pkixQCSyntax-v2 (RFC 3739 3.2.6.1)
QC_COMPLIANCE = "0.4.0.1862.1.1"  # id-etsi-qcs-QcCompliance
QC_SSCD = "0.4.0.1862.1.4"  # id-etsi-qcs-QcSSCD
QC_TYPE = "0.4.0.1862.1.6"  # id-etsi-qcs-QcType


class QcType(StrEnum):
    """EN 319 412-5 4.2.3 certificate types."""

    ESIGN = "0.4.0.1862.1.6.1"
    ESEAL = "0.4.0.1862.1.6.2"


class Semantics(StrEnum):
    """EN 319 412-1 5.1 semantics identifiers (NTRCN- / IDCCN- identifiers)."""

    NATURAL = "0.4.0.194121.1.1"
    LEGAL = "0.4.0.194121.1.2"


class _QcTypeSyntax(core.SequenceOf):
    _child_spec = core.ObjectIdentifier


class _SemanticsInformation(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("semantics_identifier", core.ObjectIdentifier, {"optional": True})
    ]


class _QcStatement(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("statement_id", core.ObjectIdentifier),
        ("statement_info", core.Any, {"optional": True}),
    ]


class _QcStatements(core.SequenceOf):
    _child_spec = _QcStatement


@dataclass(frozen=True)
class QcProfile:
    """What a profile states in QCStatements."""

    qc_type: QcType
    semantics: Semantics | None = None
    compliance: bool = False
    sscd: bool = False


def qc_statements_der(profile: QcProfile) -> bytes:
    """DER of the QCStatements extension value for `profile`."""
    statements: list[_QcStatement] = []
    if profile.compliance:
        statements.append(_QcStatement({"statement_id": QC_COMPLIANCE}))
    if profile.sscd:
        statements.append(_QcStatement({"statement_id": QC_SSCD}))
    qc_type = _QcTypeSyntax([profile.qc_type.value])
    statements.append(_QcStatement({"statement_id": QC_TYPE, "statement_info": qc_type}))
    if profile.semantics is not None:
        info = _SemanticsInformation({"semantics_identifier": profile.semantics.value})
        statements.append(_QcStatement({"statement_id": PKIX_QC_SYNTAX_V2, "statement_info": info}))
    return _QcStatements(statements).dump()


def qc_statements_extension(profile: QcProfile) -> x509.UnrecognizedExtension:
    """The non-critical extension value (EN 319 412-5 4.1: QCStatements is non-critical)."""
    return x509.UnrecognizedExtension(QC_STATEMENTS_OID, qc_statements_der(profile))


def read_qc_statements(der: bytes) -> dict[str, object]:
    """Statement id -> native statement info, for tests and reports."""
    parsed = _QcStatements.load(der)
    out: dict[str, object] = {}
    for statement in parsed:
        info = statement["statement_info"]
        out[statement["statement_id"].dotted] = None if isinstance(info, core.Void) else info.dump()
    return out
