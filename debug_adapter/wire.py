"""DAP wire format: ``Content-Length`` framed JSON messages over byte streams."""

from __future__ import annotations

import json
import threading
from typing import IO, Any, Dict, Optional

Message = Dict[str, Any]


class WireClosed(EOFError):
    """The peer closed the stream (or sent something that is not DAP)."""


def read_message(stream: IO[bytes]) -> Message:
    """Read one framed message; raise :class:`WireClosed` at end of stream."""
    length: Optional[int] = None
    while True:
        line = stream.readline()
        if not line:
            raise WireClosed("end of stream")
        line = line.strip()
        if not line:
            if length is None:
                continue  # tolerate stray blank lines between messages
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise WireClosed("bad Content-Length header: %r" % line) from None
    body = stream.read(length)
    if len(body) < length:
        raise WireClosed("stream ended inside a message")
    try:
        message = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise WireClosed("message is not JSON: %s" % exc) from None
    if not isinstance(message, dict):
        raise WireClosed("message is not a JSON object")
    return message


class Writer:
    """Thread-safe writer of framed messages to one stream."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.closed = False

    def write(self, message: Message) -> bool:
        """Send ``message``; return False (and remember it) when the stream is gone."""
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        data = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        with self._lock:
            if self.closed:
                return False
            try:
                self._stream.write(data)
                self._stream.flush()
            except (OSError, ValueError):
                self.closed = True
                return False
        return True

    def close(self) -> None:
        """Close the stream; later writes are dropped."""
        with self._lock:
            self.closed = True
            try:
                self._stream.close()
            except (OSError, ValueError):
                pass
