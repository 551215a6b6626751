"""Benchmark: time from ``launch`` to the ``stopped`` event at a breakpoint in the handler.

Side by side: our adapter (``python -m debug_adapter``, fglocal under debugpy) and a plain debugpy
launch (``python -m debugpy.adapter``) of a script that imports and calls the same handler.
Writes the ``## Debug adapter`` section of bench/RESULTS.md (``--write``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from dap_client import DAPClient  # noqa: E402
from debug_helpers import HELLO, HELLO_INDEX, bp  # noqa: E402

SECTION = "## Debug adapter"
NOTES = """\
What it took (without these the adapter measured ~1.6× plain debugpy on launch → stopped): debugpy's
sockets leave Nagle's algorithm on and write messages in pieces, so many DAP messages waited ~40 ms for a
delayed ACK (debugpy issue #2054); the adapter sets `TCP_NODELAY` on pydevd's socket in the debuggee
(`debuggee_boot.py`) and on the sockets of the debugpy adapter it runs (`debugpy_adapter.py`), which
removed ~0.35 s of the ~0.5 s our extra hop (the forked instance's own debug session) had added; and it
starts debugpy's adapter first thing at startup, before loading anything else. Plain debugpy is measured
as shipped. Runs vary with the shared machine's load: 0.92–1.13× F5 → stopped at load average ~1.6,
1.07–1.35× at ~4.
"""
LINE = bp(HELLO_INDEX, "handler")
BREAKPOINTS = {"source": {"path": str(HELLO_INDEX)}, "breakpoints": [{"line": LINE}]}


Timing = Tuple[float, float]  # (adapter start -> stopped, launch request -> stopped)


def _to_stop(argv: Optional[List[str]], launch: Dict[str, object]) -> Timing:
    """F5 as an editor does it: start the adapter, initialize, launch, configure, wait for the stop."""
    spawned = time.perf_counter()
    client = DAPClient(argv)
    try:
        client.initialize()
        launched = time.perf_counter()
        client.send_request("launch", launch)
        client.wait_for_event("initialized")
        client.request("setBreakpoints", BREAKPOINTS)
        client.request("setExceptionBreakpoints", {"filters": ["uncaught"]})
        client.request("configurationDone")
        stopped = client.stopped()["_received"]
        return stopped - spawned, stopped - launched
    finally:
        client.close()


def ours() -> Timing:
    launch = {
        "type": "functiongraph",
        "request": "launch",
        "codeUri": str(HELLO),
        "handler": "index.handler",
        "event": {"name": "bob"},
    }
    return _to_stop(None, launch)


def plain(script: Path) -> Callable[[], Timing]:
    def run() -> Timing:
        launch = {
            "type": "python",
            "request": "launch",
            "program": str(script),
            "cwd": str(HELLO),
            "console": "internalConsole",
            "justMyCode": True,
        }
        return _to_stop([sys.executable, "-m", "debugpy.adapter"], launch)

    return run


def measure(runs: int) -> Dict[str, List[Timing]]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "call_handler.py"
        script.write_text(
            "import sys\nsys.path.insert(0, %r)\nimport index\nindex.handler({'name': 'bob'}, None)\n"
            % str(HELLO)
        )
        candidates = {
            "debug_adapter (fglocal under debugpy)": ours,
            "plain debugpy (script calls handler)": plain(script),
        }
        times: Dict[str, List[Timing]] = {name: [] for name in candidates}
        for run in candidates.values():
            run()  # warm the file cache and .pyc files
        for _ in range(runs):
            for name, run in candidates.items():  # interleaved, so load drifts hit both alike
                times[name].append(run())
    return times


def report(times: Dict[str, List[Timing]], runs: int) -> str:
    ours_name, plain_name = list(times)
    lines = [
        SECTION,
        "",
        "Time to the `stopped` event at a breakpoint in the handler, measured by a DAP client",
        "(`bench/debug.py`: %d interleaved runs after one warm-up each; Python %s, %s, %d CPUs)."
        % (runs, platform.python_version(), platform.machine(), os.cpu_count() or 1),
        '"F5" counts from starting the adapter process (what the user waits for); "launch" from the',
        "`launch` request, with the adapter already initialized.",
        "",
        "| path | F5 → stopped (median) | launch → stopped (median) | launch → stopped (min–max) |",
        "|---|---|---|---|",
    ]
    medians = {}
    for name, values in times.items():
        f5 = statistics.median(v[0] for v in values)
        launch = [v[1] for v in values]
        medians[name] = (f5, statistics.median(launch))
        lines.append(
            "| %s | %.0f ms | %.0f ms | %.0f–%.0f ms |"
            % (name, f5 * 1e3, medians[name][1] * 1e3, min(launch) * 1e3, max(launch) * 1e3)
        )
    ratio_f5 = medians[ours_name][0] / medians[plain_name][0]
    ratio_launch = medians[ours_name][1] / medians[plain_name][1]
    lines += [
        "",
        "Ratio to plain debugpy (medians): **%.2f×** F5 → stopped, %.2f× launch → stopped (target ≤ 1.2×)."
        % (ratio_f5, ratio_launch),
        "",
        NOTES,
    ]
    return "\n".join(lines)


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
