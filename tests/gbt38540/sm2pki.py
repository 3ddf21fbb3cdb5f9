"""A minimal SM2 PKI for the seal-structure tests: a seal-making CA and holder certificates.

Certificates are built with asn1crypto and signed SM2-with-SM3 by pki.sm2 (default user ID),
the same way the SM2 CA signs; `MemorySigner` is the `KeySigner` shape over an in-memory key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, core, x509
from asn1crypto import crl as asn1_crl
from cryptography import x509 as crypto_x509
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki import sm2
from pki.trust import TrustStore
from seals.gbt38540 import SealContent, SealPicture, asn1, build_seal
from seals.signing import SigningIdentity

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class MemorySigner:
    """`KeySigner`-shaped: signs SM2-with-SM3 (GM/T 0009 default ID) where the key lives."""

    algorithm = "sm2"

    def __init__(self, key: sm2.Sm2PrivateKey) -> None:
        self._key = key
        self.key_id = f"test-sm2-{secrets.token_hex(4)}"

    def sign(self, data: bytes, digest: str) -> bytes:
        assert digest == "sm3"
        return sm2.sign(self._key, data, sm2.DEFAULT_USER_ID)

    def public_key_info(self) -> bytes:
        return self._key.public_key_info()


@dataclass(frozen=True)
class Party:
    signer: MemorySigner
    certificate: bytes
    name: x509.Name


def _name(cn: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "common_name": cn})


def issue(
    cn: str,
    *,
    issuer: Party | None = None,
    ca: bool = False,
    not_before: datetime = T0,
    days: int = 3650,
) -> Party:
    """A certificate for a fresh SM2 key; self-signed when `issuer` is None."""
    key = sm2.generate_private_key()
    signer = MemorySigner(key)
    subject = _name(cn)
    issuer_name = subject if issuer is None else issuer.name
    extensions = [
        {
            "extn_id": "basic_constraints",
            "critical": True,
            "extn_value": {"ca": ca},
        },
        {
            "extn_id": "key_usage",
            "critical": True,
            "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature"},
        },
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(63),
            "signature": sm2.signature_algorithm(),
            "issuer": issuer_name,
            "validity": {
                "not_before": x509.Time({"utc_time": not_before}),
                "not_after": x509.Time({"utc_time": not_before + timedelta(days=days)}),
            },
            "subject": subject,
            "subject_public_key_info": x509.PublicKeyInfo.load(key.public_key_info()),
            "extensions": extensions,
        }
    )
    signing = signer if issuer is None else issuer.signer
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": sm2.signature_algorithm(),
            "signature_value": signing.sign(tbs.dump(), "sm3"),
        }
    )
    return Party(signer=signer, certificate=cert.dump(), name=subject)


def crl(issuer: Party, *, revoked: dict[int, datetime] | None = None, at: datetime = T0) -> bytes:
    """A CRL signed SM2-with-SM3 by `issuer`, listing `revoked` serials (serial -> date)."""
    entries = [
        {"user_certificate": serial, "revocation_date": x509.Time({"utc_time": when})}
        for serial, when in (revoked or {}).items()
    ]
    tbs = asn1_crl.TbsCertList(
        {
            "version": "v2",
            "signature": sm2.signature_algorithm(),
            "issuer": issuer.name,
            "this_update": x509.Time({"utc_time": at}),
            "next_update": x509.Time({"utc_time": at + timedelta(days=3650)}),
            "revoked_certificates": entries or None,
        }
    )
    return asn1_crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": sm2.signature_algorithm(),
            "signature": issuer.signer.sign(tbs.dump(), "sm3"),
        }
    ).dump()


def serial_of(party: Party) -> int:
    serial: int = x509.Certificate.load(party.certificate).serial_number
    return serial


def v1_seal(
    maker: Party,
    holder: Party,
    picture_png: bytes,
    *,
    vendor: str,
    es_id: str,
    seal_type: int,
    name: str,
    size: tuple[int, int],
) -> asn1.SESealV1:
    """A GM/T 0031-2014 (v1) seal built by hand for `holder`, signed by `maker`: nested
    SES_SignInfo, no certListType, UTCTime dates, valid for 100 days from T0."""
    info = asn1.SESSealInfoV1(
        {
            "header": {"id": "ES", "version": 2, "vid": vendor},
            "es_id": es_id,
            "property": {
                "type": seal_type,
                "name": name,
                "cert_list": [holder.certificate],
                "create_date": core.UTCTime(T0),
                "valid_start": core.UTCTime(T0),
                "valid_end": core.UTCTime(T0 + timedelta(days=100)),
            },
            "picture": {"type": "png", "data": picture_png, "width": size[0], "height": size[1]},
        }
    )
    return asn1.SESealV1(
        {
            "eseal_info": info,
            "sign_info": {
                "cert": maker.certificate,
                "signature_algorithm": "1.2.156.10197.1.501",
                "sign_data": maker.signer.sign(info.dump(), "sm3"),
            },
        }
    )


class Sm2PyhankoSigner(signers.Signer):
    """An SM2 key behind pyhanko's Signer: SM2-with-SM3 over the signed attributes."""

    def __init__(self, party: Party, chain: list[bytes]) -> None:
        self._party = party
        super().__init__(
            signing_cert=x509.Certificate.load(party.certificate),
            cert_registry=SimpleCertificateStore.from_certs(
                [x509.Certificate.load(c) for c in chain]
            ),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"}),
        )

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        return bytes(72) if dry_run else self._party.signer.sign(data, "sm3")


class Sm2Pki:
    """Root -> organization CA -> holders; root -> seal makers (one revoked); a CRL for each CA."""

    def __init__(self) -> None:
        self.root = issue("SM2 Root CA", ca=True)
        self.issuing = issue("SM2 Organization CA", issuer=self.root, ca=True)
        self.holder = issue("SM2 Seal Holder", issuer=self.issuing)
        self.other = issue("SM2 Other Holder", issuer=self.issuing)
        self.revoked = issue("SM2 Revoked Holder", issuer=self.issuing)
        self.maker = issue("SM2 Seal Maker", issuer=self.root)
        self.revoked_maker = issue("SM2 Revoked Seal Maker", issuer=self.root)
        rogue_root = issue("Rogue SM2 Root", ca=True)
        self.rogue = issue("Rogue SM2 Holder", issuer=rogue_root)
        self.crl = crl(self.issuing, revoked={serial_of(self.revoked): T0 + timedelta(days=2)})
        self.root_crl = crl(
            self.root, revoked={serial_of(self.revoked_maker): T0 + timedelta(days=2)}
        )

    def trust(self, *extra_roots: crypto_x509.Certificate) -> TrustStore:
        return TrustStore(
            own_roots=[crypto_x509.load_der_x509_certificate(self.root.certificate), *extra_roots],
            intermediates=[crypto_x509.load_der_x509_certificate(self.issuing.certificate)],
        )

    def lookup(
        self, *, root: bool = True
    ) -> Callable[[crypto_x509.Certificate, crypto_x509.Certificate], bytes | None]:
        """Our CA's revocation answer: the organization CA's CRL for holders, the root's CRL
        for the seal maker and the organization CA (`root=False`: the root gives no answer)."""
        issuing = crypto_x509.load_der_x509_certificate(self.issuing.certificate)
        root_ca = crypto_x509.load_der_x509_certificate(self.root.certificate)

        def revocation(
            issuer: crypto_x509.Certificate, _c: crypto_x509.Certificate
        ) -> bytes | None:
            if issuer == issuing:
                return self.crl
            return self.root_crl if root and issuer == root_ca else None

        return revocation

    def pyhanko_signer(self, who: Party) -> Sm2PyhankoSigner:
        return Sm2PyhankoSigner(who, [self.issuing.certificate])

    def identity(self, who: Party | None = None, eseal: bytes | None = None) -> SigningIdentity:
        """What the service hands the signing formats: certificate, chain, key signer, seal."""
        who = who or self.holder
        return SigningIdentity(
            certificate=crypto_x509.load_der_x509_certificate(who.certificate),
            chain=(crypto_x509.load_der_x509_certificate(self.issuing.certificate),),
            signer=who.signer,  # type: ignore[arg-type]  # KeySigner-shaped SM2 signer
            eseal=eseal,
        )

    def eseal(self, *holders: Party, valid_end: datetime | None = None) -> bytes:
        """GB/T 38540 seal data made by this PKI's seal maker for `holders` (default: holder)."""
        content = SealContent(
            es_id="91310000MA1FL8XQ3B0001",
            seal_type=1,
            name="上海测试有限公司合同专用章",
            certificates=tuple(h.certificate for h in holders or (self.holder,)),
            created=T0,
            valid_start=T0,
            valid_end=valid_end or datetime.now(UTC) + timedelta(days=365),
            picture=SealPicture(image_type="png", data=b"\x89PNG", width_mm=42, height_mm=42),
        )
        return build_seal(
            content, maker=self.maker.signer, maker_certificate=self.maker.certificate
        )
