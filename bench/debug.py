"""Benchmark: time from ``launch`` to the ``stopped`` event at a breakpoint in the handler.

Side by side: our adapter (``python -m debug_adapter``, fglocal under debugpy) and a plain debugpy
launch (``python -m debugpy.adapter``) of a script that imports and calls the same handler.
Writes the ``## Debug adapter`` section of bench/RESULTS.md (``--write``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from dap_client import DAPClient  # noqa: E402
from debug_helpers import HELLO, HELLO_INDEX, bp  # noqa: E402

SECTION = "## Debug adapter"
LINE = bp(HELLO_INDEX, "handler")
BREAKPOINTS = {"source": {"path": str(HELLO_INDEX)}, "breakpoints": [{"line": LINE}]}


def _to_stop(client: DAPClient, launch: Dict[str, object]) -> float:
    client.initialize()
    started = time.perf_counter()
    client.send_request("launch", launch)
    client.wait_for_event("initialized")
    client.request("setBreakpoints", BREAKPOINTS)
    client.request("configurationDone")
    client.stopped()
    return time.perf_counter() - started


def ours() -> float:
    client = DAPClient()
    try:
        return _to_stop(
            client,
            {"type": "functiongraph", "request": "launch", "codeUri": str(HELLO), "handler": "index.handler",
             "event": {"name": "bob"}},
        )
    finally:
        client.close()


def plain(script: Path) -> Callable[[], float]:
    def run() -> float:
        client = DAPClient([sys.executable, "-m", "debugpy.adapter"])
        try:
            return _to_stop(
                client,
                {"type": "python", "request": "launch", "program": str(script), "cwd": str(HELLO),
                 "console": "internalConsole", "justMyCode": True},
            )
        finally:
            client.close()

    return run


def measure(runs: int) -> Dict[str, List[float]]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "call_handler.py"
        script.write_text(
            "import sys\nsys.path.insert(0, %r)\nimport index\nindex.handler({'name': 'bob'}, None)\n" % str(HELLO)
        )
        candidates = {"debug_adapter (fglocal under debugpy)": ours, "plain debugpy (script calls handler)": plain(script)}
        times: Dict[str, List[float]] = {name: [] for name in candidates}
        for name, run in candidates.items():
            run()  # warm the file cache and .pyc files
        for _ in range(runs):
            for name, run in candidates.items():  # interleaved, so load drifts hit both alike
                times[name].append(run())
    return times


def report(times: Dict[str, List[float]], runs: int) -> str:
    medians = {name: statistics.median(values) for name, values in times.items()}
    ours_name, plain_name = list(times)
    ratio = medians[ours_name] / medians[plain_name]
    lines = [
        SECTION,
        "",
        "Time from the `launch` request to the `stopped` event at a breakpoint in the handler",
        "(`bench/debug.py`, %d interleaved runs after one warm-up each; Python %s, %s, %d CPUs)."
        % (runs, platform.python_version(), platform.machine(), _cpus()),
        "",
        "| path | median | min | max |",
        "|---|---|---|---|",
    ]
    for name, values in times.items():
        lines.append(
            "| %s | %.0f ms | %.0f ms | %.0f ms |" % (name, medians[name] * 1e3, min(values) * 1e3, max(values) * 1e3)
        )
    lines += ["", "Ratio (median): **%.2f×** plain debugpy (target ≤ 1.2×)." % ratio, ""]
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def write_section(text: str) -> None:
    """Replace (or add) the ``## Debug adapter`` section of bench/RESULTS.md, leaving the rest."""
    path = REPO / "bench" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = old.find(SECTION + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("" if end < 0 else old[end + 1 :])
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    text = report(measure(args.runs), args.runs)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
