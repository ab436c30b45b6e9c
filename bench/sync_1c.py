# ruff: noqa: RUF001  (Cyrillic 1C data is intended)
"""``callrouter sync 1c`` through the stand-in 1C publication: 13,000 clients with phones, 500,000 lines.

Run: ``.venv/bin/python -m bench.sync_1c [--clients N] [--lines N] [--backend sqlite|postgres]``. A child
process serves a deterministic UT 11 base over real HTTP (13,000 partners, each with a counterparty and
two phones, 50 users, 2,000 products, documents of 10 goods lines dated within the 45-day window, 5 %
returns). The parent runs the real sync (OData client, paging, crm_core.syncing, page commits) into a
fresh migrated database four times: the first (full) run, an incremental run with nothing changed, an
incremental run after 1 % of the partners and 1 % of the documents were changed, and the nightly full
run (every catalog object re-read and re-applied). Peak memory is the sync process's maximum resident set size
(the stand-in lives in the other process). CPU seconds are printed for the sync and for the stand-in
(which sorts, filters and serializes every page as 1C would): unlike wall time they do not grow when other
work shares the machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import time
from datetime import date, timedelta
from multiprocessing.connection import Connection

from bench.databases import Backend, throwaway_database
from crm_core.db import make_engine, make_session_factory
from erp_bridge.onec import standin_data as d
from erp_bridge.onec.client import ODataClient
from erp_bridge.onec.profiles import UT11
from erp_bridge.onec.standin import StandIn1C
from erp_bridge.onec.sync import SyncOptions, run_sync

LOGIN, PASSWORD = "Администратор", "пароль"
TODAY = date(2026, 11, 30)
LINES_PER_DOCUMENT = 10


def _fill(server: StandIn1C, clients: int, lines: int) -> None:
    rnd = random.Random(1)
    users = [d.user(f"Менеджер {i}") for i in range(50)]
    products = [d.product(f"Товар {i}") for i in range(2000)]
    partners, legal = [], []
    for i in range(clients):
        p = d.partner(f"Клиент {i}", f"{i:09d}", users[i % 50]["Ref_Key"], f"8 (843) {2_000_000 + i:07d}")
        partners.append(p)
        legal.append(
            d.counterparty(
                f"ООО Клиент {i}",
                f"K{i:08d}",
                f"{7_700_000_000 + i}",
                p["Ref_Key"],
                f"+7 912 {3_000_000 + i:07d}, доб. {i % 900 + 100}",
            )
        )
    server.sets.update(
        {
            UT11.users: users,
            UT11.products: products,
            UT11.partners or "": partners,
            UT11.counterparties: legal,
            UT11.contacts or "": [],
        }
    )
    sales, returns = [], []
    for n in range(lines // LINES_PER_DOCUMENT):
        client = partners[rnd.randrange(clients)]["Ref_Key"]
        on = (TODAY - timedelta(days=rnd.randrange(40))).isoformat()
        goods = [
            (products[rnd.randrange(2000)]["Ref_Key"], rnd.randint(1, 20), rnd.randint(100, 10_000) / 1)
            for _ in range(LINES_PER_DOCUMENT)
        ]
        (returns if n % 20 == 0 else sales).append(d.document(UT11, client, on, goods))
    server.sets.update({UT11.sales: sales, UT11.returns or "": returns})


def _change_one_percent(server: StandIn1C) -> int:
    rnd = random.Random(2)
    partners = server.sets[UT11.partners or ""]
    users = server.sets[UT11.users]
    changed = 0
    for p in rnd.sample(partners, len(partners) // 100):
        d.touch(p)["ОсновнойМенеджер_Key"] = rnd.choice(users)["Ref_Key"]
        changed += 1
    documents = server.sets[UT11.sales]
    for doc in rnd.sample(documents, len(documents) // 100):
        d.touch(doc)[UT11.goods][0][UT11.quantity_field] += 1
        changed += 1
    return changed


def _serve(conn: Connection, clients: int, lines: int) -> None:
    with StandIn1C(base="/ut11", username=LOGIN, password=PASSWORD) as server:
        _fill(server, clients, lines)
        conn.send(server.url)
        while (command := conn.recv()) != "stop":
            if command == "change":
                conn.send(_change_one_percent(server))
            elif command == "cpu":
                conn.send(time.process_time())


def _run(url: str, standin_url: str, full: bool) -> tuple[float, float, str]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started, cpu = time.perf_counter(), time.process_time()
    with ODataClient(standin_url, LOGIN, PASSWORD, timeout_s=300) as client:
        report = run_sync(sessions, client, UT11, SyncOptions(today=TODAY, full=full))
    engine.dispose()
    return time.perf_counter() - started, time.process_time() - cpu, report.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=13_000)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    backend: Backend = args.backend
    parent, child = multiprocessing.Pipe()
    standin = multiprocessing.get_context("fork").Process(
        target=_serve, args=(child, args.clients, args.lines)
    )
    standin.start()
    try:
        standin_url = parent.recv()
        with throwaway_database(backend, migrate=True) as url:
            runs = [
                ("first (full)", True),
                ("unchanged", False),
                ("1 % changed", False),
                ("nightly full", True),
            ]
            for label, full in runs:
                if label == "1 % changed":
                    parent.send("change")
                    print(f"changed {parent.recv()} objects in 1C")
                parent.send("cpu")
                standin_cpu = parent.recv()
                load = os.getloadavg()[0]
                wall, cpu, summary = _run(url, standin_url, full)
                parent.send("cpu")
                standin_cpu = parent.recv() - standin_cpu
                print(
                    f"{backend} {label}: {wall:.1f} s wall, sync {cpu:.1f} s CPU,"
                    f" stand-in {standin_cpu:.1f} s CPU, load {load:.1f} -> {os.getloadavg()[0]:.1f}"
                    f" -- {summary}",
                    flush=True,
                )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the sync process: {peak_mb:.0f} MB")
    finally:
        parent.send("stop")
        standin.join(timeout=30)


if __name__ == "__main__":
    main()
