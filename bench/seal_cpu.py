"""CPU per seal of the signing layer alone (`seals.signing.sign_document`), in this process.

What a seal worker does for one job once its cache is warm (the same kept `SigningIdentity`,
time-stamper and B-LT `ValidationMaterial` every time), without HTTP, database or blob work,
against tuned pyhanko (`signers.async_sign_pdf`, same key, TSA and validation context) in
alternating slices. `--profile` prints cProfile's top-20 functions (own and cumulative time)
of our path per case: where the signing layer's CPU goes.

    .venv/bin/python bench/seal_cpu.py [--seconds 3] [--cases 1:B-T 1:B-LT 100:B-T 1:B-T:vis]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import time
from collections.abc import Callable
from typing import Any

from harness import running_service
from signing_bench import documents, pyhanko_direct, set_up_seal, tuned_signer

from app.db import reading, unit_of_work
from app.sealing import seal_appearance
from app.services.sealing_cache import cache_for
from seals.models import Seal
from seals.placement import placement_from_json
from seals.signing import PadesLevel, SealingSpec, sign_document


def cpu_per_call(work: Callable[[], object], seconds: float) -> float:
    """Milliseconds of this process's CPU per call of `work`, over about `seconds`."""
    calls, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        work()
        calls += 1
    return 1000 * (time.process_time() - cpu) / calls


def paired(ours: Callable[[], object], theirs: Callable[[], object], seconds: float) -> Any:
    """(ours ms, theirs ms) in alternating slices."""
    slices, a, b = 6, 0.0, 0.0
    for _ in range(slices):
        a += cpu_per_call(ours, seconds / slices)
        b += cpu_per_call(theirs, seconds / slices)
    return a / slices, b / slices


def profile_table(work: Callable[[], object], calls: int = 60) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        work()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(25)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    return "\n".join(ln for ln in lines if not ln.startswith(("   Ordered", "   List")))


def main() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--cases", nargs="+", default=["1:B-T", "1:B-T:vis", "1:B-LT", "100:B-T"])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    cases = [c.split(":") for c in args.cases]
    docs = documents(sorted({int(c[0]) for c in cases}))
    with running_service(prefix="eseal-seal-cpu-") as svc:
        setup = set_up_seal(svc)
        services = svc.services
        kept = cache_for(services)
        with unit_of_work(reading(services.engine)) as session:
            seal = session.get(Seal, setup.seal_id)
            assert seal is not None
            identity = kept.identity(
                session, epoch=kept.epoch(), certificate_id=seal.certificate_id, key_id=seal.key_id
            )
            stamper = kept.timestamper(session)
            issuer = services.authority.get(session, seal.certificate_id).issuer_ca
            validation = kept.validation(
                session, epoch=kept.epoch(), identity=identity, issuer_ca=issuer
            )
            appearance = seal_appearance(seal)
        print(f"{'case':14} {'ours ms':>8} {'tuned ms':>8} {'ratio':>6}")
        tables = {}
        for case in cases:
            pages, level = int(case[0]), PadesLevel(case[1])
            visible = len(case) > 2
            placement = (
                {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}
                if visible
                else {"type": "invisible"}
            )
            spec = SealingSpec(
                placement=placement_from_json(placement),
                level=level,
                appearance=appearance if visible else None,
            )
            pdf = docs[pages]

            def ours(pdf: bytes = pdf, spec: SealingSpec = spec) -> object:
                return sign_document(
                    pdf=pdf,
                    identity=identity,
                    spec=spec,
                    timestamper=stamper if spec.level.needs_timestamp else None,
                    validation=validation if spec.level.needs_validation else None,
                )

            tuned = pyhanko_direct(
                pdf,
                level,
                signer=tuned_signer(identity),
                timestamper=stamper,
                validation=validation.validation_context(),
            )
            ours(), tuned()
            a, b = paired(ours, tuned, args.seconds)
            print(f"{':'.join(case):14} {a:8.2f} {b:8.2f} {b / a:6.2f}", flush=True)
            if args.profile:
                tables[":".join(case)] = profile_table(ours)
        for name, table in tables.items():
            print(f"\n-- cProfile, ours, {name} --\n{table}")


if __name__ == "__main__":
    main()
