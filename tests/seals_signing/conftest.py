"""Fixtures for sealing tests: a small real PKI, an in-process RFC 3161 TSA, real PDFs.

Hierarchy (built with `cryptography`): root (P-384) -> issuing CA (P-256) -> signer leaves
(P-256, keyUsage digitalSignature + nonRepudiation) and a TSA (P-256, EKU timeStamping
critical). No AIA / CRL distribution points, so poppler does not go looking for responders.
Revocation material: OCSP responses signed by the issuing CA for each leaf and the TSA, and
CRLs from the root and the issuing CA.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from PIL import Image, ImageDraw
from pyhanko.sign.timestamps.api import TimeStamper

from seals.documents import make_document
from seals.signing import SealAppearance, SigningIdentity, ValidationMaterial
from tests.support.pki import issue, name

NOTO_SANS = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class SealPki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    tsa: x509.Certificate
    tsa_key: ec.EllipticCurvePrivateKey
    alice: SigningIdentity  # e.g. 乙方's contract seal
    bob: SigningIdentity  # e.g. 甲方's contract seal
    workdir: Path

    def ocsp_for(self, cert: x509.Certificate) -> bytes:
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.ca,
                algorithm=hashes.SHA256(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=NOW - timedelta(minutes=5),
                next_update=NOW + timedelta(days=7),
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ca)
            .sign(self.ca_key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)

    def crl_of(self, issuer: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bytes:
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(NOW - timedelta(minutes=5))
            .next_update(NOW + timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        return crl.public_bytes(serialization.Encoding.DER)

    def validation_material(self) -> ValidationMaterial:
        return ValidationMaterial(
            trust_roots=(self.root,),
            certificates=(self.ca, self.tsa),
            ocsp_responses=(
                self.ocsp_for(self.alice.certificate),
                self.ocsp_for(self.bob.certificate),
                self.ocsp_for(self.tsa),
            ),
            crls=(self.crl_of(self.root, self.root_key), self.crl_of(self.ca, self.ca_key)),
        )


class LocalTimeStamper(TimeStamper):
    """An RFC 3161 TSA in process: ECDSA P-256, ESSCertIDv2, nonce echoed. No network."""

    def __init__(
        self,
        *,
        cert: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> None:
        super().__init__(include_nonce=True)
        self._cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        self._chain = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain
        ]
        self._key = key
        self.issued = 0

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        self.issued += 1
        now = datetime.now(UTC)
        tst_info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": "1.2.156.1.2.3.4",  # test policy under a made-up arc
                "message_imprint": req["message_imprint"],
                "serial_number": secrets.randbits(64),
                "gen_time": now,
                "accuracy": {"seconds": 1},
                "nonce": req["nonce"].native,
                "tsa": asn1_x509.GeneralName(name="directory_name", value=self._cert.subject),
            }
        )
        content = tst_info.dump()
        cert_der = self._cert.dump()
        signed_attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(now)})]},
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "hash_algorithm": {"algorithm": "sha256"},
                                    "cert_hash": hashlib.sha256(cert_der).digest(),
                                }
                            ]
                        }
                    ],
                },
            ]
        )
        signature = self._key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": self._cert.issuer,
                            "serial_number": self._cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": cms.ParsableOctetString(content),
                },
                "certificates": [self._cert, *self._chain],
                "signer_infos": [signer_info],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def _pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SealPki:
    workdir = tmp_path_factory.mktemp("seals-pki")
    root_entity = issue(name("eseal Test Root CA"), issuer=None, ca=True, curve=ec.SECP384R1())
    ca_entity = issue(name("eseal Test Organization CA"), issuer=root_entity, ca=True)
    tsa_entity = issue(
        name("eseal Test TSA"),
        issuer=ca_entity,
        ca=False,
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=True,
    )
    root, root_key = root_entity.cert, root_entity.key
    ca, ca_key = ca_entity.cert, ca_entity.key
    tsa, tsa_key = tsa_entity.cert, tsa_entity.key
    identities = []
    for cn, org in (
        ("杭州青禾科技有限公司 合同专用章", "杭州青禾科技有限公司"),
        ("某市采购中心 合同专用章", "某市采购中心"),
    ):
        leaf = issue(name(cn, org=org), issuer=ca_entity, ca=False)
        identities.append(
            SigningIdentity(certificate=leaf.cert, chain=(ca, root), signer=leaf.signer)
        )
    _pem(workdir / "root.pem", root)
    _pem(workdir / "chain.pem", root, ca)
    return SealPki(
        root=root,
        root_key=root_key,
        ca=ca,
        ca_key=ca_key,
        tsa=tsa,
        tsa_key=tsa_key,
        alice=identities[0],
        bob=identities[1],
        workdir=workdir,
    )


@pytest.fixture(scope="session")
def timestamper(pki: SealPki) -> LocalTimeStamper:
    return LocalTimeStamper(cert=pki.tsa, key=pki.tsa_key, chain=(pki.ca,))


@pytest.fixture(scope="session")
def validation(pki: SealPki) -> ValidationMaterial:
    return pki.validation_material()


@pytest.fixture(scope="session")
def nssdb(pki: SealPki) -> str | None:
    """An NSS database trusting the test root, for pdfsig; None if certutil is missing."""
    if shutil.which("certutil") is None or shutil.which("pdfsig") is None:
        return None
    db = pki.workdir / "nssdb"
    db.mkdir()
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True
    )
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "eseal-test-root",
            "-t",
            "CT,C,C",
            "-i",
            str(pki.workdir / "root.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return f"sql:{db}"


def red_seal_png(size_px: int = 400) -> bytes:
    """A round red seal: ring, star, transparent background (a stand-in for seals/render.py)."""
    image = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (220, 0, 0, 255)
    width = size_px // 20
    draw.ellipse((width, width, size_px - width, size_px - width), outline=red, width=width)
    c = size_px / 2
    r = size_px * 0.18
    import math

    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((c + radius * math.cos(angle), c + radius * math.sin(angle)))
    draw.polygon(points, fill=red)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def seal() -> SealAppearance:
    return SealAppearance(image=red_seal_png(), width_mm=42.0, height_mm=42.0)


CONTRACT_PARAGRAPHS = (
    "甲方：某市采购中心（统一社会信用代码 123301000024938516）",
    "乙方：杭州青禾科技有限公司（统一社会信用代码 91440300MA5F6G7H8B）",
    "第一条 采购内容：办公设备一批，详见附件清单。",
    "第二条 合同金额：人民币伍拾万元整（¥500,000.00）。",
    "第三条 交付期限：合同签订后三十日内交付并安装调试完毕。",
    "第四条 验收：甲方在收货后七个工作日内组织验收。",
    "第五条 付款方式：验收合格后十五个工作日内一次性支付。",
    "第六条 违约责任：任何一方违约，应赔偿对方因此遭受的损失。",
    "This contract is made in two originals. Party A (Seal) and Party B (Seal) below.",
)


@pytest.fixture(scope="session")
def contract_pdf() -> bytes:
    """A 3-page contract in Noto Sans CJK (CFF -> CIDFontType0) with 甲方/乙方 seal lines."""
    return make_document(
        title="政府采购合同",
        paragraphs=CONTRACT_PARAGRAPHS,
        pages=3,
        font_path=NOTO_SANS,
        font_number=2,  # Noto Sans CJK SC in the collection
        signature_lines=("甲方（盖章）：", "乙方（盖章）：", "Party A (Seal):"),
    )


@pytest.fixture(scope="session")
def truetype_pdf() -> bytes:
    """A 2-page document in WenQuanYi Zen Hei (TrueType -> CIDFontType2)."""
    return make_document(
        title="行政执法检查记录",
        paragraphs=(
            "检查时间：2024年5月8日",
            "检查地点：杭州市西湖区",
            "检查情况：未发现违法行为。",
        ),
        pages=2,
        font_path=WQY,
        signature_lines=("执法机关（盖章）：",),
    )
