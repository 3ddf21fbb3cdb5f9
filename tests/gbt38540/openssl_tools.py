"""The openssl CLI as an independent reader of our DER and verifier of our SM2 signatures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DISTID = "distid:1234567812345678"


def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is required under CI")
        pytest.skip("openssl not installed")
    return path


def asn1parse(der: bytes, tmp: Path) -> str:
    src = tmp / "in.der"
    src.write_bytes(der)
    return subprocess.run(
        [openssl(), "asn1parse", "-inform", "DER", "-in", str(src), "-i"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def first_child(der: bytes, tmp: Path) -> bytes:
    """The complete first element of the outer SEQUENCE, located by openssl's parse."""
    lines = asn1parse(der, tmp).splitlines()
    m = re.match(r"\s*(\d+):d=1\s+hl=(\d+)\s+l=\s*(\d+)", lines[1])
    assert m, lines[1]
    offset, header, length = (int(g) for g in m.groups())
    return der[offset : offset + header + length]


def sm2_verify(certificate: bytes, data: bytes, signature: bytes, tmp: Path) -> bool:
    """openssl dgst -sm3 -verify with the GM/T 0009 default ID (never OpenSSL's empty one)."""
    (tmp / "cert.der").write_bytes(certificate)
    pub = subprocess.run(
        [openssl(), "x509", "-inform", "DER", "-in", str(tmp / "cert.der"), "-pubkey", "-noout"],
        check=True,
        capture_output=True,
    ).stdout
    (tmp / "pub.pem").write_bytes(pub)
    (tmp / "data").write_bytes(data)
    (tmp / "sig").write_bytes(signature)
    result = subprocess.run(
        [
            openssl(),
            "dgst",
            "-sm3",
            "-verify",
            str(tmp / "pub.pem"),
            "-sigopt",
            DISTID,
            "-signature",
            str(tmp / "sig"),
            str(tmp / "data"),
        ],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and "Verified OK" in result.stdout
