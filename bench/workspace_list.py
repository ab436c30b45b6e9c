"""The workspace in headless Chromium: how long the missed-call list takes to draw with 3,000 open ones.

    .venv/bin/python -m bench.workspace_list [--open 3000] [--runs 20]

Serves the real API on a free port over a throw-away SQLite file holding ``--open`` open missed calls of one
manager, logs in once, then re-draws "My missed calls" ``--runs`` times: from the hash change to the frame
painted after the rows are in the DOM. Counts the API requests one draw makes.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.live_server import CHROMIUM_ARGS, CHROMIUM_PATH, PASSWORD, Server, add_missed, add_user
from crm_core.models import Counterparty, ManagerRole

DRAW = """async () => {
  const before = performance.getEntriesByType("resource").length;
  document.getElementById("missed-rows").replaceChildren();
  delete document.getElementById("missed-status").dataset.total;
  const start = performance.now();
  location.hash = location.hash === "#/missed" ? "#/missed/" : "#/missed";
  while (!document.getElementById("missed-status").dataset.total) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const rows = document.querySelectorAll("#missed-rows tr").length;
  const urls = performance.getEntriesByType("resource").slice(before).map((e) => e.name);
  return [performance.now() - start, rows, urls];
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Server(f"sqlite:///{Path(tmp) / 'b.db'}", free_port()) as api:
        with api.sessions.begin() as session:
            maria = add_user(session, "maria", ManagerRole.MANAGER, "Мария Иванова")
            clients = [Counterparty(name=f"Клиент {i}", manager_id=maria.id) for i in range(args.open)]
            session.add_all(clients)
            session.flush()
            for i, client in enumerate(clients):
                add_missed(session, f"+7916{i:07d}", maria, client, timedelta(minutes=i + 1))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(api.url + "/workspace")
            page.fill("input[name=login]", "maria")
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#missed-rows tr")
            page.evaluate("performance.setResourceTimingBufferSize(100000)")
            results = [page.evaluate(DRAW) for _ in range(args.runs)]
            browser.close()
    times = sorted(ms for ms, _, _ in results)
    rows, requests = results[-1][1], len([url for url in results[-1][2] if "/api/" in url])
    p90 = times[max(0, int(len(times) * 0.9) - 1)]
    print(f"{args.open} open missed calls, {rows} rows drawn per page, {requests} request(s) per draw")
    print(f"draw: median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
