"""tests/fg_api_server.py run as a program (as the extension's e2e runs it): journal and ``--outcome``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from cloud_support import CloudKit, make_function

SERVER = Path(__file__).resolve().parent / "fg_api_server.py"
ERROR = {"errorMessage": "division by zero", "errorType": "ZeroDivisionError", "stackTrace": ["index.py:2"]}


def test_outcome_scripts_a_function_error_and_a_return(tmp_path):
    journal = tmp_path / "journal.jsonl"
    failing = "failing=" + json.dumps({"error": ERROR, "func_err_code": 1})
    args = [
        sys.executable,
        str(SERVER),
        str(journal),
        "--outcome",
        failing,
        "--outcome",
        'plain={"result": "text"}',
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        match = re.match(r"listening on (http://127\.0\.0\.1:\d+)$", proc.stdout.readline().strip())
        assert match, "the server did not say where it listens"
        home = tmp_path / "home"
        home.mkdir()
        kit = CloudKit(SimpleNamespace(endpoint=match.group(1), api=None), home)  # type: ignore[arg-type]
        for name in ("failing", "plain", "echo"):
            folder = make_function(tmp_path / name, {"functionName": name})
            assert kit.run("deploy", "--code-dir", str(folder)).returncode == 0

        run = kit.run("invoke", "--cloud", "--code-dir", str(tmp_path / "failing"), "--json")
        assert run.returncode == 1, run
        obj = run.json()
        assert obj["error"] == ERROR and obj["body"] == "" and obj["source"] == "cloud"

        run = kit.run("invoke", "--cloud", "--code-dir", str(tmp_path / "plain"), "--json")
        assert run.returncode == 0 and run.json()["body"] == "text" and run.json()["error"] is None, run
        # A function with no scripted outcome returns its event, as in-process.
        run = kit.run(
            "invoke", "--cloud", "--code-dir", str(tmp_path / "echo"), "--event-json", '{"a": 1}', "--json"
        )
        assert run.returncode == 0 and json.loads(run.json()["body"]) == {"a": 1}, run
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    invocations = [e for e in entries if e["path"].endswith("/invocations")]
    assert len(invocations) == 3 and all(e["signature"] == "valid" for e in invocations)


def test_a_bad_outcome_is_refused_with_the_reason(tmp_path):
    for bad, reason in [
        ("failing", "not FUNCTION=JSON"),
        ("failing={", "not JSON"),
        ('failing={"result": 1, "error": {}}', 'either "error" or "result"'),
        ('failing={"result": 1, "colour": "red"}', "unknown keys ['colour']"),
    ]:
        run = subprocess.run(
            [sys.executable, str(SERVER), str(tmp_path / "j"), "--outcome", bad],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert run.returncode == 2 and reason in run.stderr, (bad, run.stderr)
    assert not (tmp_path / "j").exists()
