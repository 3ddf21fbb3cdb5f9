"""Concurrent writers in separate processes never duplicate rows, lose writes or fork the
audit chain (PostgreSQL in CI; the same test runs on SQLite)."""

from __future__ import annotations

import multiprocessing
import random
from typing import Any

from sqlmodel import Session, func, select

from app.db import make_engine, unit_of_work
from app.errors import Conflict
from app.models import ApiClient, Organization, OrganizationKind
from app.security import Principal, Scope
from app.services import audit
from app.services.tenancy import create_api_client, create_organization
from tests.conftest import make_uscc

PLATFORM = Principal(
    kind="client",
    id="concurrency",
    name="t",
    organization_id=None,
    scopes=frozenset({Scope.platform.value}),
)


def _worker(url: str, codes: list[str], barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    barrier.wait()
    created = conflicts = 0
    for code in codes:
        try:
            with unit_of_work(engine) as session:
                org = create_organization(
                    session,
                    principal=PLATFORM,
                    name=f"并发{code}",
                    kind=OrganizationKind.enterprise,
                    uscc=code,
                    legal_representative=None,
                )
                create_api_client(
                    session,
                    principal=PLATFORM,
                    organization_id=org.id,
                    name="portal",
                    scopes=["seals:read"],
                )
            created += 1
        except Conflict:
            conflicts += 1
    results.put((created, conflicts))
    engine.dispose()


def test_two_processes_creating_the_same_and_different_organizations(fresh_engine: Any) -> None:
    url = fresh_engine.url.render_as_string(hide_password=False)
    rng = random.Random(7)
    shared = [make_uscc(rng) for _ in range(15)]
    own = [[make_uscc(rng) for _ in range(10)] for _ in range(2)]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(url, shared + own[i], barrier, results)) for i in range(2)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    created = sum(c for c, _ in outcomes)
    conflicts = sum(c for _, c in outcomes)
    assert created == len(shared) + 20
    assert conflicts == len(shared)
    with Session(fresh_engine) as session:
        orgs = session.exec(select(func.count()).select_from(Organization)).one()
        distinct = session.exec(select(func.count(func.distinct(Organization.uscc)))).one()
        clients = session.exec(select(func.count()).select_from(ApiClient)).one()
        report = audit.verify_chain(session)
    assert orgs == distinct == len(shared) + 20
    assert clients == orgs
    assert report.intact and report.events == 2 * orgs
