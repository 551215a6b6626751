"""The adapter's pure parts, without processes: launch validation, schema, result formatting."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from debug_helpers import CONFIGURED, HELLO
from runtime_matrix import require

from debug_adapter.launch_config import (
    SCHEMA_PATH,
    LaunchError,
    check_entry_exists,
    launch_schema,
    parse_launch,
)
from debug_adapter.results import RESULT_EVENT, format_body, output_events


def test_missing_values_come_from_fglocal_json() -> None:
    plan = parse_launch({"codeUri": str(CONFIGURED), "memorySize": 256})
    config = plan.config
    assert config.code_root == (CONFIGURED / "src").resolve()
    assert (config.handler, config.function_name, config.memory_size) == ("app.main", "configured-fn", 256)
    assert config.user_data == {"COLOR": "blue", "GREETING": "hi"}
    assert json.loads(plan.event_json) == {}
    assert (plan.python, plan.repeat, plan.just_my_code, plan.no_debug) == (sys.executable, 1, True, False)


def test_launch_overrides_win_and_events_are_kept_as_json() -> None:
    plan = parse_launch(
        {"codeUri": str(HELLO), "handler": "index.failing", "userData": {"A": "1"}, "event": '{"x": [1]}'}
    )
    assert plan.config.handler == "index.failing" and plan.config.user_data == {"A": "1"}
    assert json.loads(plan.event_json) == {"x": [1]}
    assert json.loads(parse_launch({"codeUri": str(HELLO), "event": [1, 2]}).event_json) == [1, 2]


def test_codeuri_defaults_to_the_workspace_folder() -> None:
    assert parse_launch({}, default_folder=str(HELLO)).config.code_root == HELLO.resolve()


def test_every_schema_field_is_read_by_the_adapter() -> None:
    source = (Path(__file__).parents[1] / "debug_adapter" / "launch_config.py").read_text()
    for name in launch_schema()["properties"]:
        assert '"%s"' % name in source, name
    assert SCHEMA_PATH.name == "launch-schema.json"


def test_entry_checks_follow_what_python_would_define(tmp_path: Path) -> None:
    (tmp_path / "star.py").write_text("from os.path import *\n")
    check_entry_exists(tmp_path, "star.anything", "handler")  # cannot know: leave it to the runtime
    (tmp_path / "broken.py").write_text("def handler(:\n")
    check_entry_exists(tmp_path, "broken.handler", "handler")  # the runtime reports the syntax error
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("from x import handler as h\nvalue = 1\n")
    check_entry_exists(tmp_path, "pkg.mod.h", "handler")
    with pytest.raises(LaunchError, match=r"pkg/mod\.py defines no function 'value2'"):
        check_entry_exists(tmp_path, "pkg.mod.value2", "handler")
    # A package's module is its __init__.py (contract.entry_files): the message names that file.
    (tmp_path / "pkg" / "__init__.py").write_text("def handler(event, context):\n    pass\n")
    check_entry_exists(tmp_path, "pkg.handler", "handler")
    with pytest.raises(
        LaunchError, match=r"handler 'pkg\.nope': pkg/__init__\.py defines no function 'nope'"
    ):
        check_entry_exists(tmp_path, "pkg.nope", "handler")


def _result(**changes: object) -> dict:
    result = {
        "requestId": "r-1",
        "body": '{"a": 1}',
        "contentType": "application/json",
        "error": None,
        "summary": {
            "requestId": "r-1",
            "memorySizeMB": 128,
            "durationMs": 1.5,
            "maxMemoryUsedMB": 20.25,
            "billedDurationMs": 2,
        },
        "logs": "line\n",
        "logsTruncated": False,
        "logFile": "/tmp/r-1.log",
    }
    result.update(changes)
    return result


def test_result_output_has_return_summary_and_logs() -> None:
    events = output_events(_result())
    text = "".join(e["output"] for e in events)
    assert [e["category"] for e in events] == ["console", "console", "console"]
    assert '{\n  "a": 1\n}' in text
    assert (
        "Execution Duration  1.500 ms" in text
        and "Memory Used" in text
        and "Billed Duration     2 ms" in text
    )
    assert "line\n(full log: /tmp/r-1.log)" in text
    assert RESULT_EVENT == "functiongraph/result"


def test_result_output_names_the_python_and_its_warnings() -> None:
    python = {"version": "3.6.15", "path": "/py/3.6.15/bin/python3.6"}
    events = output_events(_result(python=python, warnings=["not the runtime's Python"]))
    text = "".join(e["output"] for e in events)
    assert "Billed Duration     2 ms\nPython              3.6.15 (/py/3.6.15/bin/python3.6)\n" in text
    assert {"category": "stderr", "output": "warning: not the runtime's Python\n"} in events
    assert "Python " not in "".join(e["output"] for e in output_events(_result()))


def test_error_goes_to_stderr_and_truncated_logs_say_where_the_rest_is() -> None:
    error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    events = output_events(_result(error=error, body="", logsTruncated=True))
    assert events[0]["category"] == "stderr" and '"errorType": "ValueError"' in events[0]["output"]
    assert "last 4 KB shown; full log: /tmp/r-1.log" in events[2]["output"]


def test_body_formatting() -> None:
    assert format_body(_result(body="plain text", contentType=None)) == "plain text"
    assert format_body(_result(body="", contentType=None)) == "(empty response body)"
    assert format_body(_result(body="[1]", contentType="application/json")) == "[\n  1\n]"


def test_side_channels_stream_logs_in_order_then_results(tmp_path: Path) -> None:
    from debug_adapter import invocation

    seen: list = []
    results = tmp_path / "results.jsonl"
    logs = tmp_path / "logs"
    logs.mkdir()
    channels = invocation.SideChannels(results, logs, lambda r: seen.append(("result", r)), seen.append)
    (logs / "a.log").write_bytes("héllo ".encode()[:2])  # half of a UTF-8 character
    channels.drain()
    with open(logs / "a.log", "ab") as log:
        log.write("héllo ".encode()[2:] + b"world\n")
    with open(results, "w") as out:
        out.write('{"requestId": "1"}\n{"requestId": ')  # the second line is not complete yet
    channels.drain()
    assert seen == ["h", "éllo world\n", ("result", {"requestId": "1"})]
    with open(results, "a") as out:
        out.write('"2"}\n')
    channels.drain()
    assert seen[-1] == ("result", {"requestId": "2"})


def test_side_channels_stop_streaming_a_huge_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from debug_adapter import invocation

    monkeypatch.setattr(invocation, "STREAM_LIMIT", 1 << 20)
    monkeypatch.setattr(invocation, "CHUNK_BYTES", 1000)
    seen: list = []
    (tmp_path / "big.log").write_bytes(b"x" * (3 << 20))
    channels = invocation.SideChannels(tmp_path / "none.jsonl", tmp_path, seen.append, seen.append)
    channels.drain()
    channels.drain()
    assert max(len(text) for text in seen) <= 1000
    assert sum(len(text) for text in seen[:-1]) == 1 << 20
    assert "full log is %s" % (tmp_path / "big.log") in seen[-1]


def test_an_interpreter_of_another_runtime_is_refused_with_the_version() -> None:
    """'python' names the function's interpreter (any runtime's, 2.7 too), checked against the runtime."""
    old = [require("python2.7").path]  # a missing one fails, and the summary reports it
    with pytest.raises(
        LaunchError, match=r"names Python 2\.7\.\d+ .*the runtime python3\.9 runs Python 3\.9"
    ):
        parse_launch({"codeUri": str(HELLO), "python": str(old[0])})
    plan = parse_launch({"codeUri": str(HELLO), "python": str(old[0]), "runtime": "python2.7"})
    assert plan.interpreter is not None and plan.interpreter.version[:2] == (2, 7)
    assert plan.python == sys.executable  # the supervisor stays on the tools' interpreter


def test_work_folders_of_dead_adapters_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import tempfile

    from debug_adapter import invocation

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "fg-debug-dead").mkdir()
    (tmp_path / "fg-debug-dead" / "owner").write_text(str(dead.pid))
    (tmp_path / "fg-debug-alive").mkdir()
    (tmp_path / "fg-debug-alive" / "owner").write_text(str(os.getppid()))
    (tmp_path / "fg-debug-unknown").mkdir()
    invocation.remove_orphaned_workdirs()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fg-debug-alive", "fg-debug-unknown"]
