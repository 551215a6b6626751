"""Helpers for the fglocal tests: fixture folders and running the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = Path(__file__).resolve().parent / "fixtures" / "functions"


def function_dir(name: str) -> Path:
    return FUNCTIONS / name


def run_cli(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 120):
    """Run `python -m fglocal ARGS` and return the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop("FGLOCAL_START_METHOD", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fglocal", *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=str(REPO),
    )


def invoke_json(*args: str, **kwargs) -> tuple[list[dict], subprocess.CompletedProcess]:
    """Run `fglocal invoke --json ARGS`; return the parsed result objects and the process."""
    proc = run_cli("invoke", "--json", *args, **kwargs)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return results, proc


def process_alive(pid: int) -> bool:
    """True when pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
