"""Property tests for `fglocal serve`'s HTTP request reader (fglocal.http1) and the server around it.

Properties: any byte sequence gets a well-formed HTTP response or a clean close, never a hang or a
traceback; valid requests round-trip into the APIG event unchanged.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from typing import Iterator, List, Tuple
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serve import Serve
from test_serve_http import exchange, parse_responses

from fglocal import http1

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

# Pieces that make the reader take its different paths, mixed with arbitrary bytes.
PIECES = st.one_of(
    st.sampled_from(
        [
            b"GET / HTTP/1.1\r\n",
            b"POST /echo HTTP/1.1\r\n",
            b"OPTIONS /echo HTTP/1.0\r\n",
            b"GET /%zz?a=%ff HTTP/1.1\r\n",
            b"Host: localhost\r\n",
            b"Host: evil.example\r\n",
            b"Content-Length: 3\r\n",
            b"Content-Length: -1\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"Expect: 100-continue\r\n",
            b"Connection: close\r\n",
            b"Connection: keep-alive\r\n",
            b"X-A: \xe4\xb8\xad\r\n",
            b" folded\r\n",
            b"\r\n",
            b"\n",
            b"\r",
            b"3\r\nabc\r\n",
            b"0\r\n\r\n",
            b"ffffffffffffffffff\r\n",
            b":",
            b" ",
        ]
    ),
    st.binary(max_size=40),
)
WIRE = st.lists(PIECES, max_size=25).map(b"".join)


def feed(data: bytes) -> Tuple[List[object], socket.socket]:
    """Run the reader over ``data`` (then EOF) as serve does; the outcome of each request."""
    ours, theirs = socket.socketpair()
    writer = threading.Thread(target=lambda: (theirs.sendall(data), theirs.shutdown(socket.SHUT_WR)))
    writer.start()
    reader = http1.Reader(ours)
    outcomes: List[object] = []
    try:
        while reader.wait_for_request(time.monotonic() + 30):
            head = reader.read_head(time.monotonic() + 30)
            request = http1.parse_head(head)
            body = reader.read_body(request, 1000, 2000, time.monotonic() + 30, lambda: None)
            outcomes.append((request, body))
            if not request.keep_alive:
                break
    except http1.HttpError as exc:
        outcomes.append(exc)
    except http1.ClientGone:
        outcomes.append("gone")
    writer.join(30)
    theirs.close()
    return outcomes, ours


@SETTINGS
@given(WIRE)
def test_reader_answers_any_bytes_with_a_request_or_an_http_error(data: bytes):
    outcomes, sock = feed(data)
    sock.close()
    for outcome in outcomes:
        if isinstance(outcome, http1.HttpError):
            assert 400 <= outcome.status <= 505 and http1.status_phrase(outcome.status)
            assert outcome.reason and "\r" not in outcome.reason and "\n" not in outcome.reason
        elif outcome != "gone":
            request, body = outcome  # type: ignore[misc]
            assert request.method in http1.METHODS and request.path.startswith("/")
            assert len(body) <= 1000
            assert not any(c in v for _, v in request.headers for c in "\r\n\x00")


@SETTINGS
@given(st.binary(min_size=0, max_size=1200), st.lists(st.integers(1, 300), max_size=6))
def test_chunked_bodies_round_trip_through_the_reader(body: bytes, cuts: List[int]):
    chunks, rest = [], body
    for cut in cuts:
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    wire = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c) + b"0\r\n\r\n"
    data = (
        b"POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + wire
    )
    outcomes, sock = feed(data)
    sock.close()
    if len(body) <= 1000:
        assert outcomes[0][1] == body  # type: ignore[index]
    else:
        assert isinstance(outcomes[0], http1.HttpError) and outcomes[0].status == 413


# -- against the real server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Serve]:
    serve = Serve("--route", "/files/{path+}")
    yield serve
    assert serve.stop() == 0


@settings(SETTINGS, max_examples=40)
@given(WIRE)
def test_server_answers_any_bytes_well_formed_or_closes(server: Serve, data: bytes):
    raw = exchange(server.port, data)  # returns when the server closes: no hang
    for response in parse_responses(raw):
        assert 100 <= response.status <= 599
    assert "Traceback" not in server.output()


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12)
NAMES = st.from_regex(r"x-[a-z0-9]{1,10}", fullmatch=True)  # lower case: no two differ by case only


@settings(SETTINGS, max_examples=40)
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    st.lists(TEXT.filter(lambda t: t not in ("", ".", "..")), min_size=1, max_size=3),
    st.dictionaries(TEXT.filter(bool), TEXT, max_size=3),
    st.dictionaries(NAMES, TEXT.map(str.strip), max_size=4),
    st.binary(max_size=3000),
    st.booleans(),
)
def test_valid_requests_round_trip_into_the_event(
    server: Serve, method: str, segments: List[str], query: dict, headers: dict, body: bytes, chunked: bool
):
    path = "/files/" + "/".join(segments)
    target = quote(path, safe="/") + (
        "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items()) if query else ""
    )
    lines = [f"{method} {target} HTTP/1.1", f"Host: localhost:{server.port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        wire = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        wire = body
    raw = exchange(server.port, ("\r\n".join(lines) + "\r\n\r\n").encode() + wire, half_close=False)
    (response,) = parse_responses(raw)
    assert response.status == 200, response
    answer = json.loads(response.body)
    event = answer["event"]
    assert event["httpMethod"] == method and event["path"] == path
    assert event["pathParameters"] == {"path": path[len("/files/") :]}
    assert event["queryStringParameters"] == query
    for name, value in headers.items():
        assert event["headers"][name.lower()] == value
    assert base64.b64decode(event["body"]) == body


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"[a-z0-9.\[\]:]{0,20}(localhost|127\.0\.0\.1|::1)?(:\d{0,6})?", fullmatch=True),
    )
)
def test_host_check_takes_any_text(host: str):
    loopback = http1.is_loopback_host(host)  # never raises
    if loopback:  # only loopback names and addresses pass
        assert host.isascii() and ("localhost" in host.lower() or host.startswith(("127.", "[")))
        assert not any(c in host for c in "/@?# ")


@SETTINGS
@given(st.binary(max_size=60))
def test_targets_are_decoded_or_refused_with_a_400(raw: bytes):
    try:
        target, path, _ = http1.parse_target(b"/" + raw)
    except http1.HttpError as exc:
        assert exc.status == 400
    else:
        assert path.startswith("/") and target.encode() == b"/" + raw


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
HEADER_VALUES = st.one_of(
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=3), JSON_SCALARS, max_size=2),
)


@SETTINGS
@given(
    st.one_of(st.integers(-10, 1000), JSON_SCALARS),
    st.one_of(st.none(), st.dictionaries(st.text(max_size=12), HEADER_VALUES, max_size=4), JSON_SCALARS),
    st.one_of(st.text(max_size=30), JSON_SCALARS),
    st.one_of(st.booleans(), JSON_SCALARS),
)
def test_any_function_result_gives_a_response_that_is_safe_on_the_wire(status, headers, body, base64_flag):
    from fglocal import apig

    result = {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": base64_flag}
    response = apig.response_from_result(json.dumps(result), None, "r1")
    assert response.status == 502 or 200 <= response.status <= 599
    if response.status != 502 or not response.reason:
        assert status == response.status
    head = http1.response_head(response.status, response.headers)  # ASCII, or this raises
    lines = head.split(b"\r\n")[1:-2]
    for line in lines:
        name, _, value = line.partition(b": ")
        assert re.fullmatch(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name)
        assert re.fullmatch(rb"[\x20-\x7e\t]*", value)
    if response.status in (204, 304):
        assert response.body == b""
