"""``Content-Length`` framing (LSP and DAP base protocol), read strictly: garbage is an error at once.

Both tools (``server.transport`` and ``debug_adapter.wire``) read their peer through
:class:`FrameReader`. A message is header lines ``Name: value`` (the name an RFC 9110 token, the value
printable ASCII) ending in CRLF or LF, a blank line, then exactly ``Content-Length`` bytes. Blank lines
between messages are tolerated. Everything else raises :class:`FramingError` naming the problem: a
malformed header line (detected as soon as its bytes arrive, without waiting for a newline that random
bytes may never contain), a missing or non-numeric ``Content-Length``, one over ``max_body``, a header
line over :data:`MAX_HEADER_LINE`, end of input inside a message. Where the next message would start
is then a guess, so callers end the connection. Standard library only.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Optional

MAX_HEADER_LINE = 8192  # bytes; real headers are ~25
MAX_BODY = 64 * 1024 * 1024  # bytes
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*")  # a header name (RFC 9110 token), maybe partial
_VALUE = re.compile(rb"[\t\x20-\x7e]*\r?")  # a header value so far: printable ASCII, then CR


class FramingError(Exception):
    """The byte stream is not (or no longer) a sequence of framed messages."""


class FrameReader:
    """Reads framed message bodies from a file descriptor or a binary stream, with its own buffer.

    On a descriptor it uses ``os.read``, not a :class:`io.BufferedReader`: a reader thread blocked in
    a buffered stdin holds its lock, which makes interpreter shutdown abort.
    """

    def __init__(self, source: Any, max_body: int = MAX_BODY, prefix: bytes = b"") -> None:
        self._read: Callable[[int], bytes]
        if isinstance(source, int):
            fd = source
            self._read = lambda size: os.read(fd, size)
        else:
            self._read = getattr(source, "read1", source.read)
        self.max_body = max_body
        self._buffer = prefix  # bytes already read from the source by someone else, read first
        self._eof = False

    def read_frame(self) -> Optional[bytes]:
        """The next message's body; None at end of input between messages; FramingError otherwise."""
        length: Optional[int] = None
        started = False
        while True:
            line = self._header_line(started)
            if line is None:
                if started:
                    raise FramingError("end of input inside a message header")
                return None
            if line in (b"\r\n", b"\n"):
                if started:
                    break
                continue  # a stray blank line between messages
            started = True
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                text = value.strip()
                if not text.isdigit():
                    raise FramingError("Content-Length %r is not a number of bytes" % text[:40])
                length = int(text)
                if length > self.max_body:
                    raise FramingError(
                        "Content-Length %d is over the %d-byte limit" % (length, self.max_body)
                    )
        if length is None:
            raise FramingError("a message without a Content-Length header")
        body = self._take(length)
        if len(body) < length:
            raise FramingError("end of input after %d of %d body bytes" % (len(body), length))
        return body

    def _header_line(self, started: bool) -> Optional[bytes]:
        """The next header line with its line end; None at end of input before any byte of it."""
        checked = 0
        while True:
            end = self._buffer.find(b"\n", 0, MAX_HEADER_LINE)
            partial = self._buffer[:MAX_HEADER_LINE] if end < 0 else self._buffer[:end]
            if len(partial) > checked:
                _check_header(partial)
                checked = len(partial)
            if end >= 0:
                line, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
                if line not in (b"\r\n", b"\n") and b":" not in line:
                    raise FramingError("malformed header line %r" % line[:80])
                return line
            if len(self._buffer) >= MAX_HEADER_LINE:
                raise FramingError("a header line over %d bytes (not a framed message)" % MAX_HEADER_LINE)
            if not self._fill():
                if self._buffer:
                    raise FramingError("end of input inside a message header")
                return None

    def _take(self, size: int) -> bytes:
        parts, have = [self._buffer[:size]], min(size, len(self._buffer))
        self._buffer = self._buffer[size:]
        while have < size and not self._eof:
            chunk = self._read(min(size - have, 1 << 20))
            if not chunk:
                self._eof = True
                break
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._read(65536)
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True


def _check_header(partial: bytes) -> None:
    """Raise FramingError when ``partial`` (a header line so far, without LF) cannot become a header."""
    if partial in (b"", b"\r"):
        return
    name, colon, value = partial.partition(b":")
    if not _TOKEN.fullmatch(name) or (colon and (not name or not _VALUE.fullmatch(value))):
        raise FramingError("malformed header line %r" % partial[:80])
