"""fglocal (the supervisor) runs on Python 3.8+; the function runs on its runtime's Python whatever fglocal runs on."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from runtime_support import REPO, function_dir

from fglocal.contract import DEFAULT_RUNTIME, RUNTIMES

# pyenv-installed interpreters on the project's machines; each one found is exercised.
CANDIDATES = ["3.8", "3.9", "3.10", "3.12"]


def _interpreter(version):
    for root in (Path.home() / ".pyenv" / "versions", Path("/usr/local/bin"), Path("/usr/bin")):
        if root.name == "versions" and root.is_dir():
            for found in sorted(root.glob(version + ".*")):
                exe = found / "bin" / ("python" + version)
                if exe.exists():
                    return str(exe)
        exe = root / ("python" + version)
        if exe.exists():
            return str(exe)
    return None


@pytest.mark.parametrize("version", CANDIDATES)
def test_fglocal_runs_on(version):
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"python{version} is not installed on this machine")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # On a runtime's own version the instance is forked from fglocal's interpreter; otherwise the
    # function runs on the default runtime's (python3.9) interpreter.
    runtime = "python" + version if "python" + version in RUNTIMES else DEFAULT_RUNTIME
    proc = subprocess.run(
        [
            python,
            "-m",
            "fglocal",
            "invoke",
            "--code-dir",
            str(function_dir("py_compat")),
            "--runtime",
            runtime,
            "--json",
            "--event-json",
            '{"k": 1}',
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    expected = [int(x) for x in runtime[len("python") :].split(".")]
    assert json.loads(result["body"]) == {"python": expected, "event": {"k": 1}}
    assert result["python"]["version"].startswith(runtime[len("python") :] + ".")


def test_fglocal_sources_compile_as_python_38():
    python = _interpreter("3.8")
    if python is None:
        pytest.skip("python3.8 is not installed on this machine")
    sources = sorted(str(p) for p in (REPO / "fglocal").rglob("*.py"))
    proc = subprocess.run([python, "-m", "py_compile", *sources], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
