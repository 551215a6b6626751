"""HTTP/1.x on the wire for ``fglocal serve``: reading and checking requests, framing responses.

No threads or processes here: a :class:`Reader` reads one request at a time from a connected socket
(with deadlines, so a client that sends slowly or stops midway cannot hold a connection for ever),
and every defect of the request is a :class:`HttpError` carrying the status HTTP prescribes and a
reason that names what is wrong without repeating a header's value (it may be a credential).

What is accepted (RFC 9110 / 9112, strict where leniency lets requests be smuggled or misread):
request line ``METHOD SP target SP HTTP/1.0|1.1`` (empty lines before it are skipped); header
lines ``name: value`` with token names, no whitespace before the colon, no line folding, values
without control characters other than tab and decoded as UTF-8 (as APIG does); lines end in
CRLF or LF, a lone CR is refused. The body is framed by one ``Content-Length`` (digits only) or
by ``Transfer-Encoding: chunked``; both, or any other transfer coding, are refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import unicodedata
from http import HTTPStatus
from typing import Callable, List, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl, unquote_to_bytes

# The local gateway's limits on a request's head (our own choices, in the range of common gateways).
MAX_REQUEST_LINE = 8 * 1024  # bytes; a longer request line is 414
MAX_HEAD = 64 * 1024  # bytes of request line + header lines; more is 431
MAX_HEADERS = 100  # header lines; more is 431
MAX_CHUNK_LINE = 1024  # bytes of a chunk-size line (size and extensions)
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")  # the methods APIG routes

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VALUE_FORBIDDEN = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_TARGET_FORBIDDEN = re.compile(rb"[\x00-\x20\x7f#]")
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}\Z")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)\Z")


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class HttpError(Exception):
    """A request the server refuses: the status to answer and why (never a header's value)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ClientGone(Exception):
    """The client closed the connection or stopped sending: there is no one to answer."""


class Request(NamedTuple):
    """A request's head as checked and decoded: what the gateway turns into an event."""

    method: str
    target: str  # the request target as sent, decoded as UTF-8 (for the log line)
    path: str  # percent-decoded as UTF-8
    query: str  # raw query string (percent-decoded per parameter by the event builder)
    version: Tuple[int, int]
    headers: List[Tuple[str, str]]  # names as sent, values decoded as UTF-8
    content_length: Optional[int]  # None: no Content-Length (chunked, or no body)
    chunked: bool
    keep_alive: bool
    expect_continue: bool

    def header(self, name: str) -> Optional[str]:
        """The value of header ``name`` (repeated ones joined with ','), or None."""
        values = [v for n, v in self.headers if n.lower() == name]
        return ",".join(values) if values else None


def shown(text: str, limit: int = 60) -> str:
    """``text`` safe to print on one line: control and other unprintable characters escaped, cut at ``limit``."""
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def redacted(request_line: str) -> str:
    """A request line or target with the password of an absolute-form ``http://user:password@host`` hidden."""
    return re.sub(r"(?i)(https?://)[^/?@\s]*@", r"\1***@", request_line, count=1)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, f"{what} is not UTF-8 text") from None


def parse_target(raw: bytes) -> Tuple[str, str, str]:
    """Check a request target; return it as text, its percent-decoded path and its raw query."""
    if _TARGET_FORBIDDEN.search(raw):
        raise HttpError(400, "the request target has a space, control character or '#'")
    target = _decode(raw, "the request target")
    if raw[:7].lower() == b"http://" or raw[:8].lower() == b"https://":
        # Absolute form (RFC 9112 3.2.2): its authority is checked like a Host header by the caller.
        rest = raw.split(b"//", 1)[1]
        authority = re.split(rb"[/?]", rest, maxsplit=1)[0]
        if b"@" in authority:
            raise HttpError(
                400, "the request target has a user name or password (user:password@), which HTTP forbids"
            )
        raw = rest[len(authority) :]
        raw = raw if raw.startswith(b"/") else b"/" + raw
    if not raw.startswith(b"/"):
        raise HttpError(400, "the request target must be a path starting with '/'")
    raw_path, _, raw_query = raw.partition(b"?")
    if _BAD_PERCENT.search(raw_path) or _BAD_PERCENT.search(raw_query):
        raise HttpError(
            400, "the request target has an invalid percent-encoding ('%' not followed by two hex digits)"
        )
    path = _decode(unquote_to_bytes(raw_path), "the percent-decoded path")
    if any(unicodedata.category(c) == "Cc" for c in path):
        raise HttpError(400, "the percent-decoded path has a control character")
    query = raw_query.decode("utf-8")  # ASCII or UTF-8: the whole target decoded above
    try:
        parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, "the query string is not UTF-8 text after percent-decoding") from None
    return target, path, query


def absolute_authority(target: str) -> Optional[str]:
    """The authority of an absolute-form target (``http://host:port/...``), else None."""
    if not target[:8].lower().startswith(("http://", "https://")):
        return None
    return re.split(r"[/?]", target.split("//", 1)[1], maxsplit=1)[0]


_LOCALHOST = re.compile(r"([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*localhost\Z")


def is_loopback_host(value: str) -> bool:
    """True for ``localhost``, ``*.localhost``, 127.0.0.0/8 and ``[::1]``, with or without a port."""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return False
        sep, port = rest[:1], rest[1:]
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            return False
        mapped = address.ipv4_mapped
        loopback = address.is_loopback or bool(mapped and mapped.is_loopback)
    else:
        host, sep, port = value.partition(":")
        name = host.lower()
        name = name[:-1] if name.endswith(".") else name  # a fully qualified name's trailing dot
        try:
            loopback = ipaddress.IPv4Address(name).is_loopback
        except ValueError:
            loopback = _LOCALHOST.match(name) is not None
    if sep and not (port.isdigit() and port.isascii() and len(port) <= 5 and int(port) <= 65535):
        return False
    return loopback


def parse_head(head: bytes) -> Request:
    """Check and decode a request head (request line and header lines, up to the empty line)."""
    lines = head.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if lines and lines[-1] in (b"", b"\r"):
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if not lines:
        raise HttpError(400, "the request has no request line")
    if any(b"\r" in line for line in lines):
        raise HttpError(400, "the request has a carriage return that does not end a line")
    request_line = lines[0]
    if len(request_line) > MAX_REQUEST_LINE:
        raise HttpError(414, f"the request line is over {MAX_REQUEST_LINE:,} bytes")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not all(parts):
        raise HttpError(400, "the request line is not 'METHOD /path HTTP/1.1'")
    raw_method, raw_target, raw_version = parts
    version_match = _VERSION.match(raw_version)
    if not version_match:
        raise HttpError(400, "the request line does not end in an HTTP version such as HTTP/1.1")
    version = (int(version_match.group(1)), int(version_match.group(2)))
    if version[0] != 1:
        raise HttpError(505, "only HTTP/1.0 and HTTP/1.1 are served")
    if not _TOKEN.match(raw_method):
        raise HttpError(400, "the request method is not a token")
    method = raw_method.decode("ascii")
    if method not in METHODS:
        raise HttpError(501, f"method {shown(method, 20)} is not one APIG routes ({', '.join(METHODS)})")
    target, path, query = parse_target(raw_target)
    if len(lines) - 1 > MAX_HEADERS:
        raise HttpError(431, f"the request has over {MAX_HEADERS} header lines")
    headers: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            raise HttpError(400, "the request has a folded header line (obsolete line folding)")
        raw_name, colon, raw_value = line.partition(b":")
        if not colon:
            raise HttpError(400, "the request has a header line without a colon")
        if not _TOKEN.match(raw_name):
            raise HttpError(400, f"header name {shown(raw_name.decode('latin-1'), 40)!r} is not a token")
        name = raw_name.decode("ascii")
        raw_value = raw_value.strip(b" \t")
        if _VALUE_FORBIDDEN.search(raw_value):
            raise HttpError(400, f"header {name} has a control character in its value")
        headers.append((name, _decode(raw_value, f"the value of header {name}")))
    return _framed(method, target, path, query, version, headers)


def _framed(
    method: str, target: str, path: str, query: str, version: Tuple[int, int], headers: List[Tuple[str, str]]
) -> Request:
    """Work out body framing, keep-alive and Expect; check Host's presence."""

    def values(name: str) -> List[str]:
        return [v for n, v in headers if n.lower() == name]

    hosts = values("host")
    if len(hosts) > 1:
        raise HttpError(400, "the request has more than one Host header")
    if version >= (1, 1) and not hosts and absolute_authority(target) is None:
        raise HttpError(400, "an HTTP/1.1 request must have a Host header")
    lengths = values("content-length")
    encodings = values("transfer-encoding")
    codings = [
        c.strip().lower() for v in encodings for c in v.split(",") if c.strip()
    ]  # empty list items skipped
    if encodings and lengths:
        raise HttpError(400, "the request has both Transfer-Encoding and Content-Length")
    chunked = False
    content_length: Optional[int] = None
    if encodings:
        if version < (1, 1):
            raise HttpError(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request")
        if codings != ["chunked"]:
            raise HttpError(501, "the only transfer coding served is 'chunked' (alone)")
        chunked = True
    elif lengths:
        if len(lengths) > 1:
            raise HttpError(400, "the request has more than one Content-Length")
        if not lengths[0].isdigit() or not lengths[0].isascii() or len(lengths[0]) > 18:
            raise HttpError(400, "Content-Length is not a non-negative integer")
        content_length = int(lengths[0])
    tokens = {t.strip().lower() for v in values("connection") for t in v.split(",")}
    keep_alive = "close" not in tokens and (version >= (1, 1) or "keep-alive" in tokens)
    expects = [v.strip().lower() for v in values("expect")]
    if expects and (expects != ["100-continue"]):
        raise HttpError(417, "the only expectation served is 'Expect: 100-continue'")
    expect_continue = bool(expects) and version >= (1, 1)
    return Request(
        method, target, path, query, version, headers, content_length, chunked, keep_alive, expect_continue
    )


class Reader:
    """Buffered reads from a connected socket, each bounded by a deadline (time.monotonic())."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(remaining)
        data = self.sock.recv(256 * 1024)
        if not data:
            raise ClientGone("the client closed the connection")
        self.buffer += data

    def wait_for_request(self, deadline: float) -> bool:
        """Wait for the first byte of the next request (skipping empty lines); False when the client left."""
        while True:
            while self.buffer[:2] == b"\r\n" or self.buffer[:1] == b"\n":
                del self.buffer[: 2 if self.buffer[:1] == b"\r" else 1]
            if self.buffer and self.buffer != b"\r":
                return True
            try:
                self._fill(deadline)
            except ClientGone:
                return False

    def read_head(self, deadline: float) -> bytes:
        """Read up to and including the empty line that ends a request's head."""
        start = 0
        while True:
            end = self._head_end(start)
            if end > MAX_HEAD:
                raise HttpError(431, f"the request head is over {MAX_HEAD // 1024} KB")
            if end >= 0:
                head = bytes(self.buffer[:end])
                del self.buffer[:end]
                return head
            first_line = self.buffer.find(b"\n")
            if (first_line < 0 and len(self.buffer) > MAX_REQUEST_LINE) or first_line > MAX_REQUEST_LINE + 1:
                raise HttpError(414, f"the request line is over {MAX_REQUEST_LINE:,} bytes")
            if len(self.buffer) > MAX_HEAD:
                raise HttpError(431, f"the request head is over {MAX_HEAD // 1024} KB")
            start = max(0, len(self.buffer) - 3)
            self._fill(deadline)

    def _head_end(self, start: int) -> int:
        """The index just past the head's empty line, or -1 when it has not arrived."""
        lf = self.buffer.find(b"\n\n", start)
        crlf = self.buffer.find(b"\n\r\n", start)
        ends = [i + 2 for i in (lf,) if i >= 0] + [i + 3 for i in (crlf,) if i >= 0]
        return min(ends) if ends else -1

    def read_exact(self, size: int, deadline: float) -> bytes:
        """Read exactly ``size`` bytes."""
        while len(self.buffer) < size:
            self._fill(deadline)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def discard(self, size: int, deadline: float) -> None:
        """Read and drop ``size`` bytes."""
        while size > 0:
            if not self.buffer:
                self._fill(deadline)
            taken = min(size, len(self.buffer))
            del self.buffer[:taken]
            size -= taken

    def read_line(self, limit: int, deadline: float) -> bytes:
        """Read one line (without its CRLF or LF); longer than ``limit`` is a 400."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self.buffer) > limit:
                raise HttpError(400, "a chunked body has a line that is too long")
            self._fill(deadline)

    def read_body(
        self,
        request: Request,
        limit: int,
        drain_limit: int,
        deadline: float,
        send_continue: Callable[[], None],
    ) -> bytes:
        """The request's body; HttpError 413 when it is over ``limit`` bytes (so that nothing runs).

        An oversize body is read and dropped up to ``drain_limit`` before the answer, so that the
        client sees the 413 rather than a reset connection; one that waits for ``100 Continue``
        gets the 413 without sending it. ``send_continue`` sends the interim answer.
        """
        length = request.content_length
        if length is not None and length > limit:
            if not request.expect_continue and length <= drain_limit:
                self.discard(length, deadline)
            raise HttpError(413, _too_large(f"{length:,}", limit))
        if request.expect_continue and (request.chunked or length):
            send_continue()
        if request.chunked:
            body = self.read_chunked(limit, drain_limit, deadline)
            if body is None:
                raise HttpError(413, _too_large(f"over {limit:,}", limit))
            return body
        return self.read_exact(length, deadline) if length else b""

    def read_chunked(self, limit: int, drain_limit: int, deadline: float) -> Optional[bytes]:
        """Read a chunked body; None when it is over ``limit`` (read on and dropped up to ``drain_limit``)."""
        chunks: List[bytes] = []
        total = 0
        while True:
            line = self.read_line(MAX_CHUNK_LINE, deadline)
            size_text = line.split(b";", 1)[0].strip(b" \t")
            if not _HEX.match(size_text) or b"\r" in line:
                raise HttpError(400, "a chunked body has an invalid chunk size line")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > drain_limit:
                raise HttpError(413, _too_large(f"over {drain_limit:,}", limit))
            if total > limit:
                self.discard(size, deadline)
            else:
                chunks.append(self.read_exact(size, deadline))
            if self.read_line(2, deadline) != b"":
                raise HttpError(400, "a chunk's data is not followed by a line end")
        trailers = 0
        while self.read_line(MAX_REQUEST_LINE, deadline) != b"":
            trailers += 1  # trailer fields are read and dropped (APIG passes none to the function)
            if trailers > MAX_HEADERS:
                raise HttpError(431, f"the chunked body has over {MAX_HEADERS} trailer lines")
        return b"".join(chunks) if total <= limit else None


def _too_large(size: str, limit: int) -> str:
    return f"the request body is {size} bytes, over the 6 MB ({limit:,} bytes) limit of a synchronous call"


def status_phrase(status: int) -> str:
    """The reason phrase of ``status`` ('' for a code without one)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def response_head(status: int, headers: List[Tuple[str, str]]) -> bytes:
    """The status line and header lines of a response (values already checked to be ASCII)."""
    lines = [f"HTTP/1.1 {status} {status_phrase(status)}"]  # the space before an empty phrase is required
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
