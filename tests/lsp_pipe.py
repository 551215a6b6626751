"""Raw LSP over pipes: bytes no real client would send, to ``python -m server`` as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

SERVER_COMMAND = [sys.executable, "-m", "server"]
PROCESS_TIMEOUT = 120  # seconds: a safety net against a hung server, not a timing assertion


def frame(message: Any) -> bytes:
    """One LSP frame: a dict is JSON-encoded, bytes are sent as the body as they are."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def request(msg_id: int, method: str, params: Any = None) -> bytes:
    """A framed request."""
    message: Dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    return frame(message)


def notification(method: str, params: Any = None) -> bytes:
    """A framed notification."""
    message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return frame(message)


INITIALIZE = request(1, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})
INITIALIZED = notification("initialized", {})
SHUTDOWN = request(9999, "shutdown")
EXIT = notification("exit")


@dataclass
class Outcome:
    """What the server wrote and how it ended."""

    returncode: int
    messages: List[Dict[str, Any]]
    stderr: str

    def response(self, msg_id: Any) -> Dict[str, Any]:
        """The one response to ``msg_id``."""
        found = [m for m in self.messages if "method" not in m and m.get("id") == msg_id]
        assert len(found) == 1, (msg_id, self.messages)
        return found[0]

    def error_code(self, msg_id: Any) -> Optional[int]:
        """The error code of the response to ``msg_id`` (None for a result)."""
        error = self.response(msg_id).get("error")
        return None if error is None else int(error["code"])


def run_server(data: bytes, timeout: float = PROCESS_TIMEOUT) -> Outcome:
    """Feed ``data`` to a fresh server on stdin (then close it) and collect every frame it wrote."""
    done = subprocess.run(SERVER_COMMAND, input=data, capture_output=True, timeout=timeout, check=False)
    return Outcome(done.returncode, parse_frames(done.stdout), done.stderr.decode("utf-8", "replace"))


def parse_frames(data: bytes) -> List[Dict[str, Any]]:
    """Split the server's output into JSON messages; fails the test on anything malformed."""
    messages = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, "output ends inside a header: %r" % data[:200]
        lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        assert len(lengths) == 1, head
        length = int(lengths[0].split(b":", 1)[1])
        body, data = rest[:length], rest[length:]
        assert len(body) == length, "output ends inside a body"
        message = json.loads(body)
        assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
        messages.append(message)
    return messages


def converse(
    first: bytes,
    wait_for_id: Any,
    then: bytes,
    timeout: float = PROCESS_TIMEOUT,
    command: Optional[List[str]] = None,
) -> Outcome:
    """Send ``first``, wait until the response to ``wait_for_id`` arrives, then send ``then`` and close."""
    process = subprocess.Popen(
        command or SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    messages: List[Dict[str, Any]] = []
    seen = threading.Event()

    def read() -> None:
        from fglocal.framing import FrameReader

        reader = FrameReader(process.stdout)
        while (body := reader.read_frame()) is not None:
            message = json.loads(body)
            messages.append(message)
            if "method" not in message and message.get("id") == wait_for_id:
                seen.set()

    reading = threading.Thread(target=read, daemon=True)
    reading.start()
    stderr = b""
    try:
        process.stdin.write(first)
        process.stdin.flush()
        assert seen.wait(timeout), "no response to %r: %s" % (wait_for_id, messages)
        process.stdin.write(then)
        process.stdin.close()
        stderr = process.stderr.read()
        process.wait(timeout=timeout)
        reading.join(timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Outcome(process.returncode, messages, stderr.decode("utf-8", "replace"))
