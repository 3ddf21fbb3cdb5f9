"""SM2/SM3 primitives against standard vectors and two independent implementations.

Vectors: GB/T 32905-2016 Annex A (SM3); the SM2 signature example of GM/T 0003.2-2012 Annex A
on its 256-bit example curve with ID ALICE123@YAHOO.COM (checked by a textbook verifier in
tests/pki/sm2_reference.py); and the example key on the recommended curve with the default ID
1234567812345678 (d = 3945208F...; cited by implementations as GB/T 32918.2-2016 Annex A and
as GM/T 0003.5 Annex A: public key, Z, e and r, s are all checked).
Interop: gmssl (pure Python, its own SM2) and the OpenSSL 3 CLI with distid.
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from gmssl import sm2 as gm_sm2

from pki import sm2
from pki.errors import KeyStoreError
from tests.pki.sm2_reference import verify_e

# The standard's example key on the recommended curve, default user ID.
STD_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
STD_POINT = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
STD_Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
STD_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
STD_RS = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)

# GM/T 0003.2-2012 Annex A: the 256-bit example curve, ID ALICE123@YAHOO.COM.
EXAMPLE_CURVE = sm2.Curve(
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
)
EXAMPLE_X = 0x0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A
EXAMPLE_Y = 0x7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857
EXAMPLE_Z = "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
EXAMPLE_E = "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76"
EXAMPLE_R = 0x40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1
EXAMPLE_S = 0x6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7


def _key_from_d(d: int) -> sm2.Sm2PrivateKey:
    """PKCS#8 of a known private scalar, built with asn1crypto, read by our loader."""
    pkcs8 = keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters("named", sm2.ASN1_SM2_CURVE),
            },
            "private_key": keys.ECPrivateKey({"version": "ecPrivkeyVer1", "private_key": d}),
        }
    ).dump()
    return sm2.load_private_key(pkcs8)


def _gmssl(key: sm2.Sm2PrivateKey | None, point: bytes) -> gm_sm2.CryptSM2:
    signer = gm_sm2.CryptSM2(private_key=None, public_key="00" * 64)
    # set after __init__: gmssl 3.2.2 does public_key.lstrip("04"), which also eats an x
    # beginning with hex 0 or 4
    signer.public_key = point[1:].hex()
    if key is not None:
        d = keys.PrivateKeyInfo.load(key.pkcs8_der())["private_key"].parsed["private_key"]
        signer.private_key = f"{d.native:064x}"
    return signer


def test_sm3_gbt32905_vectors() -> None:
    assert sm2.sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert sm2.sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


def test_standard_example_on_the_recommended_curve() -> None:
    key = _key_from_d(STD_D)
    assert key.public_point() == STD_POINT
    assert sm2.z_value(STD_POINT, sm2.DEFAULT_USER_ID).hex().upper() == STD_Z
    assert sm2.message_digest(STD_POINT, b"message digest", b"1234567812345678").hex().upper() == (
        STD_E
    )
    spki = sm2.spki_from_point(STD_POINT)
    signature = sm2.der_signature(STD_RS)
    assert sm2.verify(spki, b"message digest", signature)
    assert not sm2.verify(spki, b"message digesT", signature)
    assert not sm2.verify(spki, b"message digest", signature, user_id=b"ALICE123@YAHOO.COM")
    # our own signature with the example key verifies in both
    ours = sm2.sign(key, b"message digest")
    assert sm2.verify(spki, b"message digest", ours)
    assert _gmssl(None, STD_POINT).verify_with_sm3(sm2.raw_signature(ours).hex(), b"message digest")


def test_gbt32918_example_curve_vector() -> None:
    """Z and e from our code on the Annex A example curve; r, s by the textbook verifier."""
    size = EXAMPLE_CURVE.size
    point = b"\x04" + EXAMPLE_X.to_bytes(size, "big") + EXAMPLE_Y.to_bytes(size, "big")
    z = sm2.z_value(point, b"ALICE123@YAHOO.COM", EXAMPLE_CURVE)
    assert z.hex().upper() == EXAMPLE_Z
    e = sm2.sm3(z + b"message digest")
    assert e.hex().upper() == EXAMPLE_E
    assert verify_e(EXAMPLE_CURVE, (EXAMPLE_X, EXAMPLE_Y), e, EXAMPLE_R, EXAMPLE_S)
    assert not verify_e(EXAMPLE_CURVE, (EXAMPLE_X, EXAMPLE_Y), e, EXAMPLE_R, EXAMPLE_S + 1)
    # the reference agrees with Tongsuo on the recommended curve as well
    assert verify_e(
        sm2.SM2P256V1,
        (int.from_bytes(STD_POINT[1:33], "big"), int.from_bytes(STD_POINT[33:], "big")),
        bytes.fromhex(STD_E),
        int.from_bytes(STD_RS[:32], "big"),
        int.from_bytes(STD_RS[32:], "big"),
    )


def test_ours_verified_by_gmssl_and_theirs_by_ours() -> None:
    key = sm2.generate_private_key()
    spki = key.public_key_info()
    message = os.urandom(300)
    gm = _gmssl(key, key.public_point())
    ours = sm2.sign(key, message)
    assert gm.verify_with_sm3(sm2.raw_signature(ours).hex(), message)
    assert not gm.verify_with_sm3(sm2.raw_signature(ours).hex(), message + b"x")
    # gmssl's own nonce is random.choice: pass a CSPRNG one
    theirs = gm.sign_with_sm3(message, f"{secrets.randbelow(sm2.SM2P256V1.n - 1) + 1:064x}")
    assert sm2.verify(spki, message, sm2.der_signature(bytes.fromhex(theirs)))
    assert not sm2.verify(spki, message[:-1], sm2.der_signature(bytes.fromhex(theirs)))


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("openssl") is None:
        assert os.environ.get("CI") != "true", "openssl is missing"
        pytest.skip("openssl is not installed")
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, check=False, timeout=60
    )


@pytest.mark.interop
def test_openssl_cli_with_distid(tmp_path: Path) -> None:
    key = sm2.generate_private_key()
    (tmp_path / "k.der").write_bytes(key.pkcs8_der())
    (tmp_path / "pub.der").write_bytes(key.public_key_info())
    (tmp_path / "m").write_bytes(b"document bytes")
    (tmp_path / "ours.der").write_bytes(sm2.sign(key, b"document bytes"))
    distid = ["-sigopt", "distid:1234567812345678"]
    verify = ["dgst", "-sm3", "-verify", tmp_path / "pub.der", "-keyform", "DER"]
    ok = _openssl(*verify, *distid, "-signature", tmp_path / "ours.der", tmp_path / "m")
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout
    # OpenSSL 3.0 without distid uses an empty ID: it must refuse a GM/T 0009 signature
    empty = _openssl(*verify, "-signature", tmp_path / "ours.der", tmp_path / "m")
    assert empty.returncode != 0
    pem = _openssl("pkey", "-inform", "DER", "-in", tmp_path / "k.der", "-out", tmp_path / "k.pem")
    assert pem.returncode == 0, pem.stderr
    sign = ["dgst", "-sm3", "-sign", tmp_path / "k.pem"]
    done = _openssl(*sign, *distid, "-out", tmp_path / "theirs.der", tmp_path / "m")
    assert done.returncode == 0, done.stderr
    theirs = (tmp_path / "theirs.der").read_bytes()
    assert sm2.verify(key.public_key_info(), b"document bytes", theirs)
    done = _openssl(*sign, "-out", tmp_path / "empty.der", tmp_path / "m")
    assert done.returncode == 0, done.stderr
    empty_id = (tmp_path / "empty.der").read_bytes()
    assert not sm2.verify(key.public_key_info(), b"document bytes", empty_id)
    assert sm2.verify(key.public_key_info(), b"document bytes", empty_id, user_id=b"")


def test_keys_round_trip_and_stay_hidden() -> None:
    key = sm2.generate_private_key()
    again = sm2.load_private_key(key.pkcs8_der())
    assert again.public_key_info() == key.public_key_info()
    assert sm2.verify(key.public_key_info(), b"m", sm2.sign(again, b"m"))
    assert "hidden" in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    info = keys.PublicKeyInfo.load(key.public_key_info())
    assert info["algorithm"]["algorithm"].dotted == sm2.OID_EC_PUBLIC_KEY
    assert info["algorithm"]["parameters"].chosen.dotted == sm2.OID_SM2_CURVE
    p256 = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyStoreError):
        sm2.load_private_key(
            p256.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    with pytest.raises(KeyStoreError):
        sm2.load_private_key(b"\x30\x03\x02\x01\x00")


def test_verify_refuses_what_it_should() -> None:
    key = sm2.generate_private_key()
    spki = key.public_key_info()
    signature = sm2.sign(key, b"m")
    assert sm2.verify(spki, b"m", signature)
    assert not sm2.verify(spki, b"m", signature + b"\x00")  # trailing bytes
    raw = sm2.raw_signature(signature)
    assert not sm2.verify(spki, b"m", raw)  # r || s is not DER
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    high = sm2.der_signature(r.to_bytes(32, "big") + (s + sm2.SM2P256V1.n).to_bytes(33, "big")[1:])
    assert not sm2.verify(spki, b"m", high)
    assert not sm2.verify(spki, b"m", sm2.der_signature(bytes(64)))
    other = sm2.generate_private_key().public_key_info()
    assert not sm2.verify(other, b"m", signature)
    p256_spki = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert not sm2.verify(p256_spki, b"m", signature)
    assert not sm2.is_sm2_public_key_info(p256_spki)
    assert sm2.is_sm2_public_key_info(spki)
    # a point off the curve
    bad = bytearray(key.public_point())
    bad[-1] ^= 1
    assert not sm2.verify(sm2.spki_from_point(bytes(bad)), b"m", signature)


def test_sm2_oid_as_key_algorithm_is_read() -> None:
    """Some GM issuers write the SM2 OID itself as the SPKI algorithm."""
    key = sm2.generate_private_key()
    info = keys.PublicKeyInfo.load(key.public_key_info())
    algorithm = keys.PublicKeyAlgorithm({"algorithm": sm2.OID_SM2_CURVE})
    spki = keys.PublicKeyInfo({"algorithm": algorithm, "public_key": info["public_key"]})
    assert sm2.verify(spki.dump(), b"m", sm2.sign(key, b"m"))
