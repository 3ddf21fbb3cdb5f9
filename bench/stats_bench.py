"""Statistics with 100,000 enterprises and 10 million seal uses (PostgreSQL).

Generates the data inside PostgreSQL (INSERT ... SELECT FROM generate_series: the rows never
pass through Python), fills the counters with one recount (`app.services.stat_counters_rebuild`,
the same GROUP BYs a deployment would run once), starts the service in a real uvicorn
process and requests the statistics endpoint (JSON and CSV) and the console dashboard
repeatedly. Prints median and p95 per request, the ratio to a baseline measured in the same
run (the same monthly use figures computed by scanning `seal_usage`, which is what the
counters avoid), and the EXPLAIN ANALYZE plans of the statements a report runs.

    .venv/bin/python bench/stats_bench.py [--enterprises 100000] [--uses 10000000] [--runs 30]

Credit codes are generated with a placeholder check character: the database does not check
it, and no certificate is issued from them.
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import statistics as stats
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.dialects import postgresql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from console_bench import serve  # noqa: E402

from app.db import make_engine, migrate, unit_of_work  # noqa: E402
from app.models import Person  # noqa: E402
from app.services import statistics  # noqa: E402
from app.services.regions import RegionLevel  # noqa: E402
from app.services.stat_counters_rebuild import rebuild  # noqa: E402
from app.services.tenancy import create_account, create_api_client  # noqa: E402
from app.settings import Settings  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench statistics password"
PROVINCES = (
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
)
DAYS = 400

ORGANIZATIONS = f"""
INSERT INTO organization (id, name, kind, uscc, legal_representative, created_at)
SELECT md5('org' || g), 'bench enterprise ' || g, 'enterprise',
       '91' || (string_to_array('{PROVINCES}', ' '))[1 + g %% 31]
            || lpad((1 + (g / 31) %% 10)::text, 2, '0') || lpad((1 + (g / 310) %% 8)::text, 2, '0')
            || lpad(g::text, 9, '0') || 'Y',
       'bench', now() - ((g::bigint * 7919) %% ({DAYS} * 86400)) * interval '1 second'
FROM generate_series(1, %(n)s) g
"""
CERTIFICATES = """
INSERT INTO pki_certificate (id, serial, issuer_ca, profile, subject, der, fingerprint_sha256,
                             not_before, not_after, owner_org_id, status, created_at)
SELECT md5('cert' || g), g::text, 'organization', 'enterprise-signing', 'CN=bench', '\\x00',
       md5('fp' || g) || md5('fp2' || g), now() - interval '400 days', now() + interval '3 years',
       md5('org' || (1 + (g - 1) %% %(orgs)s)), 'valid', now()
FROM generate_series(1, %(n)s) g
"""
SEALS = f"""
INSERT INTO seal (id, code, organization_id, kind, name, status, image_png, image_sha256,
                  image_source, image_dpi, certificate_id, key_id, valid_from, valid_until,
                  requires_approval, pin_failures, use_count, created_by, created_at,
                  status_changed_at)
SELECT md5('seal' || g), lpad(g::text, 13, '0'), md5('org' || (1 + (g - 1) %% %(orgs)s)),
       (ARRAY['contract', 'official', 'finance'])[1 + ((g - 1) / %(orgs)s) %% 3],
       'bench seal ' || g,
       CASE WHEN g %% 10 = 0 THEN 'revoked' WHEN g %% 37 = 0 THEN 'suspended' ELSE 'active' END,
       '\\x00', md5('img'), 'rendered', 72, md5('cert' || g), 'bench-key',
       now() - interval '400 days', now() + interval '3 years', false, 0, 0, 'bench',
       now() - ((g::bigint * 104729) %% ({DAYS} * 86400)) * interval '1 second', now()
FROM generate_series(1, %(n)s) g
WHERE (1 + (g - 1) %% %(orgs)s) %% 11 <> 0
"""
PICK = """
CREATE TABLE bench_seal_pick AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS n, id, organization_id FROM seal;
CREATE UNIQUE INDEX ON bench_seal_pick (n);
"""
USES = f"""
INSERT INTO seal_usage (id, seal_id, organization_id, user_kind, user_id, document_sha256,
                        document_type, used_at)
SELECT md5('use' || g), p.id, p.organization_id, 'client', 'bench', md5('doc' || g),
       (ARRAY['contract', 'notice', 'licence', 'invoice', NULL])[1 + g %% 5],
       now() - ((g * 15485863::bigint) %% ({DAYS} * 86400)) * interval '1 second'
FROM generate_series(%(start)s, %(stop)s) g
JOIN bench_seal_pick p ON p.n = g %% %(seals)s
"""
BASELINE = """
SELECT to_char(timezone('Asia/Shanghai', u.used_at), 'YYYY-MM') AS p,
       substr(o.uscc, 3, 2) AS region, count(*)
FROM seal_usage u JOIN organization o ON o.id = u.organization_id
WHERE u.used_at >= %(since)s AND o.kind = 'enterprise'
GROUP BY 1, 2
"""


def _pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database() -> str:
    name = f"eseal_stats_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(label: str, work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.1f} s", flush=True)
    return seconds


def generate(url: str, *, enterprises: int, uses: int) -> int:
    """The rows, inside PostgreSQL; returns the number of seals."""
    seals = enterprises * 3 // 2
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        timed(
            f"{enterprises:,} enterprises", lambda: conn.execute(ORGANIZATIONS, {"n": enterprises})
        )
        timed(
            f"{seals:,} certificates",
            lambda: conn.execute(CERTIFICATES, {"n": seals, "orgs": enterprises}),
        )
        timed("seals", lambda: conn.execute(SEALS, {"n": seals, "orgs": enterprises}))
        made = conn.execute("SELECT count(*) FROM seal").fetchone()[0]  # type: ignore[index]
        conn.execute(PICK)
        step = 1_000_000
        for start in range(1, uses + 1, step):
            stop = min(uses, start + step - 1)
            timed(
                f"uses {start:,}-{stop:,}",
                lambda a=start, b=stop: conn.execute(USES, {"start": a, "stop": b, "seals": made}),
            )
        conn.execute("DROP TABLE bench_seal_pick")
        timed("ANALYZE", lambda: conn.execute("ANALYZE"))
    return int(made)


def accounts(url: str) -> str:
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        _, key = create_api_client(
            session, principal=None, organization_id=None, name="bench", scopes=["platform"]
        )
        person = Person(name="统计管理员")
        session.add(person)
        session.flush()
        create_account(
            session, person=person, username="bench-admin", password=PASSWORD, platform_admin=True
        )
    engine.dispose()
    return key.key


def recount(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        rebuild(session)
    with psycopg.connect(_pg(url), autocommit=True) as conn:
        conn.execute("ANALYZE stat_counter")
        rows = conn.execute("SELECT count(*) FROM stat_counter").fetchone()[0]  # type: ignore[index]
    print(f"  stat_counter rows: {rows:,}")
    engine.dispose()


def measure(client: httpx.Client, url: str, runs: int, **kwargs: object) -> list[float]:
    times = []
    for i in range(runs + 2):
        started = time.perf_counter()
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        if i >= 2:
            times.append(elapsed)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def baseline_ms(url: str, runs: int = 3) -> float:
    since = datetime(date.today().year - 1, date.today().month, 1, tzinfo=UTC)
    times = []
    with psycopg.connect(_pg(url)) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            conn.execute(BASELINE, {"since": since}).fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return stats.median(times)


def plans(url: str) -> None:
    monthly = statistics.Query.of(
        granularity=statistics.Granularity.month,
        start=None,
        end=None,
        level=RegionLevel.province,
        region=None,
    )
    daily = statistics.Query.of(
        granularity=statistics.Granularity.day,
        start=None,
        end=None,
        level=RegionLevel.city,
        region=None,
    )
    with psycopg.connect(_pg(url)) as conn:
        for label, q in (("12 months by province", monthly), ("30 days by city", daily)):
            found = dict(statistics.statements(q))
            if q is monthly:
                found["csv detail"] = statistics.detail_statement(q)
            for name, statement in found.items():
                sql = str(
                    statement.compile(
                        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                    )
                )
                plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()
                print(f"\n-- {label}: {name}\n{sql}\n" + "\n".join(r[0] for r in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--uses", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    url = create_database()
    print(f"database {url.rsplit('/', 1)[1]}")
    process = None
    try:
        migrate(url)
        print("generating:")
        seals = generate(url, enterprises=args.enterprises, uses=args.uses)
        print(f"  {seals:,} seals")
        print("counters (one recount):")
        timed("rebuild", lambda: recount(url))
        key = accounts(url)
        folder = Path(tempfile.mkdtemp(prefix="eseal-stats-bench-"))
        process, base = serve(Settings(data_dir=folder, database_url=url))
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        console = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
        form = console.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        console.post(
            "/console/login",
            data={"username": "bench-admin", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        base_ms = baseline_ms(url)
        cases = [
            ("API JSON, 12 months by province", api, "/api/v1/statistics", {}),
            (
                "API JSON, 30 days by county",
                api,
                "/api/v1/statistics",
                {"granularity": "day", "level": "county"},
            ),
            ("API CSV, 12 months by province", api, "/api/v1/statistics", {"format": "csv"}),
            ("console dashboard, 30 days by city", console, "/console/statistics", {}),
        ]
        print(
            f"\n{args.enterprises:,} enterprises, {seals:,} seals, {args.uses:,} uses; "
            f"{args.runs} requests each"
        )
        print(f"baseline (scan seal_usage for 12 months of uses by province): {base_ms:.0f} ms")
        print(f"{'request':40} {'median ms':>10} {'p95 ms':>8} {'median/baseline':>16}")
        for label, client, path, params in cases:
            times = measure(client, path, args.runs, params=params)
            median = stats.median(times)
            print(f"{label:40} {median:10.1f} {p95(times):8.1f} {median / base_ms:16.4f}")
        overview = api.get("/api/v1/statistics").json()["totals"]
        print(
            f"distribution rate {overview['distribution_rate']}, "
            f"uses in 12 months {overview['seal_uses']:,}"
        )
        plans(url)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
