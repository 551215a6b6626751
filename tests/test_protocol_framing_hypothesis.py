"""Property tests of the message framing of the language server and the debug adapter.

Property: any byte stream gets valid responses to the requests framed before anything broken, and then
either a clean end or a logged exit with code 1; never a hang. The framing itself (fglocal.framing) is
checked in-process with many examples; the two real entry points over pipes with a few (each example
starts a process, always under a timeout).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any, List, Optional, Tuple

from dap_client import REPO, WAIT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_pipe import EXIT, INITIALIZE, INITIALIZED, SHUTDOWN, frame, run_server

from fglocal.framing import FrameReader, FramingError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Bytes that can never continue a header: a frame broken by them is a framing error, never a message.
garbage = st.binary(min_size=1, max_size=300).map(lambda b: b"\x00" + b)


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``sizes[i]`` bytes per read: frames split anywhere."""

    def __init__(self, data: bytes, sizes: List[int]) -> None:
        self.data, self.sizes, self.index = data, sizes or [1], 0

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        size = min(size, self.sizes[self.index % len(self.sizes)])
        self.index += 1
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def read_all(reader: FrameReader, limit: int) -> Tuple[List[bytes], Optional[str]]:
    """Every frame until the end (None) or a framing error (its message); at most ``limit`` reads."""
    bodies: List[bytes] = []
    for _ in range(limit):
        try:
            body = reader.read_frame()
        except FramingError as exc:
            return bodies, str(exc)
        if body is None:
            return bodies, None
        bodies.append(body)
    raise AssertionError("read_frame did not come to an end")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), sizes=st.lists(st.integers(1, 64), max_size=5))
def test_any_bytes_end_in_frames_then_end_or_a_framing_error(data: bytes, sizes: List[int]) -> None:
    bodies, error = read_all(FrameReader(Trickle(data, sizes)), len(data) + 2)
    assert sum(len(b) for b in bodies) <= len(data)
    assert error is None or error  # a reason, never an empty message


@settings(max_examples=200, deadline=None)
@given(
    bodies=st.lists(json_values.map(lambda v: json.dumps(v).encode()), max_size=6),
    tail=st.none() | garbage,
    sizes=st.lists(st.integers(1, 64), max_size=5),
)
def test_frames_come_back_exactly_and_garbage_is_an_error(
    bodies: List[bytes], tail: Optional[bytes], sizes: List[int]
) -> None:
    data = b"".join(frame(b) for b in bodies) + (tail or b"")
    got, error = read_all(FrameReader(Trickle(data, sizes)), len(bodies) + 2)
    assert got == bodies
    assert (error is None) == (tail is None)


# -- the real entry points ----------------------------------------------------------------------------
LSP_METHODS = ["textDocument/hover", "textDocument/completion", "textDocument/codeLens", "no/such/method"]


@st.composite
def lsp_sessions(draw: Any) -> Tuple[bytes, List[int], bool]:
    requests = draw(st.lists(st.tuples(st.sampled_from(LSP_METHODS), json_values), max_size=5))
    broken = draw(st.none() | garbage)
    data = INITIALIZE + INITIALIZED
    ids = [1]
    for number, (method, params) in enumerate(requests, start=10):
        data += frame({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        ids.append(number)
    if broken is not None:
        return data + broken + SHUTDOWN + EXIT, ids, True
    return data + SHUTDOWN + EXIT, [*ids, 9999], False


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(session=lsp_sessions())
def test_language_server_answers_every_request_or_logs_and_exits_1(
    session: Tuple[bytes, List[int], bool],
) -> None:
    data, ids, broken = session
    outcome = run_server(data)  # under a timeout: a hang fails the test
    answered = sorted(m["id"] for m in outcome.messages if "method" not in m)
    assert answered == sorted(ids)  # exactly one answer to each request before the break
    if broken:
        assert outcome.returncode == 1 and "exiting with code 1" in outcome.stderr
    else:
        assert outcome.returncode == 0


DAP_COMMANDS = ["threads", "setBreakpoints", "evaluate", "stackTrace", "noSuchCommand", "attach"]


@st.composite
def dap_sessions(draw: Any) -> Tuple[bytes, List[int], bool]:
    requests = draw(st.lists(st.tuples(st.sampled_from(DAP_COMMANDS), json_values), max_size=5))
    broken = draw(st.none() | garbage)
    messages = [{"type": "request", "seq": 1, "command": "initialize", "arguments": {"adapterID": "x"}}]
    for seq, (command, arguments) in enumerate(requests, start=2):
        messages.append({"type": "request", "seq": seq, "command": command, "arguments": arguments})
    data = b"".join(frame(m) for m in messages)
    seqs = [m["seq"] for m in messages]
    if broken is not None:
        return data + broken, seqs, True
    disconnect = {"type": "request", "seq": 99, "command": "disconnect", "arguments": {}}
    return data + frame(disconnect), [*seqs, 99], False


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(session=dap_sessions())
def test_debug_adapter_answers_every_request_or_logs_and_exits_1(
    session: Tuple[bytes, List[int], bool],
) -> None:
    data, seqs, broken = session
    process = subprocess.Popen(
        [sys.executable, "-m", "debug_adapter"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(REPO),
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write(data)  # stdin stays open: the garbage or the disconnect must end it
        process.stdin.flush()
        process.wait(timeout=WAIT)
        stdout, stderr = process.stdout.read(), process.stderr.read().decode("utf-8", "replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
    responses = [m for m in _dap_messages(stdout) if m.get("type") == "response"]
    assert sorted(m["request_seq"] for m in responses) == sorted(seqs)
    if broken:
        assert process.returncode == 1 and "the client's stream is not DAP" in stderr
    else:
        assert process.returncode == 0


def _dap_messages(data: bytes) -> List[dict]:
    messages = []
    reader = FrameReader(io.BytesIO(data))
    while (body := reader.read_frame()) is not None:
        messages.append(json.loads(body))
    return messages
