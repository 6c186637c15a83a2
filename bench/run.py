"""Benchmarks (``make bench``): never part of ``make test``; prints its figures.

On a SQLite file of 1 000 000 seeded contacts (built once under
``var/bench/``, reused afterwards):
- screen-pop lookup by phone (the query run when an agent answers), p50/p95;
- name search as typed in the search box (accent-less, any order), p50/p95;
- CSV import throughput (rows/s) of a 50 000-row file with new contacts,
  into a copy of the database so the reference stays at 1 000 000.

Targets (issue 2): p95 < 50 ms for both lookups, import ≥ 50 000 rows/s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from plateau.domain.clock import SystemClock
from plateau.domain.text import fold
from plateau.services import crm, contacts_io, demo
from plateau.services.context import SYSTEM, Context
from plateau.store.db import Database
from plateau.store.migrate import upgrade
from plateau.store.models import Contact, ContactPhone
from plateau.bus.local import LocalBus
from plateau.config import Settings
from erlang import bench_erlang  # bench/erlang.py, beside this script
from floor import bench_floor  # bench/floor.py: routing, event latency, plateau simulate
from campaign import bench_campaign  # bench/campaign.py: plateau simulate-campaign, progressive vs predictive
from assess import bench_assess  # bench/assess.py: assessing a 10-minute call against a framework
from persona import bench_persona  # bench/persona.py: one reply of the simulated caller

ROOT = Path(__file__).resolve().parents[1]


def context(path: Path) -> Context:
    url = f"sqlite:///{path}"
    return Context(db=Database(url), clock=SystemClock(), bus=LocalBus(),
                   settings=Settings(database_url=url, secret_key="bench"))


def build(path: Path, size: int) -> Context:
    """The reference database: the demo company, then generated contacts up to ``size``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    upgrade(f"sqlite:///{path}")
    ctx = context(path)
    with ctx.read() as session:
        have = session.scalar(select(func.count()).select_from(Contact)) or 0
    if have == 0:
        print(f"building the demo company in {path} …", file=sys.stderr)
        demo.seed_demo(ctx, contacts=min(size, 10_000))
        have = min(size, 10_000)
    if have < size:
        started = time.perf_counter()
        print(f"seeding {size - have:,} more contacts …", file=sys.stderr)
        last = [0.0]

        def progress(done, total):
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {done:,}/{total:,}", file=sys.stderr)

        demo.seed_contacts(ctx, size - have, progress=progress)
        print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return ctx


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def timed(function, inputs) -> list[float]:
    result = []
    for item in inputs:
        started = time.perf_counter()
        function(item)
        result.append((time.perf_counter() - started) * 1000)
    return result


def bench_lookups(ctx: Context, rng: random.Random, n: int) -> None:
    with ctx.read() as session:
        top = session.scalar(select(func.max(ContactPhone.id)))
        ids = [rng.randint(1, top) for _ in range(n)]
        numbers = list(session.scalars(select(ContactPhone.e164).where(ContactPhone.id.in_(ids))))
        contact_top = session.scalar(select(func.max(Contact.id)))
        picks = [rng.randint(1, contact_top) for _ in range(n)]
        people = session.execute(select(Contact.first_name, Contact.last_name)
                                 .where(Contact.id.in_(picks), Contact.last_name.is_not(None))).all()
    numbers += [f"+3361{rng.randint(0, 9_999_999):07d}" for _ in range(n // 10)]  # misses: unknown callers
    lookup = timed(lambda e164: crm.lookup_by_phone(ctx, e164), numbers)
    queries = []
    for first, last in people:
        style = rng.random()
        if style < 0.4:
            queries.append(fold(last))  # "lefevre" for "Lefèvre"
        elif style < 0.7:
            queries.append(f"{fold(first)} {fold(last)}" if first else fold(last))
        else:
            queries.append(f"{last} {first or ''}".strip())
    search = timed(lambda q: crm.search(ctx, q, limit=25), queries)
    for name, samples in (("screen-pop lookup by phone", lookup), ("name search (first page of 25)", search)):
        p50, p95 = percentiles(samples)
        verdict = "ok" if p95 < 50 else "ABOVE TARGET"
        print(f"{name:34s} n={len(samples):5d}  p50={p50:7.2f} ms  p95={p95:7.2f} ms  (target p95 < 50 ms: {verdict})")


def bench_import(reference: Path, rows: int, rng: random.Random) -> None:
    copy = reference.with_name("import-copy.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(reference, copy)
    ctx = context(copy)
    lines = ["Civilité;Prénom;Nom;Téléphone;E-mail;Code postal;Ville;Statut"]
    for index in range(rows):
        number = f"07 {rng.randint(30, 99)} {index // 10_000 % 100:02d} {index // 100 % 100:02d} {index % 100:02d}"
        lines.append(f"Mme;Zoé;Benchmark-{index};{number};bench{index}@exemple.fr;750{index % 20 + 1:02d};Paris;prospect")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    result = contacts_io.import_file(ctx, SYSTEM, "bench.csv", data, workers=contacts_io.cpu_count())
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in result.phases.items())
    verdict = "ok" if result.rows_per_second >= 50_000 else "BELOW TARGET"
    print(f"{'CSV import':34s} rows={result.total:,}  imported={result.imported:,}  rejected={len(result.rejections):,}  "
          f"{result.rows_per_second:,.0f} rows/s  ({phases})  (target ≥ 50 000 rows/s: {verdict})")
    ctx.db.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=int(os.environ.get("PLATEAU_BENCH_CONTACTS", 1_000_000)))
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "contacts.db")
    args = parser.parse_args()
    db_path = args.db if args.contacts == 1_000_000 else args.db.with_name(f"contacts-{args.contacts}.db")
    ctx = build(db_path, args.contacts)
    with ctx.read() as session:
        count = session.scalar(select(func.count()).select_from(Contact))
    print(f"Plateau benchmarks — SQLite, {count:,} contacts ({db_path})")
    rng = random.Random(7)
    crm.lookup_by_phone(ctx, "+33612345678")  # warm the connection pool and page cache
    bench_lookups(ctx, rng, args.samples)
    ctx.db.dispose()
    bench_import(db_path, args.import_rows, rng)
    bench_erlang()  # bench/erlang.py: Erlang C staffing, Plateau against pyworkforce
    bench_floor()  # bench/floor.py: routing decisions/s, event latency to 500 desktops, plateau simulate
    bench_campaign()  # bench/campaign.py: outbound dialing, progressive and predictive side by side
    bench_assess()  # bench/assess.py: the evaluator on a 10-minute call (aim: < 50 ms)
    bench_persona()  # bench/persona.py: time to simulate one reply of a role-play caller


if __name__ == "__main__":
    main()
