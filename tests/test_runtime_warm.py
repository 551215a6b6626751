"""Warm instances: initializer once, module state kept, initializer failures and timeouts."""

import json

from runtime_support import function_dir, invoke_json

BASIC = str(function_dir("basic"))
INIT = str(function_dir("init_slow"))


def test_several_events_share_one_warm_instance(tmp_path):
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text('{"n": 1}')
    b.write_text('{"n": 2}')
    results, proc = invoke_json(
        "index.count", "--code-dir", BASIC, "--event", str(a), "--event", str(b), "--repeat", "2"
    )
    assert proc.returncode == 0
    assert [r["body"] for r in results] == ["1", "2", "3", "4"]


def test_initializer_runs_once_before_the_first_event():
    results, proc = invoke_json(
        "index.handler", "--code-dir", INIT, "--initializer", "index.initializer", "--repeat", "3"
    )
    assert proc.returncode == 0
    assert [r["body"] for r in results] == ["1", "1", "1"]
    assert "initializing, remaining" in results[0]["logs"]
    assert "initializing" not in results[1]["logs"]


def test_failed_initializer_fails_every_invocation_of_the_instance():
    results, proc = invoke_json(
        "index.handler",
        "--code-dir",
        str(function_dir("init_fails")),
        "--initializer",
        "index.initializer",
        "--repeat",
        "2",
    )
    assert proc.returncode == 1
    for result in results:
        error = result["error"]
        assert error["errorType"] == "RuntimeError"
        assert error["errorMessage"] == "function initialization exception, error: cannot reach the database"
        assert any("in initializer" in line for line in error["stackTrace"])


def test_initializer_has_its_own_timeout(tmp_path):
    config = tmp_path / "fglocal.json"
    config.write_text(
        json.dumps(
            {"codeUri": INIT, "initializer": "index.slow_initializer", "initializerTimeout": 1, "timeout": 30}
        )
    )
    results, proc = invoke_json("--config", str(config), "--code-dir", str(tmp_path))
    assert proc.returncode == 1
    assert results[0]["error"]["errorType"] == "InitializerTimeout"
    assert "initializerTimeout" in results[0]["error"]["errorMessage"]


def test_missing_initializer_is_an_entry_error():
    results, _proc = invoke_json("index.handler", "--code-dir", INIT, "--initializer", "index.initialiser")
    assert "initializer 'initialiser' not found" in results[0]["error"]["errorMessage"]
    assert "did you mean 'initializer'?" in results[0]["error"]["errorMessage"]
