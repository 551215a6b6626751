"""Benchmark: `fglocal serve` requests per second and latency against calling the handler in-process.

Run with `make bench-serve` (or `.venv/bin/python bench/serve.py`). A trivial APIG handler is
served on loopback; a load generator in this process sends keep-alive HTTP/1.1 requests over raw
sockets (prebuilt request bytes, responses framed by Content-Length, so the client adds little).
Bounded: BENCH_SERVE_REQUESTS requests per run, and no run goes past BENCH_SERVE_SECONDS.

Compared:
- the floor: the handler called directly in this process, on the event the gateway would build;
- `Instance.invoke` in this process (the local runtime alone: pipe, instance process, log file);
- `fglocal serve`, one connection, one instance (each request waits for the previous);
- `fglocal serve --instances 2` with 4 connections (throughput).
Overhead per request = serve p50 minus the floor's p50. Results go in bench/RESULTS.md by hand.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REQUESTS = int(os.environ.get("BENCH_SERVE_REQUESTS", "3000"))
SECONDS = float(os.environ.get("BENCH_SERVE_SECONDS", "30"))
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok", "isBase64Encoded": False}
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def describe(name: str, latencies_ms: list[float], elapsed_s: float) -> dict:
    row = {
        "name": name,
        "n": len(latencies_ms),
        "rps": len(latencies_ms) / elapsed_s if elapsed_s else 0.0,
        "p50": statistics.median(latencies_ms),
        "p99": percentile(latencies_ms, 0.99),
    }
    print(
        f"{name:44s} n={row['n']:5d}  {row['rps']:8.0f} req/s  p50 {row['p50']:7.3f} ms  p99 {row['p99']:7.3f} ms"
    )
    return row


def sample_event() -> dict:
    from fglocal import apig

    return apig.build_event(
        "GET",
        "/bench?x=1",
        [("Host", "127.0.0.1"), ("User-Agent", "bench")],
        b"",
        request_id="0" * 32,
        api_id="a",
    )


def floor(code_dir: Path) -> dict:
    sys.path.insert(0, str(code_dir))
    import index  # type: ignore[import-not-found]

    from fglocal import apig

    event = sample_event()
    latencies = []
    start = time.perf_counter()
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        # The handler and the gateway's translation of its result, without processes or sockets.
        result = index.handler(event, None)
        apig.response_from_result(__import__("json").dumps(result), None, "r")
        latencies.append((time.perf_counter() - t0) * 1000.0)
    return describe("handler in-process + APIG translation (floor)", latencies, time.perf_counter() - start)


def instance(code_dir: Path) -> dict:
    from fglocal.config import load_config
    from fglocal.instance import Instance

    event = sample_event()
    latencies = []
    with Instance(load_config(code_dir), log_dir=tempfile.mkdtemp(prefix="bench-logs-")) as warm:
        warm.invoke(event)
        start = time.perf_counter()
        deadline = start + SECONDS
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            warm.invoke(event)
            latencies.append((time.perf_counter() - t0) * 1000.0)
            if t0 > deadline:
                break
        return describe("Instance.invoke in-process (runtime only)", latencies, time.perf_counter() - start)


class Server:
    def __init__(self, code_dir: Path, *args: str) -> None:
        command = [
            sys.executable,
            "-m",
            "fglocal",
            "serve",
            "--code-dir",
            str(code_dir),
            "--port",
            "0",
            "--quiet",
        ]
        command += ["--log-dir", tempfile.mkdtemp(prefix="bench-logs-"), *args]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        self.port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
        # Keep reading the per-request summary lines so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def client(port: int, count: int, deadline: float, latencies: list[float]) -> None:
    request = b"GET /bench?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = b""
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                buffer += sock.recv(65536)
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(buffer) < length:
                buffer += sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200"), head + buffer[:length]
            buffer = buffer[length:]
            latencies.append((time.perf_counter() - t0) * 1000.0)
            if t0 > deadline:
                break
    finally:
        sock.close()


def serve(code_dir: Path, connections: int, instances: int) -> dict:
    server = Server(code_dir, "--instances", str(instances))
    try:
        client(server.port, 50, time.perf_counter() + SECONDS, [])  # warm up: instances started
        per_client: list[list[float]] = [[] for _ in range(connections)]
        deadline = time.perf_counter() + SECONDS
        threads = [
            threading.Thread(target=client, args=(server.port, REQUESTS // connections, deadline, lat))
            for lat in per_client
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    latencies = [x for lat in per_client for x in lat]
    name = f"fglocal serve, {connections} connection(s), {instances} instance(s)"
    return describe(name, latencies, elapsed)


def main() -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        code_dir = Path(folder)
        (code_dir / "index.py").write_text(HANDLER)
        base = floor(code_dir)
        runtime = instance(code_dir)
        single = serve(code_dir, 1, 1)
        serve(code_dir, 4, 2)
    print(
        f"overhead per request at p50: {single['p50'] - base['p50']:.3f} ms over the floor "
        f"({single['p50'] - runtime['p50']:.3f} ms of it HTTP and the gateway, the rest the runtime)"
    )


if __name__ == "__main__":
    main()
