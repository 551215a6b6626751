"""`fglocal event`, `package` and `serve` on the oldest and newest Pythons the project supports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest
from test_runtime_compat import _interpreter

REPO = Path(__file__).resolve().parent.parent
WEB = Path(__file__).parent / "fixtures" / "triggers" / "web"


@pytest.mark.parametrize("version", ["3.8", "3.12"])
def test_plugins_run_on(version: str, tmp_path: Path):
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"python{version} is not installed on this machine")
    env = dict(os.environ, PYTHONPATH=str(REPO))

    def fglocal(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", "fglocal", *args], capture_output=True, text=True, env=env, timeout=120
        )

    done = fglocal("event", "new", "apig-base64", "--body", "x", "--out", "-")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["body"] == "eA=="

    out = tmp_path / "web.zip"
    done = fglocal("package", "--code-dir", str(WEB), "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["index.py"]

    serve = subprocess.Popen(
        [python, "-m", "fglocal", "serve", "--code-dir", str(WEB), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        assert "http://127.0.0.1:" in first, first + serve.stdout.read()
        url = first.split(" on ")[1].split(" ")[0]
        with urllib.request.urlopen(url + "echo", data=b"\x00\x01\x02", timeout=60) as response:
            assert response.status == 200
            assert response.read() == b"\x00\x01\x02"
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0
