"""Benchmark: cold `fglocal invoke` against the bare-Python floor and python-lambda-local; warm overhead.

Run with `make bench` (or `.venv/bin/python bench/invoke.py`). Whole-process timings are interleaved
(floor, fglocal, python-lambda-local, in a shuffled order each round) so that machine noise hits all
of them alike; the median of RUNS runs is reported. Then one row per FunctionGraph runtime whose interpreter is present:
cold `fglocal invoke --runtime X` against that interpreter's own floor (import and call the handler),
the same through `fglocal runtime-server` (FGLOCAL_RUNTIME_SERVER set), once with the thin client
switched off (FGLOCAL_THIN_CLIENT=0: the invoke runs in full in its own process, only the instance is
forked), once as a user gets it (the thin client: the server's warm supervisor runs the command) and
once through the server's native launcher (FGLOCAL_LAUNCHER: the same without a Python start-up for
the client; columns of NaN where the server or the launcher is not available), and the warm overhead per event of an instance on it. Results are recorded in bench/RESULTS.md by hand
from the printed tables. `bench/invoke.py runtimes [python2.7 ...]` runs the per-runtime rows only
(of the runtimes named).
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


def _time(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(HANDLER_DIR), env=env
    )
    return (time.perf_counter() - start) * 1000.0


def _rounds(names: list[str]) -> list[list[str]]:
    """RUNS rounds of ``names``, each in a shuffled order (seeded: the same every run of the bench).

    In a fixed order one command always runs right after the same other one (the floor, a different
    interpreter), and pays for what that one evicted from the caches: measured here, it was not noise.
    """
    import random

    shuffler = random.Random(0)
    rounds = []
    for _ in range(RUNS):
        order = list(names)
        shuffler.shuffle(order)
        rounds.append(order)
    return rounds


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
    # On fglocal's own interpreter (forked instance): the fast path.
    fglocal = [
        str(BIN / "fglocal"),
        "invoke",
        "--code-dir",
        ".",
        "--event",
        "event.json",
        "--json",
        "--python",
        sys.executable,
        "--any-python",
    ]
    commands = {"bare python -c (floor)": floor, "fglocal invoke": fglocal}
    lambda_local = _lambda_local()
    if lambda_local:
        commands["python-lambda-local"] = [lambda_local, "-f", "handler", "lambda_function.py", "event.json"]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the page cache once
        _time(cmd)
    for order in _rounds(list(commands)):
        for name in order:
            samples[name].append(_time(commands[name]))
    floor_median = statistics.median(samples["bare python -c (floor)"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append((name, median))
        print(f"{name:28s} median {median:8.2f} ms   {median / floor_median:5.2f} x floor")
    return rows


def _floor(python: str) -> list[str]:
    return [
        python,
        "-c",
        "import json, sys; sys.path.insert(0, '.'); import index; "
        "print(json.dumps(index.handler(json.load(open('event.json')), None)))",
    ]


def _start_runtime_server(only: list[str]) -> tuple[subprocess.Popen[str], str, str | None] | None:
    """``fglocal runtime-server`` for every runtime present, or those of ``only`` (stopped by closing its stdin).

    (the process, its folder, its native launcher or None); None if the server is unavailable.
    """
    from fglocal import runtime_server

    if not runtime_server.available():
        return None
    proc = subprocess.Popen(
        [str(BIN / "fglocal"), "runtime-server", "--until-stdin-closes", *(f"--runtime={r}" for r in only)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    folder = proc.stdout.readline().strip().split("=", 1)[1]
    launcher = None
    while True:
        line = proc.stdout.readline()
        if line.startswith("FGLOCAL_LAUNCHER="):
            launcher = line.strip().split("=", 1)[1]
        if line.startswith("set ") or not line:
            return proc, folder, launcher


def runtimes(only: list[str] | None = None) -> None:
    """One row per runtime (or per runtime of ``only``): cold invoke vs its floor (also through the runtime server), warm overhead."""
    sys.path.insert(0, str(HERE.parent))
    server = _start_runtime_server(only or [])
    print(
        f"{'runtime':11s} {'python':8s} {'floor':>9s} {'fglocal':>9s} {'x floor':>8s} {'server':>9s} {'x floor':>8s}"
        f" {'thin':>9s} {'x floor':>8s} {'launcher':>9s} {'x floor':>8s} {'warm overhead':>14s}"
    )
    try:
        _runtime_rows(server[1] if server else None, server[2] if server else None, only or [])
    finally:
        if server is not None:
            assert server[0].stdin is not None
            server[0].stdin.close()
            server[0].wait()


def _runtime_rows(server_folder: str | None, launcher: str | None, only: list[str]) -> None:
    """The rows of runtimes() (of ``only`` if given); ``server_folder`` (and ``launcher``) add the server's columns."""
    from fglocal.config import load_config
    from fglocal.contract import RUNTIMES
    from fglocal.interpreters import InterpreterError, resolve_interpreter
    from fglocal.runtime_server import ENV_VARIABLE

    base = load_config(str(HANDLER_DIR))
    env_with_server = dict(os.environ, **{ENV_VARIABLE: server_folder}) if server_folder else None
    for runtime in only or RUNTIMES:
        config = base.with_overrides(runtime=runtime)
        try:
            interpreter = resolve_interpreter(config)
        except InterpreterError:
            print(f"{runtime:11s} MISSING (no interpreter on this machine)")
            continue
        # Compile the handler and the instance package for this interpreter too (as an install would;
        # this environment may set PYTHONDONTWRITEBYTECODE).
        instance_package = str(HERE.parent / "fglocal" / "_instance")
        for folder in (".", instance_package):
            subprocess.run(
                [interpreter.path, "-m", "compileall", "-q", folder], cwd=str(HANDLER_DIR), check=False
            )
        commands = {
            "floor": _floor(interpreter.path),
            "fglocal": [
                str(BIN / "fglocal"),
                "invoke",
                "--runtime",
                runtime,
                "--event",
                "event.json",
                "--json",
            ],
        }
        envs = {"floor": None, "fglocal": None}
        if env_with_server is not None:
            commands["server"] = commands["fglocal"]
            envs["server"] = dict(env_with_server, FGLOCAL_THIN_CLIENT="0")
            commands["thin"] = commands["fglocal"]
            envs["thin"] = env_with_server
            if launcher is not None:
                commands["launcher"] = [launcher, *commands["fglocal"][1:]]
                envs["launcher"] = env_with_server
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for name, cmd in commands.items():
            _time(cmd, envs[name])
        for order in _rounds(list(commands)):
            for name in order:
                samples[name].append(_time(commands[name], envs[name]))
        floor, cold_ms = (statistics.median(samples[n]) for n in ("floor", "fglocal"))
        served = statistics.median(samples["server"]) if "server" in samples else float("nan")
        thin = statistics.median(samples["thin"]) if "thin" in samples else float("nan")
        native = statistics.median(samples["launcher"]) if "launcher" in samples else float("nan")
        overhead = warm(config, interpreter.path, quiet=True)
        print(
            f"{runtime:11s} {interpreter.version_text:8s} {floor:7.2f}ms {cold_ms:7.2f}ms {cold_ms / floor:7.2f}x"
            f" {served:7.2f}ms {served / floor:7.2f}x {thin:7.2f}ms {thin / floor:7.2f}x"
            f" {native:7.2f}ms {native / floor:7.2f}x {overhead:11.3f} ms"
        )


def _direct_call_ms(python: str) -> float:
    """Per-event time of calling the handler in-process on ``python`` (what the warm overhead excludes)."""
    code = (
        "import sys, time; sys.path.insert(0, '.'); import index; e = {'k': 1}; t = time.time()\n"
        "for _ in range(%d): index.handler(e, None)\n"
        "sys.stdout.write(repr((time.time() - t) / %d * 1000.0))" % (WARM_EVENTS, WARM_EVENTS)
    )
    done = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, cwd=str(HANDLER_DIR), check=True
    )
    return float(done.stdout)


def warm(config=None, python: str | None = None, quiet: bool = False) -> float:
    sys.path.insert(0, str(HERE.parent))
    from fglocal.config import load_config
    from fglocal.instance import Instance
    from fglocal.interpreters import tool_interpreter

    event = {"k": 1}
    direct = _direct_call_ms(python or sys.executable)
    interpreter = None
    if config is None:
        config = load_config(str(HANDLER_DIR))
        interpreter = tool_interpreter(config.runtime)  # the forked fast path
    with Instance(config, interpreter=interpreter) as instance:
        instance.invoke(event)  # cold start outside the measurement
        start = time.perf_counter()
        for _ in range(WARM_EVENTS):
            result = instance.invoke(event)
        per_event = (time.perf_counter() - start) / WARM_EVENTS * 1000.0
        assert result.ok
    overhead = per_event - direct
    if not quiet:
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
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {RUNS} runs each, load {os.getloadavg()}"
    )
    # `bench/invoke.py runtimes [python2.7 ...]`: only the per-runtime rows (of the runtimes named).
    if sys.argv[1:2] == ["runtimes"]:
        runtimes(sys.argv[2:])
    else:
        cold()
        warm()
        runtimes()
    print(f"load {os.getloadavg()}")
