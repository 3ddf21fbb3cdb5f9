"""A real test PKI per family, built by our own code under a fixed clock on a temp SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, create_engine

import pki.models  # noqa: F401  (registers the tables)
from pki.authority import Authority
from pki.hierarchy import HierarchyConfig, HierarchyResult, ensure_hierarchy
from pki.keys import SoftwareKeyStore
from pki.profiles import ProfileSet
from tests.support.pki import write_pem  # noqa: F401 (tests import it from here)

FIXED_NOW = datetime(2025, 6, 1, 8, 0, 0, tzinfo=UTC)
BASE_URL = "http://pki.eseal.example.com"

BIN = Path(sys.executable).parent


def fixed_clock() -> datetime:
    return FIXED_NOW


@dataclass(frozen=True)
class PkiFixture:
    engine: Engine
    authority: Authority
    keystore: SoftwareKeyStore
    master_key: bytes
    db_path: Path
    first_run: HierarchyResult

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def new_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    return engine


def build_pki(
    directory: Path, *, family: str, profiles: ProfileSet | None = None, name: str = "eseal"
) -> PkiFixture:
    db_path = directory / "pki.sqlite"
    engine = new_engine(db_path)
    master_key = os.urandom(32)
    keystore = SoftwareKeyStore(master_key)
    authority = Authority(
        keystore=keystore, base_url=BASE_URL, clock=fixed_clock, profiles=profiles
    )
    config = HierarchyConfig(
        algorithm_family="rsa" if family == "rsa" else "ec",
        organization_name=name,
        root_common_name=f"{name} Root CA",
    )
    with Session(engine) as session:
        result = ensure_hierarchy(session, authority=authority, config=config)
        session.commit()
    return PkiFixture(engine, authority, keystore, master_key, db_path, result)


@pytest.fixture(scope="session")
def ec_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFixture:
    return build_pki(tmp_path_factory.mktemp("ec-pki"), family="ec")


@pytest.fixture(scope="session")
def rsa_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFixture:
    """RSA-3072 everywhere."""
    return build_pki(tmp_path_factory.mktemp("rsa-pki"), family="rsa")


@pytest.fixture
def db(ec_pki: PkiFixture) -> Iterator[Session]:
    """A session on the EC test PKI; committed when the test passes."""
    with ec_pki.session() as session:
        yield session
        session.commit()


def run_tool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run an independent tool (openssl or a pkilint script from the venv)."""
    program = str(args[0])
    if (BIN / program).exists():
        program = str(BIN / program)
    elif shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    return subprocess.run(
        [program, *map(str, args[1:])], capture_output=True, text=True, check=False, timeout=120
    )
