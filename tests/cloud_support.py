"""Running the cloud commands for real (subprocess, real SDK) against the test FunctionGraph API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from fg_api_server import AK, PROJECT, SK, TOKEN, APIServer

ROOT = Path(__file__).resolve().parent.parent
SECRETS = (AK, SK, TOKEN)


class CloudRun:
    """One command's result; ``check_no_secrets`` is applied to every run."""

    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"<exit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}>"


class CloudKit:
    """The server, the environment the commands see, and a runner."""

    def __init__(self, server: APIServer, home: Path) -> None:
        self.server = server
        self.api = server.api
        self.env: Dict[str, str] = {
            k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_", "FGLOCAL_"))
        }
        self.env.update(
            HOME=str(home),
            PYTHONPATH=str(ROOT),
            NO_PROXY="127.0.0.1",
            HUAWEICLOUD_SDK_AK=AK,
            HUAWEICLOUD_SDK_SK=SK,
            HUAWEICLOUD_SDK_PROJECT_ID=PROJECT,
            FGLOCAL_FUNCTIONGRAPH_ENDPOINT=server.endpoint,
            FGLOCAL_CLOUD_RETRY_BASE_MS="1",
        )

    def start(self, *args: str) -> subprocess.Popen:
        """The command running in the background (``finish`` collects it)."""
        return subprocess.Popen(
            [sys.executable, "-m", "fglocal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, proc: subprocess.Popen) -> CloudRun:
        stdout, stderr = proc.communicate(timeout=120)
        result = CloudRun(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
        for secret in SECRETS:
            assert secret not in result.stdout and secret not in result.stderr, result
        return result

    def run(self, *args: str, cwd: Any = None, stdin: str = "") -> CloudRun:
        proc = subprocess.run(
            [sys.executable, "-m", "fglocal", *args],
            cwd=cwd or ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        result = CloudRun(proc)
        for secret in SECRETS:
            assert secret not in result.stdout and secret not in result.stderr, result
        return result


def make_function(
    folder: Path, config: Dict[str, Any], code: str = "def handler(event, context):\n    return event\n"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.py").write_text(code)
    (folder / "fglocal.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(name="cloud")
def cloud_fixture(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with APIServer() as server:
        yield CloudKit(server, home)


def requests_text(kit: CloudKit) -> List[str]:
    return [r.body.decode("utf-8", "replace") + json.dumps(r.headers) for r in kit.api.requests]
