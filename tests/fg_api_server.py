"""A FunctionGraph management API on 127.0.0.1 for the cloud commands' tests.

It implements the v2 REST paths the commands use with the platform's request and response shapes
and error bodies (``{"error_code", "error_msg"}`` plus ``X-Request-Id``), verifies every request's
``SDK-HMAC-SHA256`` signature against the test AK/SK (written here from the signing rules, not with
the SDK's signer), and records what it received. Invocations are scripted per function
(``server.invoke_outcome``): the server does not run code. ``server.fail_next`` injects API errors;
``server.fail_after_next`` performs a request and then answers it with an error (a platform that did
the work but answered 5xx), ``server.stall_next`` holds one and drops it.

Run as a program (``python tests/fg_api_server.py JOURNAL [--outcome FUNCTION=JSON]...``, for the
extension's e2e test) it prints ``listening on http://127.0.0.1:PORT`` and appends one JSON line per
request to JOURNAL: method, path, body and ``"signature"`` (``"valid"``, or why it was refused), until it
is terminated. ``--outcome`` scripts function FUNCTION's invocations as ``server.invoke_outcome`` does:
``{"error": {...}}`` (a function error: ``X-Is-Func-Err: true``), ``{"result": VALUE}`` (a return), with
optional ``"func_err_code"``, ``"log"``, ``"duration"``, ``"summary_header"``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

AK = "TESTAKFGLOCAL0000001"
SK = "test-sk-0123456789abcdefSECRETSECRET"
TOKEN = "test-security-token-SECRETTOKEN-42"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "cn-test-1"
DOMAIN = "domain-0001"

# "The specified resource already exists": a create of what exists, a code update with the same package.
_EXISTS = {"error_code": "FSS.0409", "error_msg": "The specified resource already exists."}
_AUTH = re.compile(r"^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$")


def _encode(text: str) -> str:
    return quote(text, safe="~")


def expected_signature(
    method: str, path: str, query: str, headers: Dict[str, str], signed: List[str], body: bytes, sk: str
) -> str:
    """The SDK-HMAC-SHA256 signature of a request, as the API gateway computes it."""
    uri = "/".join(_encode(part) for part in unquote(path).split("/"))
    if not uri.endswith("/"):
        uri += "/"
    params = sorted(parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in params)
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    canonical_headers = "".join(f"{name}:{lower.get(name, '')}\n" for name in signed)
    payload = lower.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join([method, uri, canonical_query, canonical_headers, ";".join(signed), payload])
    to_sign = "SDK-HMAC-SHA256\n%s\n%s" % (
        lower.get("x-sdk-date", ""),
        hashlib.sha256(canonical.encode()).hexdigest(),
    )
    return hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class RawBody:
    """A response body that is not JSON (a gateway's error page)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


class Recorded:
    """One request the server received (after its signature was checked)."""

    def __init__(self, method: str, path: str, query: Dict[str, str], headers: Dict[str, str], body: bytes):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path}>"


class FunctionGraphAPI:
    """The server's state: functions, their code, test events and versions."""

    def __init__(self, ak: str = AK, sk: str = SK, token: Optional[str] = None) -> None:
        self.ak, self.sk, self.token = ak, sk, token
        self.functions: Dict[str, Dict[str, Any]] = {}  # URN (latest) -> config
        self.code: Dict[str, bytes] = {}  # URN -> zip bytes
        self.events: Dict[str, Dict[str, Dict[str, Any]]] = {}  # URN -> event ID -> event
        self.versions: Dict[str, List[Dict[str, Any]]] = {}
        self.requests: List[Recorded] = []
        self.invoke_outcome: Dict[str, Dict[str, Any]] = {}  # function name -> scripted outcome
        # (method, path regex, status, error_code, error_msg, times): the next matching requests fail.
        self.failures: List[List[Any]] = []
        self.lost_answers: List[List[Any]] = []  # the same, but the request is performed first
        self.lock = threading.Lock()
        self.clock = 1764547200.0
        self.journal: Optional[Any] = None  # a text file: one JSON line per request (see __main__)
        self.event_list_limit: Optional[int] = None  # list at most this many test events (count stays)
        self.stalls: List[List[Any]] = []  # [method, path regex, reached, release, requests to let by]

    # ------------------------------------------------------------------ helpers for the tests

    def urn(self, name: str, package: str = "default") -> str:
        return f"urn:fss:{REGION}:{PROJECT}:function:{package}:{name}:latest"

    def fail_next(
        self, method: str, path: str, status: int, code: Optional[str], msg: str = "injected", times: int = 1
    ) -> None:
        """The next ``times`` matching requests fail: the API's error body, or ``msg`` itself (code None)."""
        self.failures.append([method, re.compile(path), status, code, msg, times])

    def fail_after_next(
        self,
        method: str,
        path: str,
        status: int = 502,
        code: str = "FSS.0502",
        msg: str = "injected",
        times: int = 1,
        then: Optional[Callable[[], None]] = None,
    ) -> None:
        """The next ``times`` matching requests are performed, then answered with this API error.

        ``then`` runs after each is performed, before the answer: what another client did meanwhile.
        """
        self.lost_answers.append([method, re.compile(path), status, code, msg, times, then])

    def stall_next(self, method: str, path: str, skip: int = 0) -> Tuple[threading.Event, threading.Event]:
        """After ``skip`` matching requests the next one waits, then is dropped (not applied, not
        answered): (reached, release)."""
        reached, release = threading.Event(), threading.Event()
        self.stalls.append([method, re.compile(path), reached, release, skip])
        return reached, release

    def add_event(self, urn: str, name: str, content: Any) -> str:
        event_id = str(uuid.uuid4())
        self.events.setdefault(urn, {})[event_id] = {
            "id": event_id,
            "name": name,
            "content": base64.b64encode(json.dumps(content).encode()).decode(),
            "last_modified": self._tick(),
        }
        return event_id

    def calls(self, method: str = "", contains: str = "") -> List[Recorded]:
        return [r for r in self.requests if r.method.startswith(method) and contains in r.path]

    def _tick(self) -> float:
        self.clock += 1
        return self.clock * 1000

    # ------------------------------------------------------------------ request handling

    def handle(
        self, method: str, path: str, query: Dict[str, str], headers: Dict[str, str], body: bytes
    ) -> Tuple:
        """(status, body object, extra headers) for one authenticated request."""
        for failure in self.failures:
            fmethod, fpath, status, code, msg, times = failure
            if fmethod == method and fpath.search(path) and times > 0:
                failure[5] -= 1
                if code is None:  # not the API's answer: a proxy's or gateway's page, sent as it is
                    return status, RawBody(msg.encode("utf-8")), {}
                return status, {"error_code": code, "error_msg": msg}, {}
        answer = self._perform(method, path, query, headers, body)
        for lost in self.lost_answers:
            lmethod, lpath, status, code, msg, times, then = lost
            if lmethod == method and lpath.search(path) and times > 0:
                lost[5] -= 1
                if then is not None:
                    then()
                return status, {"error_code": code, "error_msg": msg}, {}
        return answer

    def _perform(
        self, method: str, path: str, query: Dict[str, str], headers: Dict[str, str], body: bytes
    ) -> Tuple:
        prefix = f"/v2/{PROJECT}/fgs/functions"
        if not path.startswith(prefix):
            return 404, {"error_code": "FSS.1051", "error_msg": "Not found the project"}, {}
        rest = path[len(prefix) :]
        if rest in ("", "/"):
            if method == "GET":
                return self._list(query)
            if method == "POST":
                return self._create(json.loads(body))
        match = re.match(r"^/([^/]+)/(config|code|invocations|events|versions)(?:/([^/]+))?$", rest)
        if not match:
            return 404, {"error_code": "FSS.1051", "error_msg": "Not found the resource"}, {}
        urn, what, item = unquote(match.group(1)), match.group(2), match.group(3)
        base = self._base_urn(urn)
        if base not in self.functions:
            return 404, {"error_code": "FSS.1051", "error_msg": "Not found the function"}, {}
        data = json.loads(body) if body else None
        if what == "config":
            return (200, self._config(base), {}) if method == "GET" else self._update_config(base, data)
        if what == "code":
            return (200, self._code_view(base), {}) if method == "GET" else self._update_code(base, data)
        if what == "invocations":
            return self._invoke(base, data, headers)
        if what == "events":
            return self._events(base, method, item, data)
        return self._versions(base, method, data)

    def _base_urn(self, urn: str) -> str:
        return ":".join([*urn.split(":")[:7], "latest"])

    def _list(self, query: Dict[str, str]) -> Tuple:
        found = []
        for fn in self.functions.values():
            if query.get("func_name") and query["func_name"] not in fn["func_name"]:
                continue  # a fuzzy match, as the platform's
            if query.get("package_name") and fn["package"] != query["package_name"]:
                continue
            found.append(self._config(fn["func_urn"]))
        marker = int(query.get("marker") or 0)
        page = found[marker : marker + 1]  # one per page: the client must follow next_marker
        nxt = marker + 1 if marker + 1 < len(found) else 0
        return 200, {"functions": page, "next_marker": nxt, "count": len(found)}, {}

    _CONFIG_KEYS = (
        "func_name", "package", "runtime", "timeout", "handler", "memory_size", "user_data",
        "initializer_handler", "initializer_timeout", "description",
    )  # fmt: skip

    def _create(self, data: Dict[str, Any]) -> Tuple:
        required = ("func_name", "package", "runtime", "timeout", "handler", "memory_size", "code_type")
        missing = [k for k in required if k not in data]
        if missing:
            return 400, {"error_code": "FSS.0400", "error_msg": f"missing {missing[0]}"}, {}
        urn = self.urn(data["func_name"], data["package"])
        if urn in self.functions:
            return 409, _EXISTS, {}
        fn = {k: data.get(k) for k in self._CONFIG_KEYS}
        fn["user_data"] = fn["user_data"] or ""
        fn["func_urn"] = urn
        self.functions[urn] = fn
        if "func_code" in data:
            self.code[urn] = base64.b64decode(data["func_code"]["file"])
        fn["code_filename"] = data.get("code_filename", "")
        return 200, self._config(urn), {}

    def _digest(self, urn: str) -> str:
        return hashlib.sha512(self.code.get(urn, b"")).hexdigest()

    def _config(self, urn: str) -> Dict[str, Any]:
        fn = dict(self.functions[urn])
        fn.update(
            func_urn=urn,
            domain_id=DOMAIN,
            namespace=PROJECT,
            project_name=REGION,
            code_type="zip",
            code_size=len(self.code.get(urn, b"")),
            digest=self._digest(urn),
            version="latest",
            last_modified="2026-12-01T08:00:00+08:00",
        )
        return fn

    def _update_config(self, urn: str, data: Dict[str, Any]) -> Tuple:
        for key in ("func_name", "runtime", "timeout", "handler", "memory_size"):
            if key not in data:
                return 400, {"error_code": "FSS.0400", "error_msg": f"missing {key}"}, {}
        fn = self.functions[urn]
        for key in self._CONFIG_KEYS:
            if key in data and key != "package":
                fn[key] = data[key]
        return 200, self._config(urn), {}

    def _code_view(self, urn: str) -> Dict[str, Any]:
        return {
            "func_urn": urn,
            "func_name": self.functions[urn]["func_name"],
            "runtime": self.functions[urn]["runtime"],
            "code_type": "zip",
            "code_filename": self.functions[urn].get("code_filename", ""),
            "code_size": len(self.code.get(urn, b"")),
            "digest": self._digest(urn),
            "last_modified": "2026-12-01T08:00:00+08:00",
            "func_code": {"file": "", "link": ""},
        }

    def _update_code(self, urn: str, data: Dict[str, Any]) -> Tuple:
        if data.get("code_type") != "zip" or "func_code" not in data:
            return 400, {"error_code": "FSS.0400", "error_msg": "code_type zip needs func_code"}, {}
        package = base64.b64decode(data["func_code"]["file"])
        if package == self.code.get(urn):
            # The platform refuses the package it already has (OTC's API reference, Huawei's
            # Serverless Devs component: 409 FSS.0409).
            return 409, _EXISTS, {}
        self.code[urn] = package
        self.functions[urn]["code_filename"] = data.get("code_filename", "")
        return 200, self._code_view(urn), {}

    def _invoke(self, urn: str, event: Any, headers: Dict[str, str]) -> Tuple:
        name = self.functions[urn]["func_name"]
        outcome = self.invoke_outcome.get(name, {"result": event})
        request_id = str(uuid.uuid4())
        memory = self.functions[urn]["memory_size"]
        log = outcome.get("log", "hello from the cloud\n")
        duration = outcome.get("duration", 12.5)
        lines = (
            f"{_now()} Start invoke request '{request_id}', version: latest\n"
            + log
            + f"{_now()} Finish invoke request '{request_id}', duration: {duration}ms, billing duration: "
            f"{int(duration) + 1}ms, memory used: 30.5MB, billing memory: {memory}MB\n"
        )
        summary = {
            "duration": duration,
            "billingDuration": int(duration) + 1,
            "memorySize": memory,
            "memoryUsed": 30.5,
        }
        if "error" in outcome:
            result, func_err = json.dumps(outcome["error"]), True
        else:
            # A returned string travels as it is, any other value as its JSON (the v1 body).
            value = outcome["result"]
            result, func_err = (value if isinstance(value, str) else json.dumps(value)), False
        extra = {
            "X-Cff-Request-Id": request_id,
            "X-Is-Func-Err": "true" if func_err else "false",
            "X-Func-Err-Code": str(outcome.get("func_err_code", 0)),
        }
        if outcome.get("summary_header", True):
            extra["X-Cff-Invoke-Summary"] = json.dumps(summary)
        tail = headers.get("x-cff-log-type") == "tail"
        body = {"request_id": request_id, "result": result, "log": lines if tail else "", "status": 200}
        return 200, body, extra

    def _events(self, urn: str, method: str, item: Optional[str], data: Any) -> Tuple:
        events = self.events.setdefault(urn, {})
        if item is None and method == "GET":
            listed = [
                {"id": e["id"], "name": e["name"], "last_modified": e["last_modified"]}
                for e in events.values()
            ]
            shown = listed[: self.event_list_limit]  # all of them unless a test limits the list
            return 200, {"count": len(listed), "events": shown, "next_marker": 0}, {}
        if item is None and method == "POST":
            if any(e["name"] == data["name"] for e in events.values()):
                # Assumed: the API reference lists no 409 (nor a code) for a test event's name taken.
                return 400, {"error_code": "FSS.1064", "error_msg": "event name already exists"}, {}
            base64.b64decode(data["content"], validate=True)
            event_id = str(uuid.uuid4())
            events[event_id] = {**data, "id": event_id, "last_modified": self._tick()}
            return 200, {"id": event_id, "name": data["name"]}, {}
        if item not in events:
            return 404, {"error_code": "FSS.1051", "error_msg": "Not found the event"}, {}
        if method == "GET":
            return 200, events[item], {}
        if method == "PUT":
            base64.b64decode(data["content"], validate=True)
            events[item].update(content=data["content"], last_modified=self._tick())
            return 200, {"id": item, "name": events[item]["name"]}, {}
        if method == "DELETE":  # the platform's DeleteEvent: 204, no body
            del events[item]
            return 204, None, {}
        return 405, {"error_code": "FSS.0405", "error_msg": "method not allowed"}, {}

    def _versions(self, urn: str, method: str, data: Any) -> Tuple:
        versions = self.versions.setdefault(urn, [])
        if method == "GET":
            return 200, {"versions": versions, "next_marker": 0, "count": len(versions)}, {}
        number = str(len(versions) + 1)
        config = self._config(urn)
        config.update(
            func_urn=urn[: -len("latest")] + number,
            version=number,
            version_description=(data or {}).get("description", ""),
        )
        versions.append(config)
        return 200, config, {}


def _now() -> str:
    return "2026-12-01T09:00:00Z"


class _Handler(BaseHTTPRequestHandler):
    api: FunctionGraphAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        api = self.server.api  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        headers = {k: v for k, v in self.headers.items()}
        lower = {k.lower(): v for k, v in headers.items()}
        problem = self._auth_problem(api, split.path, split.query, headers, body)
        if api.journal is not None:
            entry = {"method": self.command, "path": unquote(split.path), "signature": problem or "valid"}
            entry["body"] = body.decode("utf-8", "replace") if len(body) < 65536 else "<%d bytes>" % len(body)
            with api.lock:
                api.journal.write(json.dumps(entry) + "\n")
                api.journal.flush()
        if problem:
            self._send(401, {"error_code": "APIGW.0301", "error_msg": problem}, {})
            return
        for stall in list(api.stalls):
            if stall[0] == self.command and stall[1].search(split.path):
                if stall[4] > 0:
                    stall[4] -= 1
                    continue
                api.stalls.remove(stall)
                stall[2].set()
                stall[3].wait(60)
                self.close_connection = True  # dropped: never applied, never answered
                return
        query = dict(parse_qsl(split.query))
        with api.lock:
            api.requests.append(Recorded(self.command, split.path, query, lower, body))
            status, obj, extra = api.handle(self.command, split.path, query, lower, body)
        self._send(status, obj, extra)

    def _auth_problem(
        self, api: FunctionGraphAPI, path: str, query: str, headers: Dict[str, str], body: bytes
    ) -> str:
        lower = {k.lower(): v for k, v in headers.items()}
        match = _AUTH.match(lower.get("authorization", ""))
        if not match:
            return "Incorrect IAM authentication information: no SDK-HMAC-SHA256 authorization"
        access, signed, signature = match.group(1), match.group(2).split(";"), match.group(3)
        if access != api.ak:
            return "Incorrect IAM authentication information: unknown access key"
        if "host" not in signed or "x-sdk-date" not in signed:
            return "Incorrect IAM authentication information: host and x-sdk-date must be signed"
        want = expected_signature(self.command, path, query, headers, signed, body, api.sk)
        if not hmac.compare_digest(want, signature):
            return "Incorrect IAM authentication information: verify aksk signature fail"
        if api.token is not None and lower.get("x-security-token") != api.token:
            return "Incorrect IAM authentication information: security token missing or wrong"
        if lower.get("x-project-id") != PROJECT:
            return "Incorrect IAM authentication information: project ID"
        return ""

    def _send(self, status: int, obj: Any, extra: Dict[str, str]) -> None:
        raw = isinstance(obj, RawBody)
        data = obj.data if raw else b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if raw else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", "req-" + uuid.uuid4().hex[:12])
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class APIServer:
    """The API on an ephemeral 127.0.0.1 port, served from a thread."""

    def __init__(self, api: Optional[FunctionGraphAPI] = None) -> None:
        self.api = api or FunctionGraphAPI()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.api = self.api  # type: ignore[attr-defined]
        self.endpoint = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> APIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


OUTCOME_KEYS = frozenset({"error", "result", "func_err_code", "log", "duration", "summary_header"})


def parse_outcome(text: str) -> Tuple[str, Dict[str, Any]]:
    """``FUNCTION=JSON`` (``--outcome``): the function's name and its scripted invocation outcome."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"not FUNCTION=JSON: {text!r}")
    try:
        outcome = json.loads(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{name}: not JSON: {error}") from None
    if not isinstance(outcome, dict) or ("error" in outcome) == ("result" in outcome):
        raise argparse.ArgumentTypeError(f'{name}: an object with either "error" or "result"')
    unknown = sorted(set(outcome) - OUTCOME_KEYS)
    if unknown:
        raise argparse.ArgumentTypeError(f"{name}: unknown keys {unknown}")
    return name, outcome


def main(argv: List[str]) -> int:
    """Serves until terminated, journaling every request to the JOURNAL argument."""
    parser = argparse.ArgumentParser(prog="fg_api_server.py", description=__doc__.splitlines()[0])
    parser.add_argument("journal", metavar="JOURNAL", help="file to append one JSON line per request to")
    parser.add_argument(
        "--outcome",
        metavar="FUNCTION=JSON",
        type=parse_outcome,
        action="append",
        default=[],
        help='scripted invocation outcome of FUNCTION, e.g. hello=\'{"error": {"errorType": ...}}\'',
    )
    args = parser.parse_args(argv[1:])
    with open(args.journal, "a", encoding="utf-8") as journal, APIServer() as server:
        server.api.journal = journal
        server.api.invoke_outcome.update(args.outcome)
        print("listening on " + server.endpoint, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
