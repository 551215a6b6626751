"""The gateway's translations (fglocal.apig): request to event, result to response, path templates."""

from __future__ import annotations

import base64
import json

import pytest

from fglocal import apig
from fglocal.http1 import HttpError


def event(target: str = "/", headers=(), body: bytes = b"", routes=()):
    return apig.build_event(
        "post", target, headers, body, request_id="r1", api_id="a1", routes=routes, port=8000
    )


def test_event_has_the_documented_fields_only():
    e = event("/a%20b?x=1&y=&x=2", [("Content-Type", "text/plain")], b"\x00\x01")
    assert set(e) == {
        "body",
        "requestContext",
        "queryStringParameters",
        "httpMethod",
        "pathParameters",
        "headers",
        "path",
        "isBase64Encoded",
    }
    assert e["httpMethod"] == "POST"
    assert e["path"] == "/a b"
    assert e["queryStringParameters"] == {"x": "1", "y": ""}
    assert base64.b64decode(e["body"]) == b"\x00\x01" and e["isBase64Encoded"] is True
    assert e["requestContext"] == {"apiId": "a1", "requestId": "r1", "stage": "RELEASE"}
    assert e["headers"]["content-type"] == "text/plain"
    assert e["headers"]["x-forwarded-port"] == "8000"


def test_repeated_headers_are_joined_and_forwarded_for_appended():
    e = event(headers=[("Accept", "a"), ("accept", "b"), ("X-Forwarded-For", "10.0.0.1"), ("Host", "h:1")])
    assert e["headers"]["accept"] == "a,b"
    assert e["headers"]["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert e["headers"]["x-forwarded-host"] == "h:1"


def test_routes():
    routes = [apig.compile_route("/users/{id}/orders/{order-id}"), apig.compile_route("/static/{path+}")]
    assert event("/users/7/orders/9", routes=routes)["pathParameters"] == {"id": "7", "order-id": "9"}
    assert event("/static/css/a.css", routes=routes)["pathParameters"] == {"path": "css/a.css"}
    assert event("/users/7", routes=routes)["pathParameters"] == {}
    for bad in ("users/{id}", "/a/{p+}/b", "/a/{b"):
        with pytest.raises(apig.RouteError):
            apig.compile_route(bad)


def response(value, error=None):
    return apig.response_from_result(json.dumps(value) if not isinstance(value, str) else value, error, "r1")


def test_apig_response_becomes_the_http_response():
    r = response(
        {
            "statusCode": 201,
            "headers": {"X-A": "1", "Set-Cookie": ["a=1", "b=2"]},
            "body": "hé",
            "isBase64Encoded": False,
        }
    )
    assert r.status == 201 and r.body == "hé".encode() and not r.reason and not r.warnings
    assert ("Set-Cookie", "a=1") in r.headers and ("Set-Cookie", "b=2") in r.headers
    assert ("Content-Type", "application/json") in r.headers  # the default when the function sets none


def test_base64_response_body_is_decoded():
    data = bytes(range(256))
    r = response(
        {"statusCode": 200, "headers": {}, "body": base64.b64encode(data).decode(), "isBase64Encoded": True}
    )
    assert r.body == data
    r = response({"statusCode": 200, "headers": {}, "body": "not base64!", "isBase64Encoded": True})
    assert r.status == 502 and "not base64" in r.reason


def test_missing_optional_fields_are_served_with_a_warning():
    r = response({"statusCode": 200, "body": "ok"})
    assert r.status == 200 and r.body == b"ok"
    assert "headers or isBase64Encoded" in r.warnings[0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("plain text", "returned a string"),
        ([1, 2], "returned an array"),
        ({}, "empty object"),
        ({"body": "x"}, "no statusCode (fields: body)"),
        ({"statusCode": "200", "body": ""}, "statusCode must be an integer"),
        ({"statusCode": True, "body": ""}, "statusCode must be an integer"),
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string"),
        ({"statusCode": 200, "headers": [], "body": ""}, "headers must be an object"),
        ({"statusCode": 200, "headers": {"A": {"b": 1}}, "body": ""}, "header 'A' must be a string"),
        ({"statusCode": 200, "headers": {"A": "x\r\nInjected: 1"}, "body": ""}, "header injection"),
        ({"statusCode": 200, "headers": {"A": "x\x00y"}, "body": ""}, "control character"),
        ({"statusCode": 200, "headers": {"A": ["ok", "x\ny"]}, "body": ""}, "control character"),
        (
            {"statusCode": 200, "headers": {"X-Bad\r\nInjected": "1"}, "body": ""},
            "is not an HTTP header name",
        ),
        ({"statusCode": 200, "headers": {"X Bad": "1"}, "body": ""}, "is not an HTTP header name"),
        ({"statusCode": 200, "headers": {"": "1"}, "body": ""}, "is not an HTTP header name"),
        ({"statusCode": 200, "headers": {"X-Name": "报告"}, "body": ""}, "non-ASCII text"),
        ({"statusCode": 200, "headers": {"A": None}, "body": ""}, "got null"),
        ({"statusCode": 200, "headers": {"A": [["x"]]}, "body": ""}, "a string, a number or a list"),
        ({"statusCode": 100, "body": ""}, "from 200 to 599"),
        ({"statusCode": 199, "body": ""}, "1xx are interim"),
        ({"statusCode": 600, "body": ""}, "from 200 to 599"),
        ({"statusCode": 200.0, "body": ""}, "statusCode must be an integer"),
        ({"statusCode": None, "body": ""}, "statusCode must be an integer"),
        (
            {"statusCode": 200, "body": "", "isBase64Encoded": "false"},
            "isBase64Encoded must be true or false",
        ),
    ],
)
def test_invalid_results_are_502_with_the_reason(value, reason):
    r = response(value)
    assert r.status == 502
    assert reason in r.reason
    assert reason in json.loads(r.body)["error_msg"]


def test_empty_result_is_502():
    r = apig.response_from_result("", None, "r1")
    assert r.status == 502 and "returned nothing" in r.reason


def test_function_errors():
    failed = {
        "errorMessage": "function invocation exception, error: x",
        "errorType": "KeyError",
        "stackTrace": [],
    }
    r = apig.response_from_result("", failed, "r1")
    assert r.status == 502 and json.loads(r.body)["function_error"] == failed
    timed_out = dict(failed, errorType="FunctionTimeout", errorMessage="invocation timeout")
    assert apig.response_from_result("", timed_out, "r1").status == 504


def test_reasons_never_repeat_a_value():
    secret = "Bearer s3cr3t-token"
    for value in (secret + "\r\nX: 1", secret + " 报", {"nested": secret}):
        r = response({"statusCode": 200, "headers": {"Authorization": value}, "body": ""})
        assert r.status == 502 and "s3cr3t" not in r.reason and b"s3cr3t" not in r.body
    for result in (
        {"statusCode": secret, "body": ""},
        {"statusCode": 200, "headers": [secret], "body": ""},
        {"statusCode": 200, "body": "", "isBase64Encoded": secret},
    ):
        r = response(result)
        assert r.status == 502 and "s3cr3t" not in r.reason and b"s3cr3t" not in r.body


def test_non_ascii_filename_is_sent_as_rfc_8187_with_an_ascii_fallback():
    def disposition(value):
        r = response({"statusCode": 200, "headers": {"Content-Disposition": value}, "body": ""})
        assert r.status == 200, r.reason
        return dict(r.headers)["Content-Disposition"]

    assert disposition('attachment; filename="报告.pdf"') == (
        "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"
    )
    assert disposition("inline; filename=José.txt; size=3") == (
        "inline; filename=\"Jose.txt\"; filename*=UTF-8''Jos%C3%A9.txt; size=3"
    )
    assert disposition('attachment; filename="plain.txt"') == 'attachment; filename="plain.txt"'
    # Non-ASCII outside the filename, or beside a filename* of the function's own: refused.
    for value in ("attachment; name=报; filename=a", "attachment; filename=é; filename*=UTF-8''x"):
        r = response({"statusCode": 200, "headers": {"Content-Disposition": value}, "body": ""})
        assert r.status == 502 and "RFC 8187" in r.reason


def test_non_ascii_location_is_percent_encoded():
    r = response({"statusCode": 302, "headers": {"Location": "/报告?q=é&x=1"}, "body": ""})
    assert dict(r.headers)["Location"] == "/%E6%8A%A5%E5%91%8A?q=%C3%A9&x=1"


def test_bodiless_statuses_and_gateway_headers():
    r = response({"statusCode": 204, "headers": {"Content-Length": "5"}, "body": "hello"})
    assert r.status == 204 and r.body == b""
    assert any("no body" in w for w in r.warnings)
    assert all(name.lower() != "content-length" for name, _ in r.headers)
    r = response(
        {"statusCode": 200, "headers": {"Content-Length": "99", "Transfer-Encoding": "chunked"}, "body": "ok"}
    )
    assert r.body == b"ok"
    assert {name.lower() for name, _ in r.headers} == {"content-type"}
    assert any("replaced by the body's length, 2" in w for w in r.warnings)
    assert any("Transfer-Encoding is the gateway's" in w for w in r.warnings)


def test_base64_body_with_line_breaks_is_decoded_as_the_gateway_does():
    data = bytes(range(256)) * 3
    r = response(
        {"statusCode": 200, "headers": {}, "body": base64.encodebytes(data).decode(), "isBase64Encoded": True}
    )
    assert r.status == 200 and r.body == data


def test_invalid_request_targets_are_refused():
    for target in ("/a%zz", "/a%4", "/%ff", "/a?x=%ff", "/a%00b"):
        with pytest.raises(HttpError) as raised:
            event(target)
        assert raised.value.status == 400
    e = event("/%E6%8A%A5?q=%E4%B8%AD+x")
    assert e["path"] == "/报" and e["queryStringParameters"] == {"q": "中 x"}


def test_repeated_cookie_headers_join_as_one_cookie_string():
    assert event(headers=[("Cookie", "a=1"), ("cookie", "b=2")])["headers"]["cookie"] == "a=1; b=2"
