"""Two signers in separate processes race for one approval, and for the last uses of a
grant: an approval is spent once, a grant never beyond its limit (PostgreSQL in CI; the same
test runs on SQLite)."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.db import make_engine, unit_of_work
from pki.authority import Authority, EnterpriseIdentity
from pki.hierarchy import HierarchyConfig, ensure_hierarchy
from pki.keys import SoftwareKeyStore
from seals import access
from seals.authorization import Caller, CallerKind
from seals.errors import UseRefusedError
from seals.kinds import SealKind
from seals.models import SealGrant, SealUsage, SealUsageRequest
from seals.registry import NewSeal, SealRegistry
from seals.render import SealImageSpec
from tests.conftest import make_uscc
from tests.seals_registry.util import sha

SIGNER = Caller(CallerKind.CLIENT, "c" * 32)
APPROVER = Caller(CallerKind.CLIENT, "a" * 32)
DOCUMENT = sha("采购合同")


def _registry(master_key: bytes) -> SealRegistry:
    authority = Authority(keystore=SoftwareKeyStore(master_key), base_url="http://127.0.0.1")
    return SealRegistry(authority=authority)


def _setup(url: str, master_key: bytes, *, requires_approval: bool, max_uses: int | None) -> str:
    registry = _registry(master_key)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        ensure_hierarchy(session, authority=registry.authority, config=HierarchyConfig())
        seal = registry.create(
            session,
            new=NewSeal(
                organization_id="o" * 32,
                kind=SealKind.CONTRACT,
                identity=EnterpriseIdentity(name="杭州青禾科技有限公司", uscc=make_uscc()),
                image=SealImageSpec(
                    kind=SealKind.CONTRACT, organization_name="杭州青禾科技有限公司"
                ),
                requires_approval=requires_approval,
                activate=True,
                dpi=72,
            ),
            created_by="test",
        )
        row = registry.row(session, seal.id)
        now = registry.clock()
        access.create_grant(
            session,
            seal=row,
            grantee=SIGNER,
            limits=access.GrantLimits(max_uses=max_uses),
            created_by="test",
            now=now,
        )
        if requires_approval:
            request = access.file_request(
                session,
                seal=row,
                requester=SIGNER,
                purpose="签约",
                document_sha256=DOCUMENT,
                document_type=None,
                copies=1,
                now=now,
            )
            access.decide(
                session,
                request_id=request.id,
                organization_id=None,
                approver=APPROVER,
                approve=True,
                decided_by="test",
                note=None,
                now=now,
            )
    engine.dispose()
    return seal.id


def _signer(url: str, master_key: bytes, seal_id: str, tries: int, barrier: Any, out: Any) -> None:
    registry = _registry(master_key)
    engine = make_engine(url)
    used = refused = 0
    for attempt in range(tries):
        try:
            with unit_of_work(engine) as session:  # authorise, then sign outside a transaction
                use = registry.load_for_use(
                    session, seal_id=seal_id, caller=SIGNER, document_sha256=DOCUMENT
                )
        except UseRefusedError:
            refused += 1
            continue
        finally:
            if attempt == 0:
                barrier.wait()  # both hold an authorisation before either spends it
        try:
            with unit_of_work(engine) as session:
                use.consume(session)
            used += 1
        except UseRefusedError:
            refused += 1
    out.put((used, refused))
    engine.dispose()


def _race(url: str, master_key: bytes, seal_id: str, tries: int) -> list[tuple[int, int]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_signer, args=(url, master_key, seal_id, tries, barrier, out))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    return results


def test_one_approval_is_consumed_once_by_two_concurrent_signers(fresh_engine: Any) -> None:
    url = fresh_engine.url.render_as_string(hide_password=False)
    master_key = os.urandom(32)
    seal_id = _setup(url, master_key, requires_approval=True, max_uses=None)
    results = _race(url, master_key, seal_id, tries=1)
    assert sorted(results) == [(0, 1), (1, 0)]
    with Session(fresh_engine) as session:
        usages = session.exec(select(SealUsage).where(SealUsage.seal_id == seal_id)).all()
        request = session.exec(select(SealUsageRequest)).one()
    assert len(usages) == 1 and usages[0].approval_id == request.id
    assert request.status == "consumed" and request.consumed_at is not None


def test_a_grant_is_never_used_beyond_its_limit(fresh_engine: Any) -> None:
    url = fresh_engine.url.render_as_string(hide_password=False)
    master_key = os.urandom(32)
    seal_id = _setup(url, master_key, requires_approval=False, max_uses=3)
    # each signer is authorised while uses remain; only three consumptions can succeed
    results = _race(url, master_key, seal_id, tries=2)
    assert sum(u for u, _ in results) + sum(r for _, r in results) == 4
    assert sum(u for u, _ in results) == 3
    with Session(fresh_engine) as session:
        grant = session.exec(select(SealGrant)).one()
        count = session.exec(select(func.count()).select_from(SealUsage)).one()
    assert grant.uses == 3 and count == 3
