"""The debug adapter off the happy path: every launch field's problem named, garbage on the wire ends it.

Through the real entry point: ``python -m debug_adapter`` over stdio, with the test DAP client or raw
pipes for bytes no client would send.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest
from dap_client import REPO, WAIT, DAPClient
from debug_helpers import HELLO

pytestmark = pytest.mark.timeout(300)

RAW_ERRORS = ("Error(", "Traceback", "Exception", "errno")  # what raw exception text looks like


@pytest.fixture
def dap() -> Iterator[DAPClient]:
    client = DAPClient()
    yield client
    client.close()


@pytest.fixture
def function(tmp_path: Path) -> Path:
    """A copy of the hello fixture the test may add bad files to."""
    folder = tmp_path / "hello"
    shutil.copytree(HELLO, folder)
    return folder


def launch_error(dap: DAPClient, arguments: Dict[str, Any]) -> str:
    """Launch with ``arguments``; the (failed) response's message, after checking its shape."""
    response = dap.response(
        dap.send_request("launch", dict({"type": "functiongraph", "request": "launch"}, **arguments))
    )
    assert response["success"] is False, response
    assert response["body"]["error"]["showUser"] is True
    message = str(response["message"])
    assert not any(raw.lower() in message.lower() for raw in RAW_ERRORS), message
    return message


def still_serving(dap: DAPClient) -> None:
    """The adapter still answers (a request that needs no run gets its error response)."""
    response = dap.response(dap.send_request("threads"))
    assert response["success"] is False and "launch one first" in response["message"]


Maker = Callable[[Path], Any]
FILE_PROBLEMS = [
    pytest.param(
        lambda p: p.write_bytes(b'{"name": "caf\xe9"}'), "is not UTF-8 text (byte 0xe9", id="latin1"
    ),
    pytest.param(lambda p: os.mkfifo(p), "is a FIFO (named pipe), not a regular file", id="fifo"),
    pytest.param(lambda p: p.symlink_to("/dev/stdin"), "not a regular file", id="dev-stdin"),
    pytest.param(lambda p: p.symlink_to("/dev/zero"), "is a character device", id="device"),
    pytest.param(lambda p: p.mkdir(), "is a folder, not a regular file", id="folder"),
    pytest.param(lambda p: p.symlink_to(p), "a symbolic link loop", id="symlink-loop"),
]


@pytest.mark.parametrize(("make", "problem"), FILE_PROBLEMS)
def test_event_file_problems_are_named(dap: DAPClient, function: Path, make: Maker, problem: str) -> None:
    make(function / "event.json")
    dap.initialize()
    message = launch_error(dap, {"codeUri": str(function), "eventFile": "event.json"})
    assert message.startswith("Cannot launch the function: eventFile: ")
    assert str(function / "event.json") in message and problem in message
    still_serving(dap)


@pytest.mark.parametrize(("make", "problem"), FILE_PROBLEMS[:3])
def test_env_file_problems_are_named(dap: DAPClient, function: Path, make: Maker, problem: str) -> None:
    make(function / "app.env")
    dap.initialize()
    message = launch_error(dap, {"codeUri": str(function), "envFile": "app.env", "noDebug": True})
    assert "envFile: " in message and problem in message
    still_serving(dap)


@pytest.mark.parametrize(("make", "problem"), FILE_PROBLEMS[:3])
def test_env_file_named_by_fglocal_json_is_checked(
    dap: DAPClient, function: Path, make: Maker, problem: str
) -> None:
    (function / "fglocal.json").write_text('{"envFile": "secrets.env"}')
    make(function / "secrets.env")
    dap.initialize()
    message = launch_error(dap, {"codeUri": str(function), "noDebug": True})
    assert "invalid 'envFile'" in message and problem in message
    still_serving(dap)


def test_unreadable_fglocal_json_is_named(dap: DAPClient, function: Path) -> None:
    (function / "fglocal.json").write_bytes(b'{"handler": "index.handler", "description": "\xff"}')
    dap.initialize()
    message = launch_error(dap, {"codeUri": str(function), "noDebug": True})
    assert "invalid 'config file'" in message and "is not UTF-8 text (byte 0xff" in message


def test_huge_and_deeply_nested_event_files(dap: DAPClient, function: Path) -> None:
    with open(function / "huge.json", "wb") as handle:
        handle.truncate(30 * 1024 * 1024)  # sparse: refused by its size, never read
    (function / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    dap.initialize()
    huge = launch_error(dap, {"codeUri": str(function), "eventFile": "huge.json"})
    assert "over the 25,165,824-byte limit" in huge
    deep = launch_error(dap, {"codeUri": str(function), "eventFile": "deep.json"})
    assert "is not valid JSON: nested too deeply to parse" in deep
    still_serving(dap)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        pytest.param({"event": "[" * 100_000 + "]" * 100_000}, "nested too deeply", id="deep-event-string"),
        pytest.param({"event": '{"a": 1,}'}, "at line 1 column 9", id="bad-json-event-position"),
        pytest.param(
            {"eventFile": "ev\x00ent.json"}, "eventFile: the path contains a NUL", id="nul-event-file"
        ),
        pytest.param({"codeUri": "~\x00x"}, "codeUri: the path contains a NUL", id="nul-code-uri"),
        pytest.param({"eventFile": "~no-such-user-fg/e.json"}, "unknown user's home", id="unknown-home"),
        pytest.param({"cwd": 42, "codeUri": None}, "cwd: expected a folder path", id="cwd-type"),
        pytest.param(
            {"userData": {"A": 5}}, "userData: A: expected string, got a number", id="user-data-type"
        ),
        pytest.param(
            {"args": ["--x"]}, "give the test event with 'event' or 'eventFile'", id="python-style-args"
        ),
        pytest.param({"repeat": "3"}, "repeat: expected integer", id="repeat-type"),
    ],
)
def test_launch_fields_get_a_named_problem(dap: DAPClient, arguments: Dict[str, Any], problem: str) -> None:
    dap.initialize()
    config = {"codeUri": str(HELLO)}
    config.update(arguments)
    message = launch_error(dap, {k: v for k, v in config.items() if v is not None})
    assert problem in message
    still_serving(dap)


@pytest.mark.parametrize(
    ("request_message", "problem"),
    [
        ({"type": "request", "seq": 5}, "a request needs a 'command' string"),
        ({"type": "request", "seq": 5, "command": 7}, "a request needs a 'command' string"),
        (
            {"type": "request", "seq": 5, "command": "launch", "arguments": "x"},
            "'arguments' must be a JSON object",
        ),
        ({"type": "request", "seq": 5, "command": "initialize", "arguments": [1]}, "'arguments' must be"),
        ({"type": "request", "seq": 5, "command": "no-such-thing"}, "needs a running function"),
        ({"type": "request", "seq": 5, "command": "__init__"}, "needs a running function"),
        ({"type": "request", "seq": 5, "command": "configurationDone"}, "needs a running function"),
    ],
)
def test_every_request_gets_a_response(request_message: Dict[str, Any], problem: str) -> None:
    outcome = run_raw(frame(INITIALIZE) + frame(request_message) + frame(DISCONNECT), close=False)
    responses = {m["request_seq"]: m for m in outcome["messages"] if m.get("type") == "response"}
    assert responses[5]["success"] is False and problem in responses[5]["message"], responses
    assert responses[9]["success"] is True  # the disconnect after it
    assert outcome["returncode"] == 0


# -- the wire: garbage ends the adapter with a log line and code 1 ----------------------------------------
INITIALIZE = {
    "type": "request",
    "seq": 1,
    "command": "initialize",
    "arguments": {"adapterID": "functiongraph"},
}
DISCONNECT = {"type": "request", "seq": 9, "command": "disconnect", "arguments": {}}


def frame(message: Any) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def adapter() -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "debug_adapter"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(REPO),
        env=env,
    )


def parse(data: bytes) -> list:
    messages = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(head.split(b":", 1)[1])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


def run_raw(data: bytes, close: bool = True) -> Dict[str, Any]:
    """Send ``data``; with ``close`` end stdin, else keep it open (the adapter must notice by itself)."""
    process = adapter()
    assert process.stdin is not None
    try:
        if close:
            stdout, stderr = process.communicate(data, timeout=WAIT)
        else:
            process.stdin.write(data)
            process.stdin.flush()
            stdout, stderr = _wait_open(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {
        "returncode": process.returncode,
        "messages": parse(stdout),
        "stderr": stderr.decode("utf-8", "replace"),
    }


def _wait_open(process: subprocess.Popen[bytes]) -> tuple:
    assert process.stdout is not None and process.stderr is not None
    process.wait(timeout=WAIT)  # stdin still open: only the garbage itself can end it
    return process.stdout.read(), process.stderr.read()


@pytest.mark.parametrize(
    ("garbage", "problem"),
    [
        pytest.param(os.urandom(0) + bytes(range(128, 256)) * 8, "malformed header line", id="random-bytes"),
        pytest.param(
            b"Content-Length: abc\r\n\r\n{}", "Content-Length b'abc' is not a number", id="length-abc"
        ),
        pytest.param(b"Content-Length: -1\r\n\r\n", "is not a number", id="length-negative"),
        pytest.param(b"Content-Length: 99999999999\r\n\r\n", "over the", id="length-huge"),
        pytest.param(frame(b"not json"), "the message body is not JSON", id="not-json"),
        pytest.param(frame(b"[1, 2]"), "not a JSON object", id="json-array"),
        pytest.param(frame(b'{"type": "\xff"}'), "not UTF-8", id="not-utf8"),
        pytest.param(frame(b"[" * 100_000 + b"]" * 100_000), "nested too deeply", id="deep-json"),
        pytest.param(b"Content-Type: x\r\n\r\n", "without a Content-Length", id="no-length"),
    ],
)
def test_garbage_on_stdin_is_logged_and_ends_the_adapter_with_1(garbage: bytes, problem: str) -> None:
    outcome = run_raw(frame(INITIALIZE) + garbage, close=False)
    assert outcome["returncode"] == 1
    assert "the client's stream is not DAP" in outcome["stderr"] and problem in outcome["stderr"]
    assert [m["command"] for m in outcome["messages"] if m["type"] == "response"] == ["initialize"]


@pytest.mark.parametrize(
    "tail",
    [b'Content-Length: 40\r\n\r\n{"type":', b"Content-Length: 4", b"Content-Length: 4\r\n"],
    ids=["in-body", "in-header", "before-body"],
)
def test_end_of_input_inside_a_message_is_logged_and_1(tail: bytes) -> None:
    outcome = run_raw(frame(INITIALIZE) + tail)
    assert outcome["returncode"] == 1
    assert "end of input" in outcome["stderr"]


def test_end_of_input_between_messages_is_a_normal_end() -> None:
    outcome = run_raw(frame(INITIALIZE))
    assert outcome["returncode"] == 0
    assert "not DAP" not in outcome["stderr"]


def test_port_mode_warns_and_is_loopback_only_and_bad_ports_are_usage_errors() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    server = subprocess.Popen(
        [sys.executable, "-m", "debug_adapter", "--port", "0"], stderr=subprocess.PIPE, cwd=str(REPO), env=env
    )
    try:
        assert server.stderr is not None
        listening = server.stderr.readline().decode()
        warning = server.stderr.readline().decode()
        assert listening.startswith("debug_adapter listening on 127.0.0.1:"), listening
        assert "any user or program on this machine can connect" in warning
    finally:
        server.kill()
        server.wait()
    for port in ("70000", "-1", "x"):
        done = subprocess.run(
            [sys.executable, "-m", "debug_adapter", "--port", port],
            capture_output=True,
            cwd=str(REPO),
            env=env,
            timeout=WAIT,
        )
        assert done.returncode == 2 and b"usage: python -m debug_adapter [--port N]" in done.stderr


def test_an_interpreter_that_cannot_be_executed_is_named_without_exception_text(
    dap: DAPClient, function: Path
) -> None:
    fifo = function / "python3"
    os.mkfifo(fifo)
    fifo.chmod(0o755)  # executable bits on something exec refuses (the errno text leaked once)
    dap.initialize()
    message = launch_error(dap, {"codeUri": str(function), "python": str(fifo), "noDebug": True})
    assert "'python' names %s, which is not an executable Python interpreter" % fifo in message
    still_serving(dap)
