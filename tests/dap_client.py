"""A small synchronous DAP client for tests: drives ``python -m debug_adapter`` over stdio.

Modelled on VS Code's DebugClient: requests return their response; events are recorded in order and
waited for by name with a generous timeout (never by sleeping).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
WAIT = 90.0  # seconds: generous, for a loaded 2-core machine; never a timing assertion

Message = Dict[str, Any]


class DAPError(AssertionError):
    """A request failed or an expected message did not arrive."""


class DAPClient:
    """Talks DAP to a debug adapter process over its stdin/stdout."""

    def __init__(
        self,
        argv: Optional[List[str]] = None,
        cwd: Optional[Path] = None,
        port: Optional[int] = None,
        env: Optional[Dict[str, str]] = None,
    ) -> None:
        """Start ``argv`` (default: the adapter) and talk over its stdio, or connect to 127.0.0.1:``port``
        (an adapter serving with ``--port``; then there is no process of ours). ``env`` is the process's
        environment (default: this one, with the repository on PYTHONPATH)."""
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._socket: Optional[socket.socket] = None
        if port is None:
            if env is None:
                env = dict(os.environ)
                env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
            self.process = subprocess.Popen(
                argv or [sys.executable, "-m", "debug_adapter"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(cwd or REPO),
                env=env,
            )
            assert self.process.stdout is not None and self.process.stdin is not None
            self._in, self._out = self.process.stdout, self.process.stdin
        else:
            self._socket = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
            self._socket.settimeout(None)
            self._in, self._out = self._socket.makefile("rb"), self._socket.makefile("wb")
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._responses: Dict[int, Message] = {}
        self.events: List[Message] = []
        self.reverse_requests: List[Message] = []
        self.closed = False
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        if self.process is not None:
            threading.Thread(target=self._read_stderr, daemon=True).start()

    # -- wire -----------------------------------------------------------------------------------
    def _read(self) -> None:
        stream = self._in
        try:
            while True:
                length = None
                while True:
                    line = stream.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                assert length is not None, "message without Content-Length"
                message = json.loads(stream.read(length))
                message["_received"] = time.perf_counter()  # for bench/debug.py's timelines
                with self._cond:
                    kind = message.get("type")
                    if kind == "response":
                        self._responses[message["request_seq"]] = message
                    elif kind == "event":
                        self.events.append(message)
                    else:
                        self.reverse_requests.append(message)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        self.stderr = self.process.stderr.read()

    def send_request(self, command: str, arguments: Any = None) -> int:
        """Send a request without waiting; returns its seq."""
        seq = next(self._seq)
        message: Message = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode()
        self._out.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self._out.flush()
        return seq

    def response(self, seq: int, timeout: float = WAIT) -> Message:
        """Wait for the response to request ``seq``."""
        with self._cond:
            ok = self._cond.wait_for(lambda: seq in self._responses or self.closed, timeout)
            if seq in self._responses:
                return self._responses.pop(seq)
        raise DAPError(
            "no response to request %d (%s)%s" % (seq, "adapter closed" if ok else "timeout", self._tail())
        )

    def request(self, command: str, arguments: Any = None, timeout: float = WAIT) -> Message:
        """Send a request and return its successful response (raise on failure)."""
        response = self.response(self.send_request(command, arguments), timeout)
        if not response.get("success"):
            raise DAPError("%s failed: %s" % (command, response.get("message")))
        return response

    def wait_for_event(
        self,
        name: str,
        predicate: Callable[[Message], bool] = lambda _: True,
        timeout: float = WAIT,
        after: int = 0,
    ) -> Message:
        """Wait for an event called ``name`` (the first at index >= ``after``) matching ``predicate``."""

        def find() -> Optional[Message]:
            for event in self.events[after:]:
                if event.get("event") == name and predicate(event):
                    return event
            return None

        with self._cond:
            self._cond.wait_for(lambda: find() is not None or self.closed, timeout)
            found = find()
        if found is None:
            raise DAPError(
                "no %r event; got %s%s" % (name, [e.get("event") for e in self.events], self._tail())
            )
        return found

    def _tail(self) -> str:
        return "\nadapter stderr:\n" + self.stderr.decode(errors="replace")[-3000:] if self.stderr else ""

    # -- the usual sequences --------------------------------------------------------------------
    def initialize(self) -> Message:
        """The editor's ``initialize``."""
        # What VS Code sends (1.9x), reverse requests included: the adapter must not depend on them.
        return self.request(
            "initialize",
            {
                "clientID": "vscode",
                "clientName": "Visual Studio Code",
                "adapterID": "functiongraph",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                "supportsVariablePaging": True,
                "supportsRunInTerminalRequest": True,
                "locale": "en",
                "supportsProgressReporting": True,
                "supportsInvalidatedEvent": True,
                "supportsMemoryReferences": True,
                "supportsArgsCanBeInterpretedByShell": True,
                "supportsMemoryEvent": True,
                "supportsStartDebuggingRequest": True,
                "supportsANSIStyling": True,
            },
        )["body"]

    def launch(
        self,
        arguments: Dict[str, Any],
        breakpoints: Optional[Dict[str, List[int]]] = None,
        exception_filters: Optional[List[str]] = None,
    ) -> int:
        """initialize → launch → initialized → breakpoints → configurationDone; returns launch's seq."""
        self.initialize()
        launch_seq = self.send_request(
            "launch", dict({"type": "functiongraph", "request": "launch"}, **arguments)
        )
        self.wait_for_event("initialized")
        for path, lines in (breakpoints or {}).items():
            body = self.request(
                "setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]}
            )["body"]
            assert len(body["breakpoints"]) == len(lines)
        self.request("setExceptionBreakpoints", {"filters": exception_filters or ["uncaught"]})
        self.request("configurationDone")
        return launch_seq

    def stopped(self, after: int = 0, timeout: float = WAIT) -> Message:
        """Wait for the next ``stopped`` event."""
        return self.wait_for_event("stopped", after=after, timeout=timeout)

    def top_frame(self, thread_id: int) -> Message:
        """The innermost frame of ``thread_id``."""
        frames = self.request("stackTrace", {"threadId": thread_id})["body"]["stackFrames"]
        assert frames, "no frames"
        return frames[0]

    def variables_of(self, frame_id: int, scope_name: str = "Locals") -> Dict[str, Message]:
        """The variables of one scope of a frame, by name."""
        scopes = self.request("scopes", {"frameId": frame_id})["body"]["scopes"]
        scope = next(s for s in scopes if s["name"] == scope_name)
        variables = self.request("variables", {"variablesReference": scope["variablesReference"]})["body"]
        return {v["name"]: v for v in variables["variables"]}

    def outputs(self, category: Optional[str] = None) -> str:
        """All Debug Console text so far (of one category, if given)."""
        return "".join(
            e["body"]["output"]
            for e in list(self.events)
            if e.get("event") == "output" and (category is None or e["body"].get("category") == category)
        )

    def close(self) -> None:
        """Disconnect (if still connected) and reap the adapter."""
        if not self.closed and (self.process is None or self.process.poll() is None):
            try:
                seq = self.send_request("disconnect", {"terminateDebuggee": True})
                self.response(seq, timeout=30)
            except (DAPError, OSError, ValueError):
                pass
        if self._socket is not None:
            # Unblocks the reader thread first (closing a file it is reading from would wait for it).
            try:
                self._socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for stream in (self._out, self._in):
            try:
                stream.close()
            except OSError:
                pass
        if self._socket is not None:
            self._socket.close()
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
