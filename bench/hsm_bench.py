"""Seals per second with keys in SoftHSM2 against keys in the database, and one instance
against two, in the same run, on one PostgreSQL.

For each configuration a fresh database and installation (`eseal init`, `eseal serve` ×N,
ESEAL_BLOB_STORE=database), an agency with an official seal, then `--threads` client threads
(spread over the instances) POST /api/v1/seals/{id}/sign with a 1-page PDF (B-B, invisible)
for `--seconds`. Also the raw signature rate of the seal's key in this process (KeySigner.sign
over 1 KiB) for each key store, which isolates what the token costs.

    ESEAL_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python bench/hsm_bench.py [--seconds 10] [--threads 4]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from harness import free_port, rate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from seals.documents import make_document
from seals.fonts import find_cjk_font

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"
ESEAL_BIN = Path(sys.executable).parent / "eseal"


@contextmanager
def database(server: str) -> Iterator[str]:
    base = make_url(server)
    name = f"eseal_bench_{secrets.token_hex(4)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def token_env(folder: Path) -> dict[str, str]:
    """A SoftHSM2 configuration and token of its own under `folder`."""
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN,
         "--so-pin", "13579111"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    return {
        "SOFTHSM2_CONF": str(conf),
        "ESEAL_KEY_STORE": "pkcs11",
        "ESEAL_PKCS11_MODULE": str(SOFTHSM),
        "ESEAL_PKCS11_TOKEN_LABEL": "bench",
        "ESEAL_PKCS11_PIN": PIN,
    }


@contextmanager
def installation(server: str, *, hsm: bool, instances: int) -> Iterator[list[str]]:
    """A fresh installation served by `instances` processes; yields their base URLs."""
    with ExitStack() as stack:
        url = stack.enter_context(database(server))
        root = Path(tempfile.mkdtemp(prefix="eseal-hsm-bench-"))
        stack.callback(shutil.rmtree, root, True)
        ports = [free_port() for _ in range(instances)]
        env = {
            **os.environ,
            "ESEAL_DATABASE_URL": url,
            "ESEAL_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "ESEAL_BLOB_STORE": "database",
            "ESEAL_PKI_BASE_URL": f"http://127.0.0.1:{ports[0]}",
            "ESEAL_LOG_LEVEL": "WARNING",
            **(token_env(root / "hsm") if hsm else {}),
        }
        run = {**env, "ESEAL_DATA_DIR": str(root / "cli")}
        subprocess.run([str(ESEAL_BIN), "init"], env=run, check=True, capture_output=True)
        bases = []
        for i, port in enumerate(ports):
            own = {**env, "ESEAL_DATA_DIR": str(root / f"i{i}"), "ESEAL_INSTANCE_NAME": f"i{i}",
                   "ESEAL_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
            process = subprocess.Popen(
                [str(ESEAL_BIN), "serve", "--port", str(port)],
                env=own, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        platform = subprocess.run(
            [str(ESEAL_BIN), "client", "create", "--org", "platform", "--name", "b", "--scopes",
             "platform"], env=run, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        env["PLATFORM"] = next(w for w in platform.split() if w.startswith("esk_"))
        os.environ["ESEAL_BENCH_PLATFORM"] = env["PLATFORM"]
        yield bases


def seal_for(base: str) -> tuple[str, dict[str, str]]:
    platform = {"Authorization": f"Bearer {os.environ['ESEAL_BENCH_PLATFORM']}"}
    api = httpx.Client(base_url=base, timeout=60)
    org = api.post(
        "/api/v1/organizations",
        json={"name": "杭州市西湖区市场监督管理局", "uscc": "91330106MA2B3C4D5D",
              "legal_representative": "张伟", "kind": "agency"},
        headers=platform,
    ).json()  # fmt: skip
    seal = api.post(
        f"/api/v1/organizations/{org['id']}/seals",
        json={"kind": "official", "dpi": 150},
        headers=platform,
    ).json()
    api.post(f"/api/v1/seals/{seal['id']}/activate", headers=platform).raise_for_status()
    client = api.post(
        f"/api/v1/organizations/{org['id']}/clients",
        json={"name": "portal", "scopes": ["seals:use", "seals:read"]},
        headers=platform,
    ).json()
    api.post(
        f"/api/v1/seals/{seal['id']}/grants",
        json={"grantee_kind": "client", "grantee_id": client["id"]},
        headers=platform,
    ).raise_for_status()
    return seal["id"], {"Authorization": f"Bearer {client['api_key']}"}


def seals_per_second(bases: list[str], pdf: bytes, seconds: float, threads: int) -> float:
    seal_id, key = seal_for(bases[0])
    clients = [httpx.Client(base_url=bases[i % len(bases)], timeout=120) for i in range(threads)]
    turn = iter(range(10**9))

    def call() -> None:
        api = clients[next(turn) % len(clients)]
        response = api.post(
            f"/api/v1/seals/{seal_id}/sign",
            files={"file": ("doc.pdf", pdf, "application/pdf")},
            data={"placement": '{"type": "invisible"}', "level": "B-B"},
            headers=key,
        )
        assert response.status_code == 200, response.text

    call()  # warm up (workers, keys, caches)
    return rate(call, seconds, threads)


def raw_sign_rate(hsm: bool, seconds: float) -> float:
    """KeySigner.sign per second for one P-256 key, in this process."""
    from sqlmodel import Session, SQLModel
    from sqlmodel import create_engine as sqlmodel_engine

    from pki.keys import KeyAlgorithm, SoftwareKeyStore
    from pki.models import KeyRecord, TokenKeyRecord

    engine = sqlmodel_engine("sqlite://")
    tables = [KeyRecord.__table__, TokenKeyRecord.__table__]
    SQLModel.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    store: object = SoftwareKeyStore(secrets.token_bytes(32))
    if hsm:
        from pki.pkcs11_store import Pkcs11Config, Pkcs11KeyStore

        folder = Path(tempfile.mkdtemp(prefix="eseal-hsm-raw-"))
        env = token_env(folder)
        os.environ["SOFTHSM2_CONF"] = env["SOFTHSM2_CONF"]
        store = Pkcs11KeyStore(Pkcs11Config(module=SOFTHSM, token_label="bench", pin=PIN))
    with Session(engine) as session:
        key_id = store.create_key(session, algorithm=KeyAlgorithm.EC_P256, label="raw")  # type: ignore[attr-defined]
        signer = store.signer(session, key_id)  # type: ignore[attr-defined]
    data = os.urandom(1024)
    return rate(lambda: signer.sign(data, "sha256"), seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    server = os.environ.get("ESEAL_BENCH_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        raise SystemExit("set ESEAL_BENCH_DATABASE_URL to a PostgreSQL server")
    font = find_cjk_font()
    pdf = make_document(title="采购合同", paragraphs=["合同金额：人民币贰拾万元整。"], pages=1,
                        font_path=font.path, font_number=font.index)  # fmt: skip
    rows = []
    for hsm, instances in ((False, 1), (True, 1), (False, 2), (True, 2)):
        with installation(server, hsm=hsm, instances=instances) as bases:
            rows.append((hsm, instances, seals_per_second(bases, pdf, args.seconds, args.threads)))
    print(
        f"eseal HSM / instances benchmark: PostgreSQL, database blob store, {args.threads} "
        f"client threads, {args.seconds:.0f} s each, {os.cpu_count()} CPUs, 1-page PDF, B-B"
    )
    print(f"{'keys':10} {'instances':>9} {'seals/s':>8} {'vs database, 1':>15}")
    baseline = rows[0][2]
    for hsm, instances, per_second in rows:
        name = "SoftHSM2" if hsm else "database"
        print(f"{name:10} {instances:9d} {per_second:8.1f} {per_second / baseline:15.2f}")
    raw = {hsm: raw_sign_rate(hsm, min(args.seconds, 5)) for hsm in (False, True)}
    print(
        f"raw P-256 signatures/s in one process: database key {raw[False]:.0f}, "
        f"SoftHSM2 key {raw[True]:.0f} (ratio {raw[True] / raw[False]:.2f})"
    )


if __name__ == "__main__":
    main()
