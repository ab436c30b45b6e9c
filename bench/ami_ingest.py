"""AMI ingest benchmark: events/s parsed from a TCP socket, ours vs panoramisk's parser, and linearity.

The stream is 100,000 calls made from the real Asterisk traces (each call's Uniqueid/Linkedid prefix and
channel name suffixes re-numbered), served by a local TCP server and read + parsed on one core.

    .venv/bin/pip install -e '.[bench]'    # panoramisk, the baseline (not a runtime dependency)
    .venv/bin/python bench/ami_ingest.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import re
import socket
import time
from collections.abc import Callable
from functools import partial
from multiprocessing import Process, Queue
from pathlib import Path

try:
    from panoramisk.ami_protocol import AMIProtocol
except ImportError:  # pragma: no cover - the message is the point
    raise SystemExit("bench/ami_ingest.py compares with panoramisk: pip install -e '.[bench]'") from None

from pbx_bridge.ami.parser import AmiParser

TRACES = Path(__file__).resolve().parents[1] / "tests" / "asterisk-traces"
_UID = re.compile(rb"(\d{10})\.(\d+)")
_CHAN = re.compile(rb"-([0-9a-f]{8})(;[12])?")


def call_templates() -> list[bytes]:
    """The event bytes of each recorded call (the messages after the login response)."""
    out = []
    for path in sorted(TRACES.glob("**/*.ami")):
        body = path.read_bytes().split(b"\r\n\r\n", 1)[1]  # drop banner + login response
        out.append(b"".join(m + b"\r\n\r\n" for m in body.split(b"\r\n\r\n") if m.startswith(b"Event:")))
    return out


def renumber(templates: list[bytes], n: int) -> bytes:
    """Call ``n``: a trace with its Uniqueid/Linkedid sequence and channel name suffixes made unique."""
    seq = b"%d" % (n * 10)
    body = _UID.sub(lambda m: m.group(1) + b"." + seq + m.group(2), templates[n % len(templates)])
    return _CHAN.sub(lambda m: b"-%08x" % n + (m.group(2) or b""), body)


def _serve(calls: int, port_out: Queue) -> None:
    """Child process: accept one connection and write ``calls`` re-numbered calls, then close."""
    templates = call_templates()
    with socket.create_server(("127.0.0.1", 0)) as server:
        port_out.put(server.getsockname()[1])
        conn, _ = server.accept()
        with conn:
            batch = 500
            for first in range(0, calls, batch):
                conn.sendall(
                    b"".join(renumber(templates, n) for n in range(first, min(calls, first + batch)))
                )


def read_over_tcp(calls: int, chunk: int) -> tuple[float, float, int]:
    """Read ``calls`` calls served by another process over TCP and parse them.

    Returns (wall seconds, CPU seconds of this reader process, events).
    """
    ports: Queue = Queue()
    child = Process(target=_serve, args=(calls, ports), daemon=True)
    child.start()
    try:  # nothing is written to disk; the generator process never outlives the run
        sock = socket.create_connection(("127.0.0.1", ports.get(timeout=30)))
        parser, count = AmiParser(), 0
        started, cpu = time.perf_counter(), time.process_time()
        with sock:
            while block := sock.recv(chunk):
                count += len(parser.feed(block))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        child.terminate()
        child.join()
    return elapsed, cpu, count


def parse_in_chunks(data: bytes, chunk: int) -> tuple[float, int]:
    parser, count = AmiParser(), 0
    started = time.perf_counter()
    for i in range(0, len(data), chunk):
        count += len(parser.feed(data[i : i + chunk]))
    return time.perf_counter() - started, count


class _Factory:
    """What panoramisk's protocol needs from its Manager: a dispatch target."""

    save_stream = None

    def __init__(self) -> None:
        self.count = 0

    def dispatch(self, _message: object) -> None:
        self.count += 1


class _NullTransport:
    def write(self, _data: bytes) -> None:
        pass


def panoramisk_in_chunks(data: bytes, chunk: int) -> tuple[float, int]:
    """panoramisk 1.4's own path: ``AMIProtocol.data_received`` -> ``Message.from_line`` -> dispatch."""
    proto = AMIProtocol()
    proto.connection_made(_NullTransport())
    proto.factory = _Factory()
    proto.version = "9.0.0"
    started = time.perf_counter()
    for i in range(0, len(data), chunk):
        proto.data_received(data[i : i + chunk])
    return time.perf_counter() - started, proto.factory.count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    args = ap.parse_args()
    secs, cpu, events = read_over_tcp(args.calls, 256 * 1024)
    print(f"ours, {args.calls:,} calls over TCP (256 KiB reads): {events:,} events")
    print(f"  wall {events / secs:,.0f} events/s (generator-bound), reader CPU {events / cpu:,.0f} events/s")

    templates = call_templates()
    data = b"".join(renumber(templates, n) for n in range(600))
    sample = data[:60_000_000]
    for chunk in (4096, 64 * 1024):
        secs, count = parse_in_chunks(sample, chunk)
        secs_p, count_p = panoramisk_in_chunks(sample, chunk)
        print(
            f"parse only, {chunk:>6} B chunks, {len(sample) / 1e6:.0f} MB: ours {count / secs:10,.0f} ev/s,"
            f" panoramisk {count_p / secs_p:10,.0f} ev/s (x{(count / secs) / (count_p / secs_p):.1f})"
        )

    burst = data[: 6 * 1024 * 1024]
    burst = burst[: burst.rfind(b"\r\n\r\n") + 4]
    feeds = (("same bytes, 4 KiB feeds", 4096), ("256 KiB feeds (client reads)", 256 * 1024))
    for label, chunk in (("6 MB burst, one feed", len(burst)), *feeds):
        rate = best_rate(partial(lambda c: parse_in_chunks(burst, c)[1], chunk))
        print(f"linearity, ours, {label:>28}: {rate:10,.0f} events/s")
    rate = best_rate(lambda: panoramisk_in_chunks(burst, len(burst))[1])
    print(f"linearity, panoramisk, 6 MB burst, one feed: {rate:10,.0f} events/s")


def best_rate(run: Callable[[], int], repeat: int = 5) -> float:
    """Events/s of the fastest of ``repeat`` runs (the machine is shared: the best run is the cost)."""
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        events = run()
        best = max(best, events / (time.perf_counter() - started))
    return best


if __name__ == "__main__":
    main()
