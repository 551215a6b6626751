"""DAP wire format: ``Content-Length`` framed JSON messages over byte streams."""

from __future__ import annotations

import json
import threading
from typing import Any, Dict

from fglocal.framing import FrameReader, FramingError

Message = Dict[str, Any]


class WireClosed(EOFError):
    """The peer closed the stream between two messages."""


class WireBroken(WireClosed):
    """The stream is not (or no longer) DAP: the message says what was wrong; it cannot be resynchronised."""


def read_message(frames: FrameReader) -> Message:
    """Read one message; :class:`WireClosed` at end of stream, :class:`WireBroken` on garbage.

    The framing is :class:`fglocal.framing.FrameReader`'s (the language server's too); the body must
    be a UTF-8 JSON object.
    """
    try:
        body = frames.read_frame()
    except FramingError as exc:
        raise WireBroken(str(exc)) from None
    if body is None:
        raise WireClosed("end of stream")
    try:
        message = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WireBroken("the message body is not UTF-8 (byte %d)" % exc.start) from None
    except ValueError as exc:
        raise WireBroken("the message body is not JSON: %s" % exc) from None
    except RecursionError:
        raise WireBroken("the message body is JSON nested too deeply to read") from None
    if not isinstance(message, dict):
        raise WireBroken("the message body is not a JSON object")
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
