"""Benchmark: cold `fglocal invoke` against the bare-Python floor and python-lambda-local; warm overhead.

Run with `make bench` (or `.venv/bin/python bench/invoke.py`). Whole-process timings are interleaved
(floor, fglocal, python-lambda-local, floor, ...) so that machine noise hits all of them alike; the
median of RUNS runs is reported. Results are recorded in bench/RESULTS.md by hand from the printed table.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "40"))
WARM_EVENTS = 1000
HERE = Path(__file__).resolve().parent
HANDLER_DIR = HERE / "handlers" / "trivial"
BIN = Path(sys.executable).parent


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(HANDLER_DIR)
    )
    return (time.perf_counter() - start) * 1000.0


def _lambda_local() -> str | None:
    exe = shutil.which("python-lambda-local", path=str(BIN))
    if exe is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "python-lambda-local==0.1.13"],
            check=False,
        )
        exe = shutil.which("python-lambda-local", path=str(BIN))
    return exe


def cold() -> list[tuple[str, float]]:
    floor = [
        sys.executable,
        "-c",
        "import json, sys; sys.path.insert(0, '.'); import index; "
        "print(json.dumps(index.handler(json.load(open('event.json')), None)))",
    ]
    fglocal = [str(BIN / "fglocal"), "invoke", "--code-dir", ".", "--event", "event.json", "--json"]
    commands = {"bare python -c (floor)": floor, "fglocal invoke": fglocal}
    lambda_local = _lambda_local()
    if lambda_local:
        commands["python-lambda-local"] = [lambda_local, "-f", "handler", "lambda_function.py", "event.json"]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the page cache once
        _time(cmd)
    for _ in range(RUNS):
        for name, cmd in commands.items():
            samples[name].append(_time(cmd))
    floor_median = statistics.median(samples["bare python -c (floor)"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append((name, median))
        print(f"{name:28s} median {median:8.2f} ms   {median / floor_median:5.2f} x floor")
    return rows


def warm() -> float:
    sys.path.insert(0, str(HERE.parent))
    from fglocal.config import load_config
    from fglocal.instance import Instance

    sys.path.insert(0, str(HANDLER_DIR))
    import index  # type: ignore[import-not-found]

    event = {"k": 1}
    start = time.perf_counter()
    for _ in range(WARM_EVENTS):
        index.handler(event, None)
    direct = (time.perf_counter() - start) / WARM_EVENTS * 1000.0
    config = load_config(str(HANDLER_DIR))
    with Instance(config) as instance:
        instance.invoke(event)  # cold start outside the measurement
        start = time.perf_counter()
        for _ in range(WARM_EVENTS):
            result = instance.invoke(event)
        per_event = (time.perf_counter() - start) / WARM_EVENTS * 1000.0
        assert result.ok
    overhead = per_event - direct
    print(
        f"warm instance: {per_event:.3f} ms per event, direct call {direct:.4f} ms, overhead {overhead:.3f} ms"
    )
    return overhead


if __name__ == "__main__":
    # Installed packages ship compiled bytecode; compile ours and the handler's so that neither side
    # pays for compiling (this environment may set PYTHONDONTWRITEBYTECODE).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "fglocal"), str(HANDLER_DIR)], check=True
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {RUNS} runs each")
    cold()
    warm()
