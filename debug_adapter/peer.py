"""One DAP connection (to the editor or to debugpy): sends messages, dispatches what arrives."""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any, Callable, Dict, Optional

from debug_adapter.wire import Message, WireBroken, WireClosed, Writer, read_message
from fglocal.framing import FrameReader

ResponseCallback = Callable[[Message], None]
BinaryStream = Any  # a binary file object: a pipe, stdio or a socket's makefile("rwb")


_TRACE_FILE = os.environ.get("FG_DEBUG_ADAPTER_TRACE")  # a file: every message, timed (diagnostics)
_trace_lock = threading.Lock()


def _trace(peer: str, direction: str, message: Message) -> None:
    if not _TRACE_FILE:
        return
    what = message.get("command") or message.get("event") or ""
    line = "%.3f %s %s %s %s\n" % (time.monotonic(), peer, direction, message.get("type"), what)
    with _trace_lock, open(_TRACE_FILE, "a", encoding="utf-8") as trace:
        trace.write(line)


class Peer:
    """A DAP endpoint: a reader thread dispatches events/requests; responses complete requests."""

    def __init__(
        self,
        name: str,
        reader: BinaryStream,
        writer: BinaryStream,
        on_message: Callable[[Peer, Message], None],
        on_close: Optional[Callable[[Peer], None]] = None,
    ) -> None:
        self.name = name
        self._reader = reader
        self._frames = FrameReader(reader)
        self._writer = Writer(writer)
        self._on_message = on_message
        self._on_close = on_close
        self._seq = itertools.count(1)
        self._pending: Dict[int, ResponseCallback] = {}
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self.broken: Optional[str] = None  # why the stream stopped being DAP (garbage), if it did
        self._thread = threading.Thread(target=self._read_loop, name="dap-" + name, daemon=True)

    def start(self) -> Peer:
        """Start reading messages on a background thread."""
        self._thread.start()
        return self

    def send(self, message: Message) -> bool:
        """Send a message, giving it the next sequence number."""
        message["seq"] = next(self._seq)
        _trace(self.name, ">>", message)
        return self._writer.write(message)

    def send_event(self, event: str, body: Optional[Dict[str, Any]] = None) -> None:
        """Send an event."""
        message: Message = {"type": "event", "event": event}
        if body is not None:
            message["body"] = body
        self.send(message)

    def respond(self, request: Message, body: Any = None, error: Optional[str] = None) -> None:
        """Answer ``request`` with a success (``body``) or an error (``error`` is shown to the user)."""
        message: Message = {
            "type": "response",
            "request_seq": request.get("seq", 0),
            "command": request.get("command", ""),
            "success": error is None,
        }
        if error is not None:
            message["message"] = error
            message["body"] = {"error": {"id": 1, "format": error, "showUser": True}}
        elif body is not None:
            message["body"] = body
        self.send(message)

    def request(
        self, command: str, arguments: Any = None, callback: Optional[ResponseCallback] = None
    ) -> int:
        """Send a request; ``callback`` gets the response (or a synthetic failure if the peer closes)."""
        message: Message = {"type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        with self._lock:
            seq = next(self._seq)
            message["seq"] = seq
            if callback is not None:
                self._pending[seq] = callback
        _trace(self.name, ">>", message)
        if not self._writer.write(message):
            self._fail_pending(seq)
        return seq

    def close(self) -> None:
        """Close both directions; pending requests fail."""
        self._writer.close()
        try:
            self._reader.close()
        except (OSError, ValueError):
            pass

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    message = read_message(self._frames)
                except WireBroken as exc:
                    self.broken = str(exc)
                    break
                except (WireClosed, OSError, ValueError):
                    break
                _trace(self.name, "<<", message)
                if message.get("type") == "response":
                    with self._lock:
                        callback = self._pending.pop(message.get("request_seq", -1), None)
                    if callback is not None:
                        callback(message)
                        continue
                self._on_message(self, message)
        finally:
            if self.broken is None:  # after garbage the other direction still works: answers go out
                self._writer.closed = True
            self.closed.set()
            with self._lock:
                pending = list(self._pending)
            for seq in pending:
                self._fail_pending(seq)
            if self._on_close is not None:
                self._on_close(self)

    def _fail_pending(self, seq: int) -> None:
        with self._lock:
            callback = self._pending.pop(seq, None)
        if callback is not None:
            callback(
                {
                    "type": "response",
                    "request_seq": seq,
                    "success": False,
                    "_closed": True,
                    "message": "%s is gone" % self.name,
                }
            )
