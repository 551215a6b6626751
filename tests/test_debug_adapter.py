"""End to end: ``python -m debug_adapter`` over stdio, with the real fglocal and the real debugpy."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest
from dap_client import DAPClient
from debug_helpers import CONFIGURED, HELLO, HELLO_INDEX, bp
from runtime_matrix import require

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def dap() -> Iterator[DAPClient]:
    client = DAPClient()
    yield client
    client.close()


def launch_hello(dap: DAPClient, handler: str, lines: list, **extra: object) -> int:
    arguments = dict({"codeUri": str(HELLO), "handler": handler, "event": {"name": "bob"}}, **extra)
    return dap.launch(arguments, {str(HELLO_INDEX): lines})


def test_breakpoint_in_handler_shows_event_then_result(dap: DAPClient) -> None:
    launch_seq = launch_hello(dap, "index.handler", [bp(HELLO_INDEX, "handler")])
    assert dap.response(launch_seq)["success"]
    stopped = dap.stopped()
    assert stopped["body"]["reason"] == "breakpoint"
    thread_id = stopped["body"]["threadId"]
    frames = dap.request("stackTrace", {"threadId": thread_id})["body"]["stackFrames"]
    assert frames[0]["name"] == "handler"
    assert frames[0]["line"] == bp(HELLO_INDEX, "handler")
    assert frames[0]["source"]["path"] == str(HELLO_INDEX)
    # Runtime frames stay hidden: every frame shown is the user's.
    assert all(f["source"]["path"].startswith(str(HELLO)) for f in frames if "source" in f)
    local = dap.variables_of(frames[0]["id"])
    assert set(local) >= {"event", "context"}
    fields = dap.request("variables", {"variablesReference": local["event"]["variablesReference"]})["body"]
    assert {v["name"]: v["value"] for v in fields["variables"]}["'name'"] == "'bob'"

    before = len(dap.events)
    dap.request("continue", {"threadId": thread_id})
    result = dap.wait_for_event("functiongraph/result", after=before)["body"]
    assert json.loads(result["body"]) == {"greeting": "hello bob", "ready": False}
    assert result["error"] is None
    assert set(result["summary"]) >= {"requestId", "durationMs", "billedDurationMs", "maxMemoryUsedMB"}
    assert dap.wait_for_event("exited", after=before)["body"]["exitCode"] == 0
    dap.wait_for_event("terminated", after=before)
    assert dap.reverse_requests == []  # no runInTerminal / startDebugging, though the client offers them

    console = dap.outputs()
    assert '"greeting": "hello bob"' in console  # pretty JSON return
    assert "Execution summary" in console and result["summary"]["requestId"] in console
    assert "Logs" in console and result["logFile"] in console
    # The handler's print streamed before the result was shown.
    streamed = dap.outputs("stdout")
    assert "hello from the handler bob" in streamed
    assert "logged bob" in streamed
    events = [e.get("event") for e in dap.events]
    first_print = next(
        i
        for i, e in enumerate(dap.events)
        if e.get("event") == "output" and "hello from the handler" in e["body"]["output"]
    )
    assert first_print < events.index("functiongraph/result")


def test_breakpoint_in_initializer(dap: DAPClient) -> None:
    launch_hello(
        dap,
        "index.handler",
        [bp(HELLO_INDEX, "init"), bp(HELLO_INDEX, "handler")],
        initializer="index.initializer",
    )
    first = dap.stopped()
    frame = dap.top_frame(first["body"]["threadId"])
    assert (frame["name"], frame["line"]) == ("initializer", bp(HELLO_INDEX, "init"))
    assert "context" in dap.variables_of(frame["id"])
    before = len(dap.events)
    dap.request("continue", {"threadId": first["body"]["threadId"]})
    second = dap.stopped(after=before)
    frame = dap.top_frame(second["body"]["threadId"])
    assert (frame["name"], frame["line"]) == ("handler", bp(HELLO_INDEX, "handler"))
    dap.request("continue", {"threadId": second["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert json.loads(result["body"])["ready"] is True
    dap.wait_for_event("terminated")


def test_uncaught_exception_stops_at_raising_line(dap: DAPClient) -> None:
    launch_hello(dap, "index.failing", [])
    stopped = dap.stopped()
    assert stopped["body"]["reason"] == "exception"
    frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})["body"]["stackFrames"]
    assert frames[0]["line"] == bp(HELLO_INDEX, "raise")
    assert frames[0]["source"]["path"] == str(HELLO_INDEX)
    assert all("fglocal" not in f.get("source", {}).get("path", "") for f in frames)
    info = dap.request("exceptionInfo", {"threadId": stopped["body"]["threadId"]})["body"]
    assert "KeyError" in info["exceptionId"]
    before = len(dap.events)
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result", after=before)["body"]
    assert result["error"]["errorType"] == "KeyError"
    assert dap.wait_for_event("exited", after=before)["body"]["exitCode"] == 1
    errors = dap.outputs("stderr")
    assert '"errorType": "KeyError"' in errors and "function invocation exception" in errors


def test_timeout_does_not_run_while_paused(dap: DAPClient) -> None:
    launch_hello(dap, "index.remaining", [bp(HELLO_INDEX, "remaining")], timeout=2)
    stopped = dap.stopped()
    thread_id = stopped["body"]["threadId"]
    frame = dap.top_frame(thread_id)

    def remaining_ms() -> int:
        expression = "context.getRemainingTimeInMilliSeconds()"
        return int(
            dap.request("evaluate", {"expression": expression, "frameId": frame["id"]})["body"]["result"]
        )

    first = remaining_ms()
    assert 0 < first <= 2000
    # Hold the debuggee paused for longer than the whole timeout (the sleep runs inside the paused
    # process, so this is the scenario itself, not a wait for synchronisation).
    dap.request("evaluate", {"expression": "__import__('time').sleep(2.5)", "frameId": frame["id"]})
    assert remaining_ms() == first  # the clock is frozen while paused
    dap.request("continue", {"threadId": thread_id})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    values = json.loads(result["body"])
    assert 0 < values["after"] <= values["before"] <= 2000
    # The 2.5 s spent paused is not execution time either (the running part stayed under the 2 s timeout).
    assert result["summary"]["durationMs"] < 2500


def test_stop_on_entry_pauses_in_handler(dap: DAPClient) -> None:
    launch_hello(dap, "index.handler", [], stopOnEntry=True)
    stopped = dap.stopped()
    assert stopped["body"]["reason"] == "entry"
    frame = dap.top_frame(stopped["body"]["threadId"])
    assert frame["name"] == "handler" and frame["source"]["path"] == str(HELLO_INDEX)
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    assert dap.wait_for_event("functiongraph/result")["body"]["error"] is None
    dap.wait_for_event("terminated")


def test_repeat_runs_warm_invocations_with_one_initializer(dap: DAPClient) -> None:
    launch_hello(dap, "index.handler", [], initializer="index.initializer", repeat=2)
    dap.wait_for_event("terminated")
    results = [e["body"] for e in dap.events if e.get("event") == "functiongraph/result"]
    assert len(results) == 2
    assert len({r["requestId"] for r in results}) == 2
    assert "invocation 2 of 2" in dap.outputs()


def test_values_missing_from_launch_come_from_fglocal_json(dap: DAPClient) -> None:
    app = CONFIGURED / "src" / "app.py"
    dap.launch(
        {"codeUri": str(CONFIGURED), "eventFile": "../hello/events/hello.json", "userData": {"EXTRA": "x"}},
        {str(app): [bp(app, "main")]},
    )
    stopped = dap.stopped()
    assert dap.top_frame(stopped["body"]["threadId"])["line"] == bp(app, "main")
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert json.loads(result["body"]) == {
        "function": "configured-fn",
        "greeting": "hi",
        "color": "blue",
        "extra": "x",
        "event": {"name": "file"},
    }


def test_no_debug_runs_without_stopping(dap: DAPClient) -> None:
    launch_seq = launch_hello(dap, "index.handler", [bp(HELLO_INDEX, "handler")], noDebug=True)
    assert dap.response(launch_seq)["success"]
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert json.loads(result["body"])["greeting"] == "hello bob"
    assert dap.wait_for_event("exited")["body"]["exitCode"] == 0
    dap.wait_for_event("terminated")
    assert not [e for e in dap.events if e.get("event") == "stopped"]
    assert "hello from the handler bob" in dap.outputs("stdout")
    assert "Execution summary" in dap.outputs("console")


def test_no_debug_error_goes_to_stderr(dap: DAPClient) -> None:
    launch_hello(dap, "index.failing", [], noDebug=True)
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"]["errorType"] == "KeyError"
    dap.wait_for_event("terminated")
    assert '"errorType": "KeyError"' in dap.outputs("stderr")


def test_debuggee_sees_no_trace_of_the_adapter_and_pydevd_socket_has_nodelay(dap: DAPClient) -> None:
    launch_hello(dap, "index.environment", [bp(HELLO_INDEX, "environment")])
    stopped = dap.stopped()
    frame = dap.top_frame(stopped["body"]["threadId"])
    # debugpy issue #2054 workaround (debuggee_boot.py): pydevd's socket to the adapter has TCP_NODELAY.
    expression = (
        "__import__('pydevd').get_global_debugger().writer.sock.getsockopt("
        "__import__('socket').IPPROTO_TCP, __import__('socket').TCP_NODELAY)"
    )
    value = dap.request("evaluate", {"expression": expression, "frameId": frame["id"], "context": "repl"})[
        "body"
    ]
    assert value["result"] != "0"
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = json.loads(dap.wait_for_event("functiongraph/result")["body"]["body"])
    assert not [p for p in result["sys_path"] if p.endswith("boot")]
    assert "boot" not in result["pythonpath"]
    # Of the adapter, the function sees nothing: it runs on its runtime's interpreter, which starts
    # fglocal's instance side by path, with only the user's PYTHONPATH (the adapter's own folder, on
    # its PYTHONPATH in DAPClient, is not passed on).
    assert not [p for p in result["sys_path"] if "fg-debug-" in p]
    assert result["pythonpath"] == ""
    assert result["sys_path"][0] == str(HELLO)


def test_python_subprocess_of_the_handler_runs_to_completion(dap: DAPClient) -> None:
    """debugpy follows it (subProcess); the adapter lets it run instead of leaving it waiting."""
    launch_hello(dap, "index.python_child", [], timeout=120)
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    assert json.loads(result["body"]) == {"child": "child says hi"}


def test_after_a_timeout_the_fresh_instance_is_debugged_too(dap: DAPClient, tmp_path: Path) -> None:
    """Invocation 1 times out (instance killed); invocation 2 runs on a new instance: it stops too."""
    launch_hello(
        dap,
        "index.hang_first",
        [bp(HELLO_INDEX, "fresh")],
        timeout=1,
        repeat=2,
        event={"marker": str(tmp_path / "marker")},
    )
    first = dap.wait_for_event("functiongraph/result")["body"]
    assert first["error"]["errorType"] == "FunctionTimeout"
    stopped = dap.stopped()
    frame = dap.top_frame(stopped["body"]["threadId"])
    assert (frame["name"], frame["line"]) == ("hang_first", bp(HELLO_INDEX, "fresh"))
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    dap.wait_for_event("terminated")
    results = [e["body"] for e in dap.events if e.get("event") == "functiongraph/result"]
    assert [r["body"] for r in results] == ["", "fresh instance"]


def _runtime_python(version: str) -> str:
    """The interpreter of runtime ``python<version>``, as fglocal finds it (a missing one fails, reported)."""
    return require("python" + version).path


@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_function_runs_on_the_interpreter_the_launch_names(dap: DAPClient, version: str) -> None:
    """'python' picks the function's interpreter (like --python): the instance runs and stops there."""
    python = _runtime_python(version)
    launch_hello(
        dap, "index.environment", [bp(HELLO_INDEX, "environment")], python=python, runtime="python" + version
    )
    stopped = dap.stopped()
    frame = dap.top_frame(stopped["body"]["threadId"])
    version_info = dap.request(
        "evaluate", {"expression": "'%d.%d' % __import__('sys').version_info[:2]", "frameId": frame["id"]}
    )["body"]["result"]
    assert version_info.strip("'") == version
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    assert result["python"] == {"version": result["python"]["version"], "path": python}
    assert result["python"]["version"].startswith(version + ".")


def test_an_interpreter_of_another_version_is_refused_with_the_fix(dap: DAPClient) -> None:
    python = _runtime_python("3.12")
    dap.initialize()
    response = dap.response(
        dap.send_request(
            "launch",
            {"type": "functiongraph", "request": "launch", "codeUri": str(HELLO), "python": python},
        )
    )
    assert not response["success"]
    message = response["message"]
    assert "names Python 3.12" in message and "the runtime python3.9 runs Python 3.9" in message
    assert "point 'python' at a Python 3.9" in message and "--any-python" not in message


def test_no_debug_runs_on_the_runtimes_interpreter(dap: DAPClient) -> None:
    python = _runtime_python("3.10")
    launch_hello(dap, "index.environment", [], runtime="python3.10", noDebug=True)
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    assert result["python"]["version"].startswith("3.10.")
    assert any(os.path.dirname(os.path.dirname(python)) in p for p in json.loads(result["body"])["sys_path"])


@pytest.mark.parametrize("just_my_code", [True, False])
def test_stepping_never_enters_the_runtime(dap: DAPClient, just_my_code: bool) -> None:
    """Step into a runtime call (the logger), then out of the handler: the runtime's frames are never
    entered nor shown, with or without justMyCode."""
    launch_hello(dap, "index.handler", [bp(HELLO_INDEX, "logger")], justMyCode=just_my_code)
    stopped = dap.stopped()
    thread_id = stopped["body"]["threadId"]
    frames = dap.request("stackTrace", {"threadId": thread_id})["body"]["stackFrames"]
    assert not [f for f in frames if "fglocal" in f.get("source", {}).get("path", "")]
    before = len(dap.events)
    dap.request("stepIn", {"threadId": thread_id})  # into context.getLogger(): runtime code
    step = dap.stopped(after=before)
    assert step["body"]["reason"] == "step"
    frame = dap.top_frame(step["body"]["threadId"])
    assert frame["source"]["path"] == str(HELLO_INDEX)
    assert frame["line"] == bp(HELLO_INDEX, "logger") + 1
    before = len(dap.events)
    dap.request(
        "stepOut", {"threadId": thread_id}
    )  # out of the handler: back into the runtime, which runs on
    result = dap.wait_for_event("functiongraph/result", after=before)["body"]
    assert result["error"] is None
    assert not [e for e in dap.events[before:] if e.get("event") == "stopped"]


def test_breakpoint_in_module_level_code_then_in_the_handler(dap: DAPClient) -> None:
    """Import-time code runs on the instance's main thread: that thread is shown while it is stopped."""
    module = HELLO / "module_level.py"
    dap.launch(
        {"codeUri": str(HELLO), "handler": "module_level.handler"},
        {str(module): [bp(module, "module"), bp(module, "handler")]},
    )
    first = dap.stopped()
    threads = dap.request("threads")["body"]["threads"]
    assert first["body"]["threadId"] in [t["id"] for t in threads]
    frame = dap.top_frame(first["body"]["threadId"])
    assert (frame["name"], frame["line"]) == ("<module>", bp(module, "module"))
    before = len(dap.events)
    dap.request("continue", {"threadId": first["body"]["threadId"]})
    second = dap.stopped(after=before)
    # Stopped in the handler: only the thread running it is listed, not the runtime's main thread.
    threads = dap.request("threads")["body"]["threads"]
    assert [t["id"] for t in threads] == [second["body"]["threadId"]]
    assert dap.top_frame(second["body"]["threadId"])["line"] == bp(module, "handler")
    dap.request("continue", {"threadId": second["body"]["threadId"]})
    assert dap.wait_for_event("functiongraph/result")["body"]["body"] == "hi"


def test_syntax_error_in_the_function_is_shown_as_the_platform_error(dap: DAPClient) -> None:
    broken = HELLO.parent / "broken"
    dap.launch({"codeUri": str(broken), "handler": "index.handler"})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"]["errorType"] == "SyntaxError"
    dap.wait_for_event("terminated")
    assert '"errorType": "SyntaxError"' in dap.outputs("stderr")
    assert not [e for e in dap.events if e.get("event") == "stopped"]


def test_initializer_timeout_does_not_run_while_paused(dap: DAPClient) -> None:
    launch_hello(
        dap, "index.handler", [bp(HELLO_INDEX, "init")], initializer="index.initializer", initializerTimeout=2
    )
    stopped = dap.stopped()
    frame = dap.top_frame(stopped["body"]["threadId"])
    assert frame["name"] == "initializer"
    # Paused for longer than the initializer's whole timeout.
    dap.request("evaluate", {"expression": "__import__('time').sleep(2.5)", "frameId": frame["id"]})
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    assert json.loads(result["body"])["ready"] is True


def test_breakpoint_in_the_users_own_module_with_watch_and_set_variable(dap: DAPClient) -> None:
    helpers = HELLO / "helpers.py"
    dap.launch(
        {"codeUri": str(HELLO), "handler": "index.uses_helper", "event": {"n": 21}},
        {str(helpers): [bp(helpers, "helper")]},
    )
    stopped = dap.stopped()
    frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})["body"]["stackFrames"]
    assert [(f["name"], f["source"]["path"]) for f in frames] == [
        ("double", str(helpers)),
        ("uses_helper", str(HELLO_INDEX)),
    ]
    watch = dap.request(
        "evaluate", {"expression": "value + 1", "frameId": frames[0]["id"], "context": "watch"}
    )
    assert watch["body"]["result"] == "22"
    local = dap.variables_of(frames[0]["id"])
    scopes = dap.request("scopes", {"frameId": frames[0]["id"]})["body"]["scopes"]
    changed = dap.request(
        "setVariable", {"variablesReference": scopes[0]["variablesReference"], "name": "value", "value": "50"}
    )
    assert changed["body"]["value"] == "50" and local["value"]["value"] == "21"
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert json.loads(result["body"]) == {"doubled": 100}
