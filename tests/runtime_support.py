"""Helpers for the fglocal tests: fixture folders and running the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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


def gone(pid: int) -> bool:
    """Neither running nor left as a zombie of this process (ended and reaped)."""
    if process_alive(pid):
        return False
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1]) != os.getpid()
    except OSError:
        return True


def wait_gone(pids, seconds: float = 15.0) -> list:
    """The pids of ``pids`` still not gone after up to ``seconds`` (polled: the assertion is on the state)."""
    # Polling /proc: the only way to see another process end.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if not gone(pid)]


def wait_ended(pids, seconds: float = 15.0) -> list:
    """The pids of ``pids`` still running after up to ``seconds``; zombies of this process are reaped.

    For processes whose reaping is not what a test checks: one re-parented to this process (a
    subreaper once a test here has hosted an instance) stays a zombie until this process reaps it.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(process_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return [pid for pid in pids if process_alive(pid)]


def invoke_api(entry: str, code_dir: str, event=None, **overrides) -> dict:
    """Run one event through the Python API (fglocal.invoke) and return the --json object."""
    from fglocal import invoke
    from fglocal.config import load_config

    config = load_config(code_dir).with_overrides(handler=entry, **overrides)
    return invoke(config, {} if event is None else event).to_json()


class ApiExit:
    """Stands in for a CompletedProcess in API mode: the exit code the CLI would give."""

    def __init__(self, result: dict) -> None:
        self.returncode = 0 if result["error"] is None else 1
        self.stderr = ""


def invoke_one(mode: str, entry: str, code_dir: str, event=None):
    """One invocation through the CLI (`mode="cli"`) or the Python API (`"api"`): (result, process)."""
    if mode == "api":
        result = invoke_api(entry, code_dir, event)
        return result, ApiExit(result)
    args = [entry, "--code-dir", code_dir]
    if event is not None:
        args += ["--event-json", json.dumps(event)]
    results, proc = invoke_json(*args)
    assert len(results) == 1, proc.stderr
    return results[0], proc


def start_sleeping_handler(code_dir: str, marker: Path, timeout: float, seconds: float):
    """Start `fglocal invoke --json index.sleep_marked` and return it once the handler is running."""
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fglocal",
            "invoke",
            "index.sleep_marked",
            "--code-dir",
            code_dir,
            "--timeout",
            str(timeout),
            "--json",
            "--event-json",
            json.dumps({"marker": str(marker), "seconds": seconds}),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO),
    )
    # Polling a file the handler writes: the only sign from inside the instance that it is running.
    for _ in range(1200):
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists(), "the handler never started"
    return proc


# Execs the Python a file names, as a pyenv shim does: its target changes while the script does not.
WRAPPER = '#!/bin/sh\nexec "$(cat "%s")" "$@"\n'


def switchable_python(folder: Path, python: str) -> tuple[Path, Path]:
    """A ``folder/bin/python`` wrapper script running ``python``; (the wrapper, the file naming its target)."""
    target = folder / "selected"
    target.write_text(python)
    wrapper = folder / "bin" / "python"
    wrapper.parent.mkdir()
    wrapper.write_text(WRAPPER % target)
    wrapper.chmod(0o755)
    return wrapper, target
