"""The API gateway's two translations: an HTTP request into an APIG event, a handler's result into a response.

Pure functions (no sockets, no processes) so that ``fglocal serve`` and its tests share them. The
event has the fields FunctionGraph's APIG trigger documents (``body``, ``requestContext``,
``queryStringParameters``, ``httpMethod``, ``pathParameters``, ``headers``, ``path``,
``isBase64Encoded``); the body is always base64-encoded, as APIG does by default.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Pattern, Sequence, Tuple
from urllib.parse import parse_qsl, quote

from fglocal.http1 import parse_target, shown

DEFAULT_STAGE = "RELEASE"
# Status codes of the local gateway's own answers (not the function's).
BAD_RESPONSE_STATUS = 502  # the function failed or returned something that is not an APIG response
TIMEOUT_STATUS = 504  # the function ran out of time
TOO_LARGE_STATUS = 413  # the request body is over the 6 MB a synchronous call takes
_RESPONSE_FIELDS = "statusCode, headers, body and isBase64Encoded"
BODILESS_STATUSES = (204, 304)  # responses HTTP sends without a body (HEAD requests too)
# Framing and connection headers are the gateway's; a function's own are dropped (with a warning).
_GATEWAY_HEADERS = ("transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_FILENAME = re.compile(
    r'(?P<lead>(?:^|;)\s*)filename\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^;]*))', re.IGNORECASE
)
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_PARAM = re.compile(r"\{(" + _NAME + r")(\+?)\}")


class Route(NamedTuple):
    """A path template such as ``/users/{id}`` or ``/files/{path+}`` and its compiled pattern."""

    template: str
    pattern: Pattern[str]


class GatewayResponse(NamedTuple):
    """What the gateway sends back: status, header pairs, body bytes, and the reason when it is an error."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes
    reason: str  # "" for the function's own response; else why the gateway answered itself
    warnings: List[str]


class RouteError(ValueError):
    """A path template that cannot be used."""


def compile_route(template: str) -> Route:
    """Compile an APIG path template: ``{name}`` matches one segment, ``{name+}`` the rest of the path."""
    if not template.startswith("/"):
        raise RouteError(f"route {template!r} must start with '/'")
    pattern = ""
    position = 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[position : match.start()])
        greedy = match.group(2) == "+"
        if greedy and match.end() != len(template):
            raise RouteError(f"in route {template!r}, {{{match.group(1)}+}} must come last")
        group = match.group(1).replace("-", "_")
        pattern += f"(?P<{group}>{'.+' if greedy else '[^/]+'})"
        position = match.end()
    if "{" in template[position:] or "}" in template[position:]:
        raise RouteError(f"route {template!r} has a malformed {{parameter}}")
    pattern += re.escape(template[position:])
    return Route(template, re.compile("^" + pattern + "/?$"))


def path_parameters(routes: Sequence[Route], path: str) -> Dict[str, str]:
    """Return the parameters of the first route matching ``path`` (empty when none does)."""
    for route in routes:
        match = route.pattern.match(path)
        if match:
            names = [m.group(1) for m in _PARAM.finditer(route.template)]
            return {name: match.group(name.replace("-", "_")) for name in names}
    return {}


def build_event(
    method: str,
    target: str,
    headers: Iterable[Tuple[str, str]],
    body: bytes,
    *,
    request_id: str,
    api_id: str,
    client_ip: str = "127.0.0.1",
    stage: str = DEFAULT_STAGE,
    routes: Sequence[Route] = (),
    scheme: str = "http",
    port: int = 0,
) -> Dict[str, Any]:
    """Build the APIG event for one HTTP request (``target`` is the request line's path and query)."""
    _, path, query = parse_target(target.encode("utf-8"))  # HttpError for a target serve would refuse
    merged: Dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        # Repeated headers are joined as HTTP lists are; Cookie headers as one cookie string (RFC 6265).
        separator = "; " if key == "cookie" else ","
        merged[key] = merged[key] + separator + value if key in merged else value
    forwarded = merged.get("x-forwarded-for")
    merged["x-forwarded-for"] = forwarded + ", " + client_ip if forwarded else client_ip
    merged.setdefault("x-real-ip", client_ip)
    merged.setdefault("x-forwarded-proto", scheme)
    if port:
        merged.setdefault("x-forwarded-port", str(port))
    if "host" in merged:
        merged.setdefault("x-forwarded-host", merged["host"])
    merged["x-request-id"] = request_id
    # A repeated query parameter keeps its first value (assumption: APIG passes one string per name).
    query_parameters: Dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict"):
        query_parameters.setdefault(key, value)
    return {
        "body": base64.b64encode(body).decode("ascii"),
        "requestContext": {"apiId": api_id, "requestId": request_id, "stage": stage},
        "queryStringParameters": query_parameters,
        "httpMethod": method.upper(),
        "pathParameters": path_parameters(routes, path),
        "headers": merged,
        "path": path,
        "isBase64Encoded": True,
    }


def error_response(
    status: int, reason: str, request_id: str, function_error: Optional[Dict[str, Any]] = None
) -> GatewayResponse:
    """Make the gateway's own answer: a JSON body with the reason (and the function's error object)."""
    payload: Dict[str, Any] = {"error_msg": reason, "request_id": request_id}
    if function_error is not None:
        payload["function_error"] = function_error
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return GatewayResponse(status, [("Content-Type", "application/json")], body, reason, [])


def response_from_result(body: str, error: Optional[Dict[str, Any]], request_id: str) -> GatewayResponse:
    """Turn a function's result (its JSON body, or its error object) into the HTTP response APIG sends."""
    if error is not None:
        if error.get("errorType") == "FunctionTimeout":
            return error_response(
                TIMEOUT_STATUS, "the function timed out: " + error.get("errorMessage", ""), request_id, error
            )
        return error_response(
            BAD_RESPONSE_STATUS, "the function failed: " + error.get("errorMessage", ""), request_id, error
        )
    try:
        result = json.loads(body) if body else None
    except ValueError:
        result = body
    problem = _check_response(result)
    if problem:
        return error_response(
            BAD_RESPONSE_STATUS, "the function's result is not an APIG response: " + problem, request_id
        )
    assert isinstance(result, dict)
    warnings = []
    missing = [k for k in ("headers", "isBase64Encoded") if k not in result]
    if missing:
        warnings.append(
            f"the response has no {' or '.join(missing)}; APIG's documentation asks for {_RESPONSE_FIELDS}"
        )
    content = result.get("body", "")
    if result.get("isBase64Encoded") is True:
        try:
            # Line breaks are skipped, as the gateway's decoder (Go's encoding/base64) does: Python's
            # base64.encodebytes() puts one every 76 characters.
            data = base64.b64decode(re.sub(r"[\r\n]", "", content), validate=True)
        except ValueError:
            return error_response(
                BAD_RESPONSE_STATUS,
                "the function's result is not an APIG response: "
                "isBase64Encoded is true but the body is not base64",
                request_id,
            )
    else:
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): not text UTF-8 can carry
            data = content.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
            warnings.append("the body has a lone UTF-16 surrogate, sent as U+FFFD")
    headers: List[Tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        for item in value if isinstance(value, list) else [value]:
            text, problem = header_on_wire(name, _header_text(item))
            if problem:
                return error_response(
                    BAD_RESPONSE_STATUS,
                    "the function's result is not an APIG response: " + problem,
                    request_id,
                )
            headers.append((name, text))
    status = int(result["statusCode"])
    kept: List[Tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            if value.strip() != str(len(data)) and status not in BODILESS_STATUSES:
                warnings.append(
                    f"Content-Length {shown(value, 20)} replaced by the body's length, {len(data)}"
                )
        elif lower in _GATEWAY_HEADERS:
            warnings.append(f"header {name} is the gateway's to set; the function's is dropped")
        else:
            kept.append((name, value))
    if not any(name.lower() == "content-type" for name, _ in kept):
        kept.append(("Content-Type", "application/json"))
    if status in BODILESS_STATUSES and data:
        warnings.append(f"a {status} response has no body; the function's {len(data):,} bytes are dropped")
        data = b""
    return GatewayResponse(status, kept, data, "", warnings)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def header_on_wire(name: str, value: str) -> Tuple[str, str]:
    """A response header's value as it goes on the wire, or ``("", why it cannot)``.

    Names must be HTTP tokens; values must not hold control characters (CR/LF would split the
    response: header injection). Values are ASCII on the wire: a non-ASCII ``filename`` in
    ``Content-Disposition`` is sent as RFC 8187 ``filename*=UTF-8''...`` next to an ASCII
    ``filename=`` fallback, a non-ASCII ``Location`` is percent-encoded as UTF-8 (RFC 3986), and
    any other non-ASCII value is refused rather than mangled. The reason never repeats the value.
    """
    if not _TOKEN.match(name):
        return "", (
            f"header name {shown(name, 40)!r} is not an HTTP header name "
            "(letters, digits and !#$%&'*+-.^_`|~ only)"
        )
    if _CONTROL.search(value):
        return "", (
            f"header {name!r} has a control character (CR, LF, NUL...) in its value; "
            "refused, as it could split the response (header injection)"
        )
    value = value.strip(" \t")
    if value.isascii():
        return value, ""
    lower = name.lower()
    if lower == "content-disposition":
        encoded = _encode_disposition(value)
        if encoded:
            return encoded, ""
        return "", (
            f"header {name!r} has non-ASCII text outside a filename parameter; "
            "encode it as RFC 8187 (filename*=UTF-8''...)"
        )
    if lower == "location":
        return quote(value, safe="".join(chr(c) for c in range(0x21, 0x7F))), ""
    return "", (
        f"header {name!r} has non-ASCII text; HTTP header values are ASCII: percent-encode it, or "
        "use RFC 8187 (name*=UTF-8''...) where the header defines it"
    )


def _encode_disposition(value: str) -> str:
    """``Content-Disposition`` with a non-ASCII filename as RFC 6266 advises, or "" when it cannot be."""
    match = _FILENAME.search(value)
    if match is None or "filename*" in value.lower():
        return ""
    raw = match.group("quoted")
    name = re.sub(r"\\(.)", r"\1", raw) if raw is not None else match.group("token").strip()
    before, after = value[: match.start()], value[match.end() :]
    if not (before.isascii() and after.isascii()):
        return ""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
        for c in unicodedata.normalize("NFKD", name)
        if not unicodedata.combining(c)
    )
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{before}{match.group('lead')}filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}{after}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "an array" if isinstance(value, list) else "an object" if isinstance(value, dict) else "a string"


def _shown_status(status: Any) -> str:
    """A bad statusCode as the reason shows it: a number as it is, anything else by its kind only."""
    if isinstance(status, (int, float)) and not isinstance(status, bool):
        return shown(json.dumps(status), 40)
    return "null" if status is None else _json_kind(status)


def _check_response(result: Any) -> str:
    """Why ``result`` is not an APIG response ("" when it is one)."""
    if not isinstance(result, dict):
        kind = "a string" if isinstance(result, str) else "nothing" if result is None else _json_kind(result)
        return f"the handler returned {kind}; return an object with {_RESPONSE_FIELDS}"
    if "statusCode" not in result:
        if not result:
            return "it is an empty object"
        return f"it has no statusCode (fields: {', '.join(sorted(result))})"
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        return (
            "statusCode must be an integer HTTP status from 200 to 599 (1xx are interim answers a "
            f"function cannot send), got {_shown_status(status)}"
        )
    if "body" in result and not isinstance(result["body"], str):
        return (
            f"body must be a string (JSON-encode objects with json.dumps), got {_json_kind(result['body'])}"
        )
    if "headers" in result and result["headers"] is not None:
        headers = result["headers"]
        if not isinstance(headers, dict):
            return f"headers must be an object of strings, got {_json_kind(headers)}"
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, int, float)) for v in values):
                # The value is not shown: it may be a credential.
                return (
                    f"header {shown(name, 40)!r} must be a string, a number or a list of them, "
                    f"got {_json_kind(value) if value is not None else 'null'}"
                )
    if "isBase64Encoded" in result and not isinstance(result["isBase64Encoded"], bool):
        return f"isBase64Encoded must be true or false, got {_json_kind(result['isBase64Encoded'])}"
    return ""
