"""`fglocal serve` speaks correct, safe HTTP: raw bytes over loopback against the real server process.

Raw sockets send what http.client refuses to send (bad framing, bad headers, odd request lines),
and every answer is parsed strictly (status line, header lines, Content-Length framing).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Tuple

import pytest
from test_serve import Serve

from fglocal.result import MAX_BODY_BYTES

_STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3})(?: [\x20-\x7e]*)?\Z")
_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?([\x20-\x7e\t]*)\Z")


class Response(NamedTuple):
    status: int
    headers: Dict[str, str]  # lower-case names; repeated ones joined with ", "
    body: bytes


def parse_responses(data: bytes, head_only: bool = False) -> List[Response]:
    """Split what the server sent into responses; fails on anything that is not well-formed HTTP/1.1."""
    responses = []
    while data:
        head, separator, data = data.partition(b"\r\n\r\n")
        assert separator, f"incomplete response head: {head[:200]!r}"
        lines = head.split(b"\r\n")
        match = _STATUS_LINE.match(lines[0])
        assert match, f"bad status line {lines[0]!r}"
        headers: Dict[str, str] = {}
        for line in lines[1:]:
            header = _HEADER_LINE.match(line)
            assert header, f"bad header line {line!r}"
            name, value = header.group(1).decode().lower(), header.group(2).decode()
            headers[name] = headers[name] + ", " + value if name in headers else value
        status = int(match.group(1))
        if status == 100:
            responses.append(Response(status, headers, b""))
            continue
        length = 0 if head_only or status in (204, 304) else int(headers["content-length"])
        assert len(data) >= length, "response body cut short"
        responses.append(Response(status, headers, data[:length]))
        data = data[length:]
    return responses


def exchange(port: int, data: bytes, half_close: bool = True) -> bytes:
    """Send raw bytes on a new connection and return everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = []
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return b"".join(received)
            received.append(chunk)


def one(port: int, data: bytes) -> Response:
    responses = parse_responses(exchange(port, data))
    assert len(responses) == 1, responses
    return responses[0]


def request(
    method: str, target: str, headers: Tuple[str, ...] = (), body: bytes = b"", port: int = 0
) -> bytes:
    """A request in bytes (Host added unless a header says Host; Content-Length when there is a body)."""
    lines = [f"{method} {target} HTTP/1.1"]
    if not any(h.lower().startswith("host:") for h in headers):
        lines.append(f"Host: 127.0.0.1:{port}")
    lines += list(headers)
    if body and not any(h.lower().startswith(("content-length:", "transfer-encoding:")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-logs")


@pytest.fixture(scope="module")
def server(logs: Path) -> Iterator[Serve]:
    serve = Serve("--log-dir", str(logs))
    yield serve
    assert serve.stop() == 0


def respond(server: Serve, apig_response: object) -> Tuple[Response, bytes]:
    """Have the function return ``apig_response``; the parsed answer and the raw bytes."""
    raw = exchange(
        server.port, request("POST", "/respond", body=json.dumps(apig_response).encode(), port=server.port)
    )
    responses = parse_responses(raw)
    assert len(responses) == 1
    return responses[0], raw


def invocation_log(logs: Path, response: Response) -> str:
    (path,) = logs.glob(f"serve-*-1/{response.headers['x-fglocal-request-id']}.log")
    return path.read_text()


# -- response headers from the function -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-A": "v\r\nSet-Cookie: evil=1"}, "header injection"),
        ({"X-A": "v\nSet-Cookie: evil=1"}, "header injection"),
        ({"X-A": "v\x00evil"}, "control character"),
        ({"X-A": ["fine", "v\revil"]}, "control character"),
        ({"X-A\r\nSet-Cookie: evil": "1"}, "is not an HTTP header name"),
        ({"X(evil)": "1"}, "is not an HTTP header name"),
        ({"X-A": "évil"}, "non-ASCII text"),
        ({"X-A": None}, "got null"),
    ],
)
def test_bad_response_headers_are_a_502_with_the_reason_in_both_logs(
    server: Serve, logs: Path, headers: dict, reason: str
):
    response, raw = respond(
        server, {"statusCode": 200, "headers": headers, "body": "", "isBase64Encoded": False}
    )
    assert response.status == 502
    assert b"evil" not in raw.split(b"\r\n\r\n", 1)[0]  # nothing of it reached the response head
    assert reason in json.loads(response.body)["error_msg"]
    server.wait_for(lambda line: line.startswith("  gateway:") and reason in line)
    assert reason in invocation_log(logs, response)


def test_a_refused_header_value_is_never_echoed(server: Serve, logs: Path):
    secret = "Bearer sk-0123456789abcdef"
    response, raw = respond(
        server, {"statusCode": 200, "headers": {"Authorization": secret + "\r\n"}, "body": ""}
    )
    assert response.status == 502
    assert b"sk-0123" not in raw
    assert "sk-0123" not in invocation_log(logs, response)
    server.wait_for(lambda line: "Authorization" in line and "gateway" in line)
    assert "sk-0123" not in server.output()


def test_non_ascii_filename_goes_out_as_rfc_8187(server: Serve):
    response, raw = respond(
        server,
        {
            "statusCode": 200,
            "headers": {
                "Content-Disposition": 'attachment; filename="报告.pdf"',
                "Content-Type": "application/pdf",
            },
            "body": "%PDF",
            "isBase64Encoded": False,
        },
    )
    assert response.status == 200 and response.body == b"%PDF"
    assert (
        b"Content-Disposition: attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf\r\n"
        in raw
    )
    assert b"?" not in raw.split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("status", [100, 101, 103, 199, 600, 999, 0, -1, "200", 200.5, None])
def test_bad_status_codes_are_a_502_not_an_interim_answer(server: Serve, status: object):
    response, _ = respond(
        server, {"statusCode": status, "headers": {}, "body": "x", "isBase64Encoded": False}
    )
    assert response.status == 502
    assert (
        "statusCode must be an integer HTTP status from 200 to 599" in json.loads(response.body)["error_msg"]
    )


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_carry_no_body(server: Serve, status: int):
    # A second request follows on the same connection: stray body bytes would corrupt its answer.
    apig_response = json.dumps(
        {"statusCode": status, "headers": {}, "body": "dropped", "isBase64Encoded": False}
    )
    data = request("POST", "/respond", body=apig_response.encode(), port=server.port)
    first, second = parse_responses(exchange(server.port, data + request("GET", "/echo", port=server.port)))
    assert first.status == status and first.body == b""
    assert "content-length" not in first.headers
    assert second.status == 200
    server.wait_for(lambda line: f"a {status} response has no body" in line)


def test_head_answers_carry_no_body_but_the_get_length(server: Serve):
    data = request("HEAD", "/echo", body=b"", port=server.port)
    raw = exchange(server.port, data + request("GET", "/echo?status=201", port=server.port))
    head, rest = raw.split(b"\r\n\r\n", 1)
    assert b"HTTP/1.1 200 OK" in head and b"Content-Length: 0" in head
    assert parse_responses(rest)[0].status == 201


def test_base64_body_with_line_breaks_is_served(server: Serve):
    import base64

    blob = bytes(range(256)) * 4
    response, _ = respond(
        server,
        {
            "statusCode": 200,
            "headers": {},
            "body": base64.encodebytes(blob).decode(),
            "isBase64Encoded": True,
        },
    )
    assert response.status == 200 and response.body == blob


# -- what the request brings ----------------------------------------------------------------------


def event_of(server: Serve, data: bytes) -> dict:
    response = one(server.port, data)
    assert response.status == 200, response
    return json.loads(response.body)["event"]


def test_utf8_headers_path_and_query_reach_the_handler_as_text(server: Serve):
    data = request(
        "GET", "/info?q=%E4%B8%AD%E6%96%87&raw=中", ("X-Name: 张三", "X-Latin: café"), port=server.port
    )
    event = event_of(server, data)
    assert event["headers"]["x-name"] == "张三" and event["headers"]["x-latin"] == "café"
    assert event["queryStringParameters"] == {"q": "中文", "raw": "中"}
    assert (
        event_of(server, request("GET", "/files/%E6%8A%A5%E5%91%8A", port=server.port))["path"]
        == "/files/报告"
    )
    assert event_of(server, request("GET", "/files/报告", port=server.port))["path"] == "/files/报告"


def refused(server: Serve, data: bytes, status: int, reason: str, tmp_path: Path) -> None:
    response = one(server.port, data)
    assert response.status == status, response
    assert reason in json.loads(response.body)["error_msg"]
    assert list(tmp_path.iterdir()) == []  # the function did not run


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        (("Content-Length: abc",), 400, "Content-Length is not a non-negative integer"),
        (("Content-Length: -5",), 400, "Content-Length is not a non-negative integer"),
        (("Content-Length: +5",), 400, "Content-Length is not a non-negative integer"),
        (("Content-Length: 5, 5",), 400, "Content-Length is not a non-negative integer"),
        (("Content-Length: ５",), 400, "Content-Length is not a non-negative integer"),
        (("Content-Length: 5", "Content-Length: 5"), 400, "more than one Content-Length"),
        (("Content-Length: 5", "Content-Length: 6"), 400, "more than one Content-Length"),
        (
            ("Content-Length: 5", "Transfer-Encoding: chunked"),
            400,
            "both Transfer-Encoding and Content-Length",
        ),
        (("Transfer-Encoding: gzip",), 501, "only transfer coding served is 'chunked'"),
        (("Transfer-Encoding: gzip, chunked",), 501, "only transfer coding served is 'chunked'"),
        (("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), 501, "only transfer coding"),
        (("Expect: magic",), 417, "Expect: 100-continue"),
        (("X-Name: \xff",), 400, "not UTF-8"),
        (("X-Name: a\x01b",), 400, "control character"),
        (("X-Name : a",), 400, "is not a token"),
        (("X-Name: a", " folded"), 400, "folded header line"),
        (("No colon here",), 400, "without a colon"),
        (("Host: 127.0.0.1", "Host: localhost"), 400, "more than one Host"),
    ],
)
def test_bad_request_framing_and_headers_are_refused_before_the_function_runs(
    server: Serve, tmp_path: Path, headers: Tuple[str, ...], status: int, reason: str
):
    lines = [f"POST /touch?dir={tmp_path} HTTP/1.1"]
    if not any(h.startswith("Host:") for h in headers):
        lines.append("Host: localhost")
    data = ("\r\n".join(lines + list(headers)) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    data = data.replace("\xff".encode(), b"\xff")  # a byte that is not UTF-8
    refused(server, data + b"hello", status, reason, tmp_path)


@pytest.mark.parametrize(
    ("request_line", "status", "reason"),
    [
        (b"GET /touch HTTP/2.0", 505, "only HTTP/1.0 and HTTP/1.1"),
        (b"GET /touch HTTP/1.1 extra", 400, "is not 'METHOD /path HTTP/1.1'"),
        (b"GET  /touch HTTP/1.1", 400, "is not 'METHOD /path HTTP/1.1'"),
        (b"GET /touch", 400, "is not 'METHOD /path HTTP/1.1'"),
        (b"GET /touch HTTP/1.x", 400, "HTTP version"),
        (b"BREW /touch HTTP/1.1", 501, "not one APIG routes"),
        (b"CONNECT 127.0.0.1:1 HTTP/1.1", 501, "not one APIG routes"),
        (b"G\x01T /touch HTTP/1.1", 400, "not a token"),
        (b"GET touch HTTP/1.1", 400, "must be a path starting with '/'"),
        (b"GET * HTTP/1.1", 400, "must be a path starting with '/'"),
        (b"GET /touch%zz HTTP/1.1", 400, "invalid percent-encoding"),
        (b"GET /touch%e4 HTTP/1.1", 400, "percent-decoded path is not UTF-8"),
        (b"GET /touch%00 HTTP/1.1", 400, "control character"),
        (b"GET /touch\xc2\x9b31m HTTP/1.1", 400, "control character"),
        (b"GET /touch?q=%ff HTTP/1.1", 400, "query string is not UTF-8"),
        (b"GET /touch#frag HTTP/1.1", 400, "'#'"),
        (b"GET /to\ruch HTTP/1.1", 400, "carriage return"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1", 414, "request line is over 8,192 bytes"),
    ],
)
def test_odd_request_lines_are_refused(
    server: Serve, tmp_path: Path, request_line: bytes, status: int, reason: str
):
    data = request_line
    refused(server, data + b"\r\nHost: localhost\r\n\r\n", status, reason, tmp_path)
    server.wait_for(lambda line: f"-> {status}" in line)
    assert "\x9b" not in server.output() and "\r" not in server.output()  # printed escaped


def test_header_count_and_size_limits(server: Serve, tmp_path: Path):
    many = tuple(f"X-H{n}: v" for n in range(101))
    refused(
        server,
        request("GET", f"/touch?dir={tmp_path}", many, port=server.port),
        431,
        "over 100 header",
        tmp_path,
    )
    huge = (f"X-Big: {'v' * 70000}",)
    refused(
        server,
        request("GET", f"/touch?dir={tmp_path}", huge, port=server.port),
        431,
        "head is over 64 KB",
        tmp_path,
    )


def test_after_a_refusal_the_connection_is_closed_and_the_server_goes_on(server: Serve):
    raw = exchange(server.port, b"GET /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n" * 2)
    assert [r.status for r in parse_responses(raw)] == [400]
    assert one(server.port, request("GET", "/echo", port=server.port)).status == 200


# -- bodies ---------------------------------------------------------------------------------------


def test_chunked_request_body_round_trip(server: Serve):
    blob = bytes(range(256)) * 10
    chunks = [blob[:1000], blob[1000:1001], blob[1001:]]
    body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\nX-Trailer: t\r\n\r\n"
    data = request("POST", "/echo", ("Transfer-Encoding: chunked",), body, port=server.port)
    first, second = parse_responses(
        exchange(server.port, data + request("GET", "/echo?status=202", port=server.port))
    )
    assert first.status == 200 and first.body == blob
    assert second.status == 202


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nab\r\n0\r\n\r\n",
        b"-1\r\nab\r\n0\r\n\r\n",
        b"0x2\r\nab\r\n0\r\n\r\n",
        b"2\r\nabc\r\n0\r\n\r\n",
        b"2\r\nab",
    ],
)
def test_bad_chunked_bodies_are_a_400(server: Serve, tmp_path: Path, body: bytes):
    data = request("POST", f"/touch?dir={tmp_path}", ("Transfer-Encoding: chunked",), body, port=server.port)
    raw = exchange(server.port, data)
    if body.endswith(b"ab"):  # the client stopped midway: nobody to answer
        assert raw == b""
    else:
        assert parse_responses(raw)[0].status == 400
    assert list(tmp_path.iterdir()) == []


def test_oversize_bodies_are_a_413_and_nothing_runs(server: Serve, tmp_path: Path):
    size = MAX_BODY_BYTES + 1
    target = f"/touch?dir={tmp_path}"
    response = one(server.port, request("POST", target, body=b"x" * size, port=server.port))
    assert response.status == 413
    assert (
        f"{size:,} bytes, over the 6 MB ({MAX_BODY_BYTES:,} bytes) limit"
        in json.loads(response.body)["error_msg"]
    )
    # A client that waits for 100 Continue gets the 413 without sending the body.
    data = request("POST", target, (f"Content-Length: {size}", "Expect: 100-continue"), port=server.port)
    assert one(server.port, data).status == 413
    chunk = b"x" * (1 << 20)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(7)) + b"0\r\n\r\n"
    assert (
        one(
            server.port, request("POST", target, ("Transfer-Encoding: chunked",), body, port=server.port)
        ).status
        == 413
    )
    assert list(tmp_path.iterdir()) == []


def test_expect_100_continue(server: Serve):
    data = request("POST", "/echo", ("Content-Length: 5", "Expect: 100-continue"), port=server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(data)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        sock.shutdown(socket.SHUT_WR)
        rest = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    assert parse_responses(rest)[0].body == b"hello"


# -- connections ----------------------------------------------------------------------------------


def test_http_1_0_closes_unless_keep_alive(server: Serve):
    plain = b"GET /echo HTTP/1.0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(plain)  # no half-close: the server must close by itself
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    (response,) = parse_responses(data)
    assert response.status == 200 and response.headers["connection"] == "close"
    kept = b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    first, second = parse_responses(exchange(server.port, kept + plain))
    assert first.headers["connection"] == "keep-alive" and second.status == 200


def test_http_1_1_connection_close(server: Serve):
    data = request("GET", "/echo", ("Connection: close",), port=server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(data + request("GET", "/echo", port=server.port))
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert [r.status for r in parse_responses(received)] == [200]  # the second request is not served


# -- Host ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:{port}",
        "LocalHost",
        "app.localhost:{port}",
        "127.0.0.1",
        "127.1.2.3:{port}",
        "[::1]:{port}",
    ],
)
def test_loopback_hosts_are_served(server: Serve, host: str):
    data = request("GET", "/echo", (f"Host: {host.format(port=server.port)}",))
    assert one(server.port, data).status == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "[::2]",
        "0x7f000001",
        "localhost:{port}:1",
        "",
    ],
)
def test_other_hosts_are_refused_against_dns_rebinding(server: Serve, tmp_path: Path, host: str):
    data = request("GET", f"/touch?dir={tmp_path}", (f"Host: {host.format(port=server.port)}",))
    refused(server, data, 403, "DNS rebinding", tmp_path)


def test_absolute_form_authority_is_checked_too(server: Serve, tmp_path: Path):
    data = f"GET http://evil.example/touch?dir={tmp_path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
    refused(server, data, 403, "DNS rebinding", tmp_path)
    data = f"GET http://localhost:{server.port}/echo HTTP/1.1\r\n\r\n".encode()
    assert one(server.port, data).status == 200


def test_credentials_in_the_target_or_host_are_never_echoed(server: Serve, tmp_path: Path):
    data = f"GET http://user:hunter2@localhost/touch?dir={tmp_path} HTTP/1.1\r\nHost: localhost\r\n\r\n"
    refused(server, data.encode(), 400, "user name or password", tmp_path)
    refused(
        server,
        request("GET", f"/touch?dir={tmp_path}", ("Host: user:hunter2@evil",)),
        403,
        "the Host",
        tmp_path,
    )
    server.wait_for(lambda line: "the Host is not a loopback" in line)
    assert "hunter2" not in server.output()


def test_missing_host_is_a_400_on_http_1_1_only(server: Serve, tmp_path: Path):
    refused(
        server,
        f"GET /touch?dir={tmp_path} HTTP/1.1\r\n\r\n".encode(),
        400,
        "must have a Host header",
        tmp_path,
    )
    assert one(server.port, b"GET /echo HTTP/1.0\r\n\r\n").status == 200


# -- slow and stuck clients -----------------------------------------------------------------------


def test_a_stalled_request_blocks_neither_others_nor_ctrl_c():
    serve = Serve()
    stalled: List[socket.socket] = []
    try:
        for partial in (
            b"GET /echo HTTP/1.1\r\nHost: localhost\r\n",
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nab",
            b"G",
        ):
            sock = socket.create_connection(("127.0.0.1", serve.port), timeout=60)
            sock.sendall(partial)
            stalled.append(sock)
        assert one(serve.port, request("GET", "/echo", port=serve.port)).status == 200
    finally:
        assert serve.stop(signal.SIGINT) == 0
        for sock in stalled:
            sock.close()
    assert "fglocal serve: stopped" in serve.output()


def test_too_many_connections_get_a_503_and_the_server_recovers():
    from fglocal.serve import MAX_CONNECTIONS

    def statuses() -> List[int]:
        try:
            return [
                r.status
                for r in parse_responses(exchange(serve.port, request("GET", "/echo", port=serve.port)))
            ]
        except ConnectionResetError:  # a connection the server saw close late (below): try again
            return []

    serve = Serve()
    idle: List[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS):
            idle.append(socket.create_connection(("127.0.0.1", serve.port), timeout=60))
        # The slots are taken in the order connections are accepted: the next one is refused at once.
        assert statuses() == [503]
        serve.wait_for(lambda line: "connections are open" in line)
        for sock in idle:
            sock.close()
        idle.clear()
        # Each slot comes free when its thread sees the close; then requests are served again.
        for _ in range(600):
            if statuses() == [200]:
                break
            time.sleep(0.05)
        assert statuses() == [200]
    finally:
        for sock in idle:
            sock.close()
        assert serve.stop() == 0


def test_a_request_head_that_never_completes_gets_a_408():
    serve = Serve("--request-timeout", "0.5")
    try:
        with socket.create_connection(("127.0.0.1", serve.port), timeout=60) as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: localhost\r\n")  # and nothing more
            received = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        (response,) = parse_responses(received)
        assert response.status == 408
        assert "did not arrive in full within 0.5 s" in json.loads(response.body)["error_msg"]
        assert one(serve.port, request("GET", "/echo", port=serve.port)).status == 200
    finally:
        assert serve.stop() == 0


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_bad_request_timeout_is_a_usage_error(value: str):
    import subprocess
    import sys

    from test_serve import WEB

    done = subprocess.run(
        [sys.executable, "-m", "fglocal", "serve", "--code-dir", str(WEB), "--request-timeout", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--request-timeout" in done.stderr


def test_status_line_and_gateway_headers_on_the_wire(server: Serve):
    _, raw = respond(
        server, {"statusCode": 599, "headers": {"Server": "mine"}, "body": "", "isBase64Encoded": False}
    )
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 599 \r\n")  # the space before an empty reason phrase is required
    assert head.count(b"\r\nServer:") == 1 and b"\r\nServer: mine" in head
    assert head.count(b"\r\nDate:") == 1


def test_transfer_encoding_list_with_empty_items_is_chunked(server: Serve):
    data = request(
        "POST", "/echo", ("Transfer-Encoding: , chunked ,",), b"3\r\nabc\r\n0\r\n\r\n", port=server.port
    )
    assert one(server.port, data).body == b"abc"
