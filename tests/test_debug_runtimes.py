"""F5 on every FunctionGraph runtime: the real adapter over stdio, real debugpy, the runtime's own Python.

python3.9/3.10/3.12 are debugged with debugpy 1.8 and python2.7/3.6 with debugpy 1.5.1 (in its own
folder, installed by `make`); the adapter picks the release from the interpreter fglocal resolves for
the runtime. A runtime whose interpreter is missing fails (see runtime_matrix.py), and the terminal
summary lists which runtimes were covered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from dap_client import REPO, DAPClient
from debug_helpers import FIXTURES, alive, bp
from runtime_matrix import ALL_RUNTIMES, require

from debug_adapter.debugpy_releases import LEGACY_ENV, release_for

FUNCTION = FIXTURES / "runtimes"
INDEX = FUNCTION / "index.py"
BOOT = FIXTURES.parent.parent.parent / "debug_adapter" / "debuggee_boot.py"


@pytest.fixture(params=ALL_RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    require(request.param)
    return str(request.param)


@pytest.fixture
def dap() -> Iterator[DAPClient]:
    client = DAPClient()
    yield client
    client.close()


def _version(runtime: str) -> str:
    return runtime[len("python") :]


def test_the_boot_compiles_on_the_runtime(runtime: str) -> None:
    """debuggee_boot.py runs in every process of a debug run, the function's Python 2.7 included."""
    python = require(runtime).path
    source = "compile(open(%r).read(), %r, 'exec')" % (str(BOOT), str(BOOT))
    subprocess.run([python, "-c", source], check=True, capture_output=True, timeout=60)


def test_breakpoint_step_variables_and_result(dap: DAPClient, runtime: str) -> None:
    interpreter = require(runtime)
    release = release_for(interpreter.version[:2])
    launch = dap.launch(
        {"codeUri": str(FUNCTION), "runtime": runtime, "event": {"name": "bob"}},
        {str(INDEX): [bp(INDEX, "greet")]},
    )
    assert dap.response(launch)["success"]
    stopped = dap.stopped()
    assert stopped["body"]["reason"] == "breakpoint"
    thread_id = stopped["body"]["threadId"]
    frames = dap.request("stackTrace", {"threadId": thread_id})["body"]["stackFrames"]
    assert (frames[0]["name"], frames[0]["line"]) == ("handler", bp(INDEX, "greet"))
    assert frames[0]["source"]["path"] == str(INDEX)
    assert all("fglocal" not in f.get("source", {}).get("path", "") for f in frames)
    # The frame is the runtime's Python, with the debugpy release for it.
    version = dap.request(
        "evaluate",
        {"expression": "__import__('sys').version", "frameId": frames[0]["id"], "context": "watch"},
    )["body"]["result"]
    assert version.strip("'").startswith(interpreter.version_text + " "), version
    debugpy_version = dap.request(
        "evaluate",
        {
            "expression": "str(__import__('debugpy').__version__)",
            "frameId": frames[0]["id"],
            "context": "watch",
        },
    )["body"]["result"]
    assert debugpy_version.strip("'") == release.version
    event = dap.variables_of(frames[0]["id"])["event"]["value"]
    assert "bob" in event
    # Step over the line: the local it assigned is there.
    before = len(dap.events)
    dap.request("next", {"threadId": thread_id})
    step = dap.stopped(after=before)
    assert step["body"]["reason"] == "step"
    frame = dap.top_frame(step["body"]["threadId"])
    assert frame["line"] == bp(INDEX, "next")
    # Python 2: the event's strings are unicode (u'hello bob'), as on the platform's 2.7 runtime.
    assert dap.variables_of(frame["id"])["greeting"]["value"] in ("'hello bob'", "u'hello bob'")
    dap.request("continue", {"threadId": thread_id})
    result = dap.wait_for_event("functiongraph/result")["body"]
    dap.wait_for_event("terminated")
    assert result["error"] is None, result["error"]
    assert json.loads(result["body"]) == {"greeting": "hello bob", "python": _version(runtime)}
    assert result["python"] == {"version": interpreter.version_text, "path": interpreter.path}
    console = dap.outputs()
    assert "running on %s" % _version(runtime) in console
    assert '"greeting": "hello bob"' in console and "Execution summary" in console
    # The Debug Console's result names the Python that ran it, as fglocal invoke's summary does.
    shown = "^Python +%s \\(%s\\)$" % (re.escape(interpreter.version_text), re.escape(interpreter.path))
    assert re.search(shown, console, re.M), console


def test_uncaught_exception_stops_at_the_raising_line(dap: DAPClient, runtime: str) -> None:
    require(runtime)
    dap.launch(
        {"codeUri": str(FUNCTION), "runtime": runtime, "handler": "index.failing", "event": {"missing": "b"}},
        exception_filters=["uncaught"],
    )
    stopped = dap.stopped()
    assert stopped["body"]["reason"] == "exception"
    thread_id = stopped["body"]["threadId"]
    frame = dap.top_frame(thread_id)
    assert (frame["line"], frame["source"]["path"]) == (bp(INDEX, "raise"), str(INDEX))
    info = dap.request("exceptionInfo", {"threadId": thread_id})["body"]
    assert "KeyError" in info["exceptionId"]
    before = len(dap.events)
    dap.request("continue", {"threadId": thread_id})
    result = dap.wait_for_event("functiongraph/result", after=before)["body"]
    assert result["error"]["errorType"] == "KeyError"
    # The platform's key order on every runtime (a Python 2.7 dict has none of its own).
    assert list(result["error"]) == ["errorMessage", "errorType", "stackTrace"]
    console = dap.outputs("stderr")
    assert '"errorType": "KeyError"' in console
    assert console.index('"errorMessage"') < console.index('"errorType"') < console.index('"stackTrace"')


def test_a_function_on_the_tools_own_python_stops_on_an_uncaught_exception() -> None:
    """The adapter on the runtime's own interpreter (tools and function on python3.12), where fglocal
    would fork the instance from the debugged supervisor: it stops at the raising line all the same."""
    python = require("python3.12").path
    import debugpy

    debugpy_folder = os.path.dirname(os.path.dirname(os.path.realpath(debugpy.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), debugpy_folder]))
    env.pop("FGLOCAL_START_METHOD", None)
    client = DAPClient(argv=[python, "-m", "debug_adapter"], env=env)
    try:
        client.launch(
            {
                "codeUri": str(FUNCTION),
                "runtime": "python3.12",
                "handler": "index.failing",
                "event": {"missing": "b"},
            },
            exception_filters=["uncaught"],
        )
        stopped = client.stopped()
        assert stopped["body"]["reason"] == "exception"
        frame = client.top_frame(stopped["body"]["threadId"])
        assert (frame["line"], frame["source"]["path"]) == (bp(INDEX, "raise"), str(INDEX))
        before = len(client.events)
        client.request("continue", {"threadId": stopped["body"]["threadId"]})
        result = client.wait_for_event("functiongraph/result", after=before)["body"]
        assert result["error"]["errorType"] == "KeyError"
        assert result["python"]["version"].startswith("3.12.")
    finally:
        client.close()


def test_without_debugpy_1_5_1_a_python_2_7_launch_says_how_to_provide_it(tmp_path: Path) -> None:
    require("python2.7")
    env = dict(os.environ, PYTHONPATH=str(REPO), **{LEGACY_ENV: str(tmp_path / "empty")})
    client = DAPClient(env=env)
    try:
        client.initialize()
        response = client.response(
            client.send_request(
                "launch",
                {
                    "type": "functiongraph",
                    "request": "launch",
                    "codeUri": str(FUNCTION),
                    "runtime": "python2.7",
                },
            )
        )
        assert not response["success"]
        message = response["message"]
        assert "Python 2.7 function needs debugpy 1.5.1 in a folder of its own" in message
        assert "pip install --target" in message and "debugpy==1.5.1" in message
        assert "%s (no debugpy)" % (tmp_path / "empty") in message
    finally:
        client.close()


def _legacy_adapters() -> list:
    """Living debugpy 1.5.1 adapters started by a debug session's instance (detached from it)."""
    from debug_adapter.debuggee_boot import SESSION_ENV

    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as environ:
                marked = (SESSION_ENV + "=").encode() in environ.read()
            with open("/proc/%s/cmdline" % name, "rb") as cmdline:
                adapter = b"debugpy-1.5.1" in cmdline.read()
        except OSError:
            continue
        if marked and adapter:
            found.append(int(name))
    return found


def test_ending_a_python_2_7_session_leaves_no_debugpy_adapter(dap: DAPClient) -> None:
    """debugpy 1.5.1's adapter runs detached from the instance; disconnecting kills it too."""
    require("python2.7")
    dap.launch(
        {"codeUri": str(FUNCTION), "runtime": "python2.7", "event": {"name": "bob"}},
        {str(INDEX): [bp(INDEX, "greet")]},
    )
    dap.stopped()
    adapters = _legacy_adapters()
    assert adapters, "the session's debugpy 1.5.1 adapter was not found"
    dap.close()
    assert not [pid for pid in adapters if alive(pid)]


def test_after_a_timeout_the_fresh_python_2_7_instance_is_debugged_too(
    dap: DAPClient, tmp_path: Path
) -> None:
    """The fresh instance starts its own debugpy 1.5.1 and announces it: it stops at the breakpoint too."""
    require("python2.7")
    dap.launch(
        {
            "codeUri": str(FUNCTION),
            "runtime": "python2.7",
            "handler": "index.hang_first",
            "timeout": 1,
            "repeat": 2,
            "event": {"marker": str(tmp_path / "marker")},
        },
        {str(INDEX): [bp(INDEX, "fresh")]},
    )
    first = dap.wait_for_event("functiongraph/result")["body"]
    assert first["error"]["errorType"] == "FunctionTimeout"
    stopped = dap.stopped()
    frame = dap.top_frame(stopped["body"]["threadId"])
    assert (frame["name"], frame["line"]) == ("hang_first", bp(INDEX, "fresh"))
    dap.request("continue", {"threadId": stopped["body"]["threadId"]})
    dap.wait_for_event("terminated")
    results = [e["body"] for e in dap.events if e.get("event") == "functiongraph/result"]
    assert [r["body"] for r in results] == ["", "fresh instance"]


def test_no_debug_runs_on_the_runtime(dap: DAPClient, runtime: str) -> None:
    interpreter = require(runtime)
    dap.launch({"codeUri": str(FUNCTION), "runtime": runtime, "event": {"name": "bob"}, "noDebug": True})
    result = dap.wait_for_event("functiongraph/result")["body"]
    assert result["error"] is None, result["error"]
    assert json.loads(result["body"]) == {"greeting": "hello bob", "python": _version(runtime)}
    assert result["python"]["version"] == interpreter.version_text
