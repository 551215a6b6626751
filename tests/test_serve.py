"""`fglocal serve` end to end: the real command, a real HTTP client, real instance processes."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from fglocal import proctree

WEB = Path(__file__).parent / "fixtures" / "triggers" / "web"


def alive(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie counts as gone)."""
    info = proctree.stat(pid)
    return info is not None and info[3] != "Z"


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("PPid:")).split()[1])


class Serve:
    """A running `fglocal serve` process and the lines it printed."""

    def __init__(self, *args: str, code_dir: Path = WEB) -> None:
        command = [
            sys.executable,
            "-m",
            "fglocal",
            "serve",
            "--code-dir",
            str(code_dir),
            "--port",
            "0",
            *args,
        ]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        first = self.wait_for(lambda line: "http://127.0.0.1:" in line or "error" in line)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert match, self.output()
        self.port = int(match.group(1))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<EOF>")
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30) -> str:
        """The first printed line matching ``predicate`` (waits for it)."""
        with self._changed:
            found: List[str] = []

            def check() -> bool:
                found[:] = [line for line in self.lines if predicate(line)]
                return bool(found) or "<EOF>" in self.lines

            assert self._changed.wait_for(check, timeout), self.output()
            assert found, self.output()
            return found[0]

    def output(self) -> str:
        return "\n".join(self.lines)

    def request(
        self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None
    ) -> Tuple[int, Dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        self._reader.join(10)
        return code


@pytest.fixture(scope="module")
def server():
    serve = Serve("--route", "/users/{id}", "--route", "/files/{path+}")
    yield serve
    assert serve.stop() == 0


def info(server: Serve, path: str, **kw: Any) -> Dict[str, Any]:
    status, _, body = server.request("GET" if "body" not in kw else "POST", path, **kw)
    assert status == 200, body
    return json.loads(body)


def test_get_becomes_an_apig_event(server: Serve):
    data = info(server, "/info?lang=en&page=2&lang=fr", headers={"X-Custom": "v1", "Accept": "text/plain"})
    event = data["event"]
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/info"
    assert event["queryStringParameters"] == {"lang": "en", "page": "2"}
    assert event["pathParameters"] == {}
    assert event["isBase64Encoded"] is True and event["body"] == ""
    assert event["headers"]["x-custom"] == "v1" and event["headers"]["accept"] == "text/plain"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["host"] == f"127.0.0.1:{server.port}"
    context = event["requestContext"]
    assert set(context) == {"apiId", "requestId", "stage"} and context["stage"] == "RELEASE"
    assert event["headers"]["x-request-id"] == context["requestId"]
    assert data["requestId"].replace("-", "") == context["requestId"]


def test_path_parameters_from_routes(server: Serve):
    assert info(server, "/users/42")["event"]["pathParameters"] == {"id": "42"}
    assert info(server, "/files/a/b%20c.txt")["event"]["pathParameters"] == {"path": "a/b c.txt"}


def test_post_binary_body_round_trip(server: Serve):
    blob = bytes(range(256)) * 64 + b"\x00\xff"
    status, headers, body = server.request("POST", "/echo", body=blob, headers={"Content-Type": "image/png"})
    assert status == 200
    assert body == blob
    assert headers["content-type"] == "application/octet-stream"
    assert headers["x-echo-method"] == "POST"
    assert headers["content-length"] == str(len(blob))


def test_text_body_arrives_base64_encoded(server: Serve):
    data = info(server, "/info", body="héllo".encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
    assert data["event"]["isBase64Encoded"] is True
    assert data["body"] == "héllo"


def test_status_code_and_other_methods(server: Serve):
    status, _, body = server.request("PUT", "/echo?status=201", body=b"x")
    assert (status, body) == (201, b"x")
    status, _headers, body = server.request("HEAD", "/echo")
    assert status == 200 and body == b""
    status, _, _ = server.request("DELETE", "/echo?status=204")
    assert status == 204


def test_one_warm_instance_runs_the_initializer_once(server: Serve):
    first = info(server, "/info")
    second = info(server, "/info")
    assert first["pid"] == second["pid"]
    assert second["initialized"] == 1


def test_handler_error_is_a_502_and_the_server_goes_on(server: Serve):
    status, headers, body = server.request("GET", "/fail")
    assert status == 502
    answer = json.loads(body)
    assert "boom from the handler" in answer["error_msg"]
    assert answer["function_error"]["errorType"] == "ValueError"
    assert answer["function_error"]["errorMessage"].startswith("function invocation exception")
    assert headers["content-type"] == "application/json"
    server.wait_for(lambda line: line.startswith("GET /fail -> 502"))
    assert info(server, "/info")["event"]["path"] == "/info"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/plain", "the handler returned a string"),
        ("/dict", "it has no statusCode"),
        ("/nonstring-body", "body must be a string"),
    ],
)
def test_non_apig_result_is_a_502_with_the_reason(server: Serve, path: str, reason: str):
    status, _, body = server.request("GET", path)
    assert status == 502
    assert reason in json.loads(body)["error_msg"]
    line = server.wait_for(lambda text: text.startswith("  gateway:") and reason in text)
    assert "not an APIG response" in line


def test_timeout_is_a_504_and_a_fresh_instance_serves_next(server: Serve):
    before = info(server, "/info")["pid"]
    status, _, body = server.request("GET", "/slow?s=30")
    assert status == 504
    assert json.loads(body)["function_error"]["errorType"] == "FunctionTimeout"
    assert not alive(before)
    after = info(server, "/info")
    assert after["pid"] != before and after["initialized"] == 1


def test_a_5_mb_body_is_served_though_its_base64_event_is_larger(server: Serve):
    # The limit is on the request body as received (5 MB), not on the event (6.7 MB of base64).
    body = "报".encode() * (5 * 1024 * 1024 // 3)
    assert info(server, "/size", body=body) == {"bytes": len(body)}
    # Served, with a word on the dedicated gateway's smaller limit.
    server.wait_for(lambda line: f"the request body is {len(body):,} bytes: a dedicated APIG gateway" in line)


def test_body_over_6_mb_is_refused(server: Serve):
    status, _, body = server.request("POST", "/echo", body=b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413
    assert "6 MB" in json.loads(body)["error_msg"]


def test_each_request_prints_a_summary_line(server: Serve):
    server.request("GET", "/echo?tag=summary")
    line = server.wait_for(lambda text: text.startswith("GET /echo?tag=summary -> 200"))
    assert "billed" in line and "memory" in line and "MB" in line
    # The Python that ran it, on every request (errors too), as the banner names it in full.
    assert ", Python %s, request " % _python_version() in line
    server.request("GET", "/fail")
    line = server.wait_for(lambda text: text.startswith("GET /fail -> 502"))
    assert ", Python %s, request " % _python_version() in line


def _python_version() -> str:
    from fglocal.config import load_config
    from fglocal.interpreters import resolve_interpreter

    return resolve_interpreter(load_config(str(WEB))).version_text


def test_concurrent_requests_queue_on_one_instance(server: Serve):
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: info(server, "/serial"), range(6)))
    assert len({r["pid"] for r in results}) == 1
    spans = sorted((r["start"], r["end"]) for r in results)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # never two events in the instance at once


def test_instances_serve_concurrently(tmp_path: Path):
    serve = Serve("--instances", "2", "--timeout", "10")
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(lambda _: info(serve, f"/rendezvous?n=2&wait=8&dir={tmp_path}"), range(2))
            )
        assert [a["met"] for a in answers] == [2, 2]
        assert len({a["pid"] for a in answers}) == 2
    finally:
        assert serve.stop() == 0


@pytest.mark.parametrize(("sig", "times"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 3)])
def test_stop_leaves_no_process_behind(sig: int, times: int):
    serve = Serve("--instances", "2")
    started = info(serve, "/background")
    instance_pid, child_pid = started["pid"], started["child"]
    assert alive(instance_pid) and alive(child_pid)
    assert parent_of(instance_pid) == serve.proc.pid
    for _ in range(times - 1):  # impatient Ctrl+C presses must not cut the cleanup short
        serve.proc.send_signal(sig)
    assert serve.stop(sig) == 0
    assert "fglocal serve: stopped" in serve.output()
    assert not alive(instance_pid)
    assert not alive(child_pid)


def test_stop_during_a_request(tmp_path: Path):
    serve = Serve("--timeout", "60")
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(serve.request, "GET", f"/rendezvous?n=2&wait=50&dir={tmp_path}")
        serve_pid = serve.proc.pid
        # Wait until the handler is running (its marker file exists), then stop the server.
        deadline = time.monotonic() + 60
        while not os.listdir(tmp_path):
            assert not pending.done(), pending.result()
            assert time.monotonic() < deadline, serve.output()
            time.sleep(0.01)
        instance_pid = int(os.listdir(tmp_path)[0])
        assert serve.stop() == 0
        try:
            pending.result(timeout=30)
        except (ConnectionError, http.client.HTTPException):
            pass  # the connection may close without an answer
    assert not alive(instance_pid)
    assert not alive(serve_pid)


def test_port_in_use_is_a_clear_error():
    serve = Serve()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fglocal", "serve", "--code-dir", str(WEB), "--port", str(serve.port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert f"cannot listen on 127.0.0.1:{serve.port}" in done.stderr
    finally:
        assert serve.stop() == 0


def test_bad_route_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "fglocal", "serve", "--code-dir", str(WEB), "--route", "users/{id}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "must start with '/'" in done.stderr


def test_invoke_path_does_not_import_the_plugins(tmp_path: Path):
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "fglocal",
            "invoke",
            "--code-dir",
            str(WEB),
            "--event-json",
            "{}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "fglocal.cli" in imported
    for module in (
        "fglocal.serve",
        "fglocal.commands.serve",
        "fglocal.commands.package",
        "fglocal.commands.deploy",
        "fglocal.cloud",
        "fglocal.apig",
        "fglocal.package",
        "fglocal.event_templates",
        "http.server",
    ):
        assert module not in imported


def test_code_change_restarts_the_instances(tmp_path: Path):
    import shutil

    code = tmp_path / "web"
    shutil.copytree(WEB, code)
    serve = Serve(code_dir=code)
    try:
        before = info(serve, "/info")
        source = (code / "index.py").read_text()
        marker = '    if path == "/fail":'
        added = '    if path == "/version":\n        return _json(200, {"version": 2})\n'
        (code / "index.py").write_text(source.replace(marker, added + marker))
        line = serve.wait_for(lambda text: text.startswith("code changed"))
        assert "index.py" in line
        after = info(serve, "/version")
        assert after == {"version": 2}
        assert info(serve, "/info")["pid"] != before["pid"]
    finally:
        assert serve.stop() == 0


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "index.py": "def initializer(context):\n    raise RuntimeError('no db')\n\ndef handler(e, c):\n    return 1\n"
            },
            "function initialization exception",
        ),
        ({"index.py": "def other(e, c):\n    return 1\n"}, "function entry exception"),
        ({"index.py": "def handler(e, c)\n    return 1\n"}, "SyntaxError"),
    ],
)
def test_functions_that_cannot_run_get_502_for_every_request(
    tmp_path: Path, files: Dict[str, str], expected: str
):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "fglocal.json").write_text(
        json.dumps({"initializer": "index.initializer"} if "def initializer" in files["index.py"] else {})
    )
    serve = Serve(code_dir=tmp_path)
    try:
        for _ in range(2):
            status, _, body = serve.request("GET", "/")
            assert status == 502
            assert expected in json.dumps(json.loads(body))
    finally:
        assert serve.stop() == 0


def test_old_serve_log_folders_are_pruned_and_the_running_one_logs(tmp_path: Path):
    from fglocal.serve import SERVE_FOLDERS_KEPT

    logs = tmp_path / "logs"
    logs.mkdir(mode=0o700)
    stale = []
    for n in range(SERVE_FOLDERS_KEPT + 5):
        folder = logs / f"serve-{40000 + n}-1"
        folder.mkdir()
        (folder / "old.log").write_text("old\n")
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
        stale.append(folder)
    # Not fglocal's serve folders: never touched.
    (logs / "serve-notes").mkdir()
    (logs / "serve-1-1-extra").mkdir()
    (logs / "serve-2-1").symlink_to(tmp_path)
    (logs / "keep.log").write_text("kept\n")
    serve = Serve("--log-dir", str(logs))
    try:
        status, headers, _ = serve.request("GET", "/info")
        assert status == 200
        own = logs / f"serve-{serve.port}-1"
        assert (own / f"{headers['x-fglocal-request-id']}.log").is_file()
    finally:
        assert serve.stop() == 0
    left = sorted(p.name for p in logs.iterdir())
    # The newest SERVE_FOLDERS_KEPT stale folders survive, the oldest five are gone, files and all.
    assert [f.name for f in stale[:5] if f.exists()] == []
    assert all(f.exists() for f in stale[5:])
    for name in ("serve-notes", "serve-1-1-extra", "serve-2-1", "keep.log", own.name):
        assert name in left
    assert (tmp_path / "logs" / "keep.log").read_text() == "kept\n"
