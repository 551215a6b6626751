"""Bad launch configurations and the end of a session: errors the user can act on, no process left."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import pytest
from dap_client import REPO, WAIT, DAPClient
from debug_helpers import HELLO, HELLO_INDEX, bp, descendants, listening_addresses, living

from debug_adapter.processes import kill_trees

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def dap() -> Iterator[DAPClient]:
    client = DAPClient()
    yield client
    client.close()


BAD_CONFIGS = [
    pytest.param({"codeUri": str(HELLO / "events")}, "index.py", id="missing-handler-file"),
    pytest.param({"handler": "index.nope"}, "defines no function 'nope'", id="unknown-entry"),
    pytest.param({"handler": "nodots"}, "'file.function'", id="malformed-entry"),
    pytest.param({"event": "{not json"}, "event: the string is not valid JSON", id="bad-json-event"),
    pytest.param(
        {"eventFile": "events/missing.json"}, "missing.json does not exist", id="missing-event-file"
    ),
    pytest.param({"eventFile": "events/broken.json"}, "is not valid JSON", id="broken-event-file"),
    pytest.param(
        {"python": "/no/such/python3"},
        "'python' names /no/such/python3, which is not an executable Python interpreter",
        id="no-interpreter",
    ),
    pytest.param(
        {"python": "/bin/true"},
        "/bin/true, which does not run as a Python interpreter",
        id="not-an-interpreter",
    ),
    pytest.param(
        {"runtime": "python3.6", "python": "/no/such/python3.6"},
        "to let fglocal find a Python 3.6 for python3.6",
        id="named-interpreter-missing",
    ),
    pytest.param(
        {"codeUri": "/no/such/folder"}, "codeUri: folder /no/such/folder does not exist", id="no-folder"
    ),
    pytest.param({"timeout": 0}, "timeout: must be at least 1", id="timeout-range"),
    pytest.param({"memorySize": 100}, "memorySize: expected one of", id="memory-size"),
    pytest.param({"event": {}, "eventFile": "events/hello.json"}, "not both", id="event-and-file"),
    pytest.param({"handlr": "index.handler"}, "unknown launch field 'handlr'", id="typo"),
    pytest.param({"env": {"A": "1"}}, "with 'userData' or 'envFile'", id="python-style-env"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS)
def test_bad_launch_config_is_an_error_response_and_adapter_stays_up(
    dap: DAPClient, config: dict, message: str
) -> None:
    dap.initialize()
    arguments = dict({"type": "functiongraph", "request": "launch", "codeUri": str(HELLO)}, **config)
    response = dap.response(dap.send_request("launch", arguments))
    assert response["success"] is False
    assert message in response["message"], response["message"]
    assert response["body"]["error"]["showUser"] is True
    # Still serving: the same adapter runs a good configuration next.
    dap.launch({"codeUri": str(HELLO), "handler": "index.handler", "noDebug": True})
    assert dap.wait_for_event("functiongraph/result")["body"]["error"] is None


def _session_processes(dap: DAPClient) -> List[int]:
    """The adapter's process tree (debugpy's adapter, launcher, fglocal, the instance)."""
    pids = descendants(dap.process.pid)
    supervisor = dap.wait_for_event("process")["body"]["systemProcessId"]
    assert supervisor in pids
    return pids


def _assert_all_gone(pids: List[int]) -> None:
    # The adapter answers terminate/disconnect only after the processes it killed are gone.
    assert living(pids) == [], "left behind: %s" % living(pids)


def test_disconnect_while_paused_leaves_no_process(dap: DAPClient) -> None:
    dap.launch(
        {"codeUri": str(HELLO), "handler": "index.handler"}, {str(HELLO_INDEX): [bp(HELLO_INDEX, "handler")]}
    )
    dap.stopped()
    pids = _session_processes(dap)
    assert len(pids) >= 4  # debugpy adapter, launcher, fglocal supervisor, function instance
    # Every socket the session listens on is bound to loopback.
    addresses = listening_addresses([dap.process.pid, *pids])
    assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), addresses
    dap.request("disconnect", {"terminateDebuggee": True})
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(pids)


@pytest.mark.parametrize("how", ["terminate", "disconnect"])
def test_stopping_while_a_hung_handler_runs_leaves_no_process(dap: DAPClient, how: str) -> None:
    dap.launch({"codeUri": str(HELLO), "handler": "index.hang", "timeout": 900})
    dap.wait_for_event("output", lambda e: "hanging" in e["body"]["output"])
    pids = _session_processes(dap)
    if how == "terminate":
        dap.request("terminate")
        dap.wait_for_event("terminated")
        _assert_all_gone(pids)
        dap.request("disconnect", {"restart": True})  # how an editor restarts: then a new session
    else:
        dap.request("disconnect", {"terminateDebuggee": True})
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(pids)
    again = DAPClient()
    try:
        again.launch({"codeUri": str(HELLO), "handler": "index.handler"})
        assert again.wait_for_event("functiongraph/result")["body"]["error"] is None
    finally:
        again.close()


def test_terminate_while_paused_leaves_no_process(dap: DAPClient) -> None:
    dap.launch(
        {"codeUri": str(HELLO), "handler": "index.hang", "timeout": 900},
        {str(HELLO_INDEX): [bp(HELLO_INDEX, "hang")]},
    )
    dap.stopped()
    pids = _session_processes(dap)
    dap.request("terminate")
    dap.wait_for_event("terminated")
    _assert_all_gone(pids)


def test_client_vanishing_leaves_no_process(dap: DAPClient) -> None:
    """The editor crashes (stdin closes) while the handler is paused."""
    dap.launch(
        {"codeUri": str(HELLO), "handler": "index.handler"}, {str(HELLO_INDEX): [bp(HELLO_INDEX, "handler")]}
    )
    dap.stopped()
    pids = _session_processes(dap)
    assert dap.process.stdin is not None
    dap.process.stdin.close()
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(pids)


def test_no_debug_disconnect_while_running_leaves_no_process(dap: DAPClient) -> None:
    dap.launch({"codeUri": str(HELLO), "handler": "index.hang", "timeout": 900, "noDebug": True})
    dap.wait_for_event("output", lambda e: "hanging" in e["body"]["output"])
    pids = descendants(dap.process.pid)
    assert len(pids) >= 2  # fglocal supervisor and the instance
    dap.request("disconnect")
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(pids)


def test_pause_a_hung_handler_shows_where_it_hangs_then_disconnect(dap: DAPClient) -> None:
    dap.launch({"codeUri": str(HELLO), "handler": "index.spawner", "timeout": 900})
    dap.wait_for_event("output", lambda e: "spawned" in e["body"]["output"])
    pids = _session_processes(dap)
    sleepers = [pid for pid in pids if _cmdline(pid).startswith("sleep")]
    assert sleepers, "the handler's own child process should be in the tree"
    threads = dap.request("threads")["body"]["threads"]
    assert threads
    before = len(dap.events)
    dap.request("pause", {"threadId": threads[0]["id"]})
    stopped = dap.stopped(after=before)
    frames = dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]})["body"]["stackFrames"]
    user = [f for f in frames if f.get("source", {}).get("path") == str(HELLO_INDEX)]
    if not user:  # paused on another thread: find the handler's
        for thread in dap.request("threads")["body"]["threads"]:
            frames = dap.request("stackTrace", {"threadId": thread["id"]})["body"]["stackFrames"]
            user += [f for f in frames if f.get("source", {}).get("path") == str(HELLO_INDEX)]
    # In the loop: on the `while` line or the sleep in it.
    assert user and user[0]["line"] in (bp(HELLO_INDEX, "spawner") - 1, bp(HELLO_INDEX, "spawner"))
    dap.request("disconnect", {"terminateDebuggee": True})
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(pids)


def _cmdline(pid: int) -> str:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_adapter_killed_outright_leaves_no_process(dap: DAPClient) -> None:
    """Even SIGKILL of the adapter (no cleanup code runs) ends the session's processes: debugpy's
    adapter sees its stdin close and stops the debuggee; the instance sees its pipe close."""
    import signal
    import time

    dap.launch(
        {"codeUri": str(HELLO), "handler": "index.handler"}, {str(HELLO_INDEX): [bp(HELLO_INDEX, "handler")]}
    )
    dap.stopped()
    pids = _session_processes(dap)
    dap.process.send_signal(signal.SIGKILL)
    dap.process.wait(timeout=WAIT)
    # Nobody can answer here, so wait for the processes to end (polling /proc), with a generous bound.
    deadline = time.monotonic() + WAIT
    while living(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert living(pids) == [], "left behind: %s" % living(pids)


def _processes_mentioning(text: str) -> List[int]:
    found = []
    for name in os.listdir("/proc"):
        if (
            name.isdigit()
            and int(name) != os.getpid()
            and text in _cmdline(int(name))
            and living([int(name)])
        ):
            found.append(int(name))
    return found


@pytest.mark.parametrize("moment", ["launch-sent", "initialized", "configuration-done"])
def test_disconnect_during_startup_leaves_no_process(dap: DAPClient, tmp_path: Path, moment: str) -> None:
    """Disconnect while the session is still starting (debugpy launching, fglocal forking, ...)."""
    code = tmp_path / "fn"
    shutil.copytree(HELLO, code)  # a unique folder: it is on the command line of every process of the run
    dap.initialize()
    dap.send_request(
        "launch",
        {
            "type": "functiongraph",
            "request": "launch",
            "codeUri": str(code),
            "handler": "index.hang",
            "timeout": 900,
        },
    )
    if moment != "launch-sent":
        dap.wait_for_event("initialized")
    if moment == "configuration-done":
        dap.request("configurationDone")
    before = descendants(dap.process.pid)
    dap.request("disconnect", {"terminateDebuggee": True})
    assert dap.process.wait(timeout=WAIT) == 0
    _assert_all_gone(before)
    assert _processes_mentioning(str(code)) == []


def test_port_mode_serves_sessions_one_after_another() -> None:
    """``python -m debug_adapter --port N`` (an editor's "debugServer"): 127.0.0.1 only, session by session."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    server = subprocess.Popen(
        [sys.executable, "-m", "debug_adapter", "--port", "0"], stderr=subprocess.PIPE, cwd=str(REPO), env=env
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline().decode()
        assert line.startswith("debug_adapter listening on 127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        for handler, error, reason in (
            ("index.handler", None, "breakpoint"),
            ("index.failing", "KeyError", "exception"),
        ):
            client = DAPClient(port=port)
            try:
                client.launch(
                    {"codeUri": str(HELLO), "handler": handler, "event": {"name": "tcp"}},
                    {str(HELLO_INDEX): [bp(HELLO_INDEX, "handler")]},
                )
                stopped = client.stopped()
                assert stopped["body"]["reason"] == reason
                client.request("continue", {"threadId": stopped["body"]["threadId"]})
                result = client.wait_for_event("functiongraph/result")["body"]
                assert (result["error"] or {}).get("errorType") == error
            finally:
                client.close()
        assert set(listening_addresses([server.pid])) == {"127.0.0.1:%d" % port}
    finally:
        pids = descendants(server.pid)
        server.kill()
        server.wait()
        kill_trees(pids)
