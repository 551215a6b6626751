"""``fglocal serve``: the function behind a local HTTP server on 127.0.0.1 that acts as its APIG trigger.

Each request becomes an APIG event (:mod:`fglocal.apig`); the handler's APIG response becomes the
HTTP response. Warm instances (:class:`fglocal.instance.Instance`) serve the events one at a time,
as on the platform: with ``--instances 1`` (the default) concurrent requests wait their turn; with
more, up to N run at once, each instance started (with its initializer) when first needed. A
failing or timed-out handler gets the gateway's error answer and the server goes on. Ctrl+C stops
the server and every instance process.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from fglocal import apig
from fglocal.result import MAX_BODY_BYTES

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_DRAIN_LIMIT = 64 * 1024 * 1024
_LOG_MARKERS = (" Start invoke request '", " Finish invoke request '")


def _emit(text: str) -> None:
    """Write a line to stdout without Python's stream lock.

    Instances are forked from request threads; a child forked while another thread held
    ``sys.stdout``'s lock would deadlock on its first print. Writing to the file descriptor takes
    no lock that a child could inherit.
    """
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(1, data) :]
    except OSError:
        pass


class InstancePool:
    """Up to ``size`` warm instances; each serves one event at a time, callers queue for a free one."""

    def __init__(self, config: Any, size: int = 1, log_dir: Optional[str] = None, tag: str = "serve") -> None:
        from fglocal.instance import Instance, default_log_dir

        # Each instance keeps its logs in a folder of its own: an instance prunes old logs in its
        # folder, and must not remove another's log while that one is being written.
        base = log_dir or default_log_dir()
        self.instances = [
            Instance(config, log_dir=os.path.join(base, f"{tag}-{n}")) for n in range(1, size + 1)
        ]
        # Last in, first out: the most recently used (warmest) instance takes the next request, and
        # the others start only when requests overlap.
        self._idle: queue.LifoQueue = queue.LifoQueue()
        for instance in reversed(self.instances):
            self._idle.put(instance)
        self.closing = False
        # Bumped when the code changes: an instance of an older generation is restarted before its
        # next event (a cold start on the new code, initializer included).
        self.generation = 0
        self._generations = {id(instance): 0 for instance in self.instances}

    def invoke(self, event: Any, request_id: str) -> Any:
        """Run ``event`` on the next free instance (waiting for one) and return its InvocationResult."""
        instance = self._idle.get()
        try:
            if self.closing:
                raise RuntimeError("the server is stopping")
            generation = self.generation
            if self._generations[id(instance)] != generation:
                instance.close()
                self._generations[id(instance)] = generation
            # The request was measured as the platform does (its body), not the base64 event.
            return instance.invoke(event, request_id=request_id, max_event_bytes=None)
        finally:
            self._idle.put(instance)

    def recycle(self) -> None:
        """Restart every instance before its next event (the code changed)."""
        self.generation += 1

    def pids(self) -> List[int]:
        """Process IDs of the running instance processes."""
        return [i.pid for i in self.instances if i.pid]

    def close(self, grace: float = 10.0) -> None:
        """Stop every instance process (and what it started), waiting for busy ones to come back."""
        self.closing = True
        for instance in self.instances:
            instance.close()  # also ends invocations in flight: they return promptly with an error
        # A request thread may have picked an instance just before `closing` was set and started a
        # new process after the close above: take every instance back and close it again.
        deadline = time.monotonic() + grace
        for _ in self.instances:
            try:
                instance = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            instance.close()
        for instance in self.instances:
            instance.close()


class CodeWatcher(threading.Thread):
    """Polls the code folder's ``.py`` files and calls ``on_change`` with the changed paths."""

    def __init__(self, root: str, on_change: Callable[[List[str]], None], interval: float = 0.5) -> None:
        super().__init__(name="fglocal-watch", daemon=True)
        self.root = root
        self.on_change = on_change
        self.interval = interval
        self.stopped = threading.Event()
        self.last = self.snapshot()

    def snapshot(self) -> Dict[str, Tuple[int, int]]:
        """Modification time and size of each Python file under the root (caches, venvs, dot-folders skipped)."""
        found: Dict[str, Tuple[int, int]] = {}
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [
                d
                for d in dirs
                if not d.startswith(".")
                and d not in ("__pycache__", "node_modules")
                and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
            ]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    found[os.path.relpath(path, self.root)] = (info.st_mtime_ns, info.st_size)
        return found

    def run(self) -> None:
        """Compare snapshots until stopped."""
        while not self.stopped.wait(self.interval):
            current = self.snapshot()
            if current != self.last:
                changed = sorted(
                    k for k in set(current) | set(self.last) if current.get(k) != self.last.get(k)
                )
                self.last = current
                self.on_change(changed)


class ApigServer(ThreadingHTTPServer):
    """The HTTP server; holds what request handlers share."""

    daemon_threads = True
    allow_reuse_address = True

    pool: InstancePool  # set once the port is known (it names the instances' log folders)

    def __init__(self, port: int, api_id: str, routes: Sequence[apig.Route], stage: str, quiet: bool) -> None:
        super().__init__((HOST, port), ApigRequestHandler)
        self.api_id = api_id
        self.routes = list(routes)
        self.stage = stage
        self.quiet = quiet


class ApigRequestHandler(BaseHTTPRequestHandler):
    """One HTTP connection: each request is one invocation."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY the second waits for the client's
    # delayed ACK (~40 ms on Linux) on a keep-alive connection.
    disable_nagle_algorithm = True
    server_version = "fglocal-apig"
    server: ApigServer

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own access log: each request prints its summary line instead."""

    def _read_body(self) -> Optional[bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True  # the rest of the body is not read
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            # Read what the client sends before answering, so that it sees the answer rather than a
            # broken connection (up to a bound; beyond it the connection is closed).
            left = length if length <= _DRAIN_LIMIT else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            self.close_connection = length > _DRAIN_LIMIT
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        server = self.server
        request_hex = os.urandom(16).hex()
        # The function's request ID is the gateway's, in UUID form, so the two are easy to match.
        h = request_hex
        function_request_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        result = None
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            body = b""
        if body is None:
            response = apig.error_response(
                apig.TOO_LARGE_STATUS,
                "the request body is over the 6 MB limit of a synchronous call",
                request_hex,
            )
        else:
            event = apig.build_event(
                self.command,
                self.path,
                self.headers.items(),
                body,
                request_id=request_hex,
                api_id=server.api_id,
                client_ip=self.client_address[0],
                stage=server.stage,
                routes=server.routes,
                port=server.server_address[1],
            )
            try:
                result = server.pool.invoke(event, function_request_id)
                response = apig.response_from_result(result.body, result.error, request_hex)
            except Exception as exc:  # the server is stopping, or the instance could not start
                response = apig.error_response(503, f"the function could not run: {exc}", request_hex)
        self._send(response, request_hex, function_request_id)
        self._report(response, result, (time.perf_counter() - started) * 1000.0)

    def _send(self, response: apig.GatewayResponse, request_hex: str, function_request_id: str) -> None:
        # Status line, headers and body go out in one write (one TCP segment for small responses).
        phrase = self.responses.get(response.status, ("",))[0]
        head = [
            f"{self.protocol_version} {response.status} {phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                head.append(f"{name}: {value}")
        head.append(f"Content-Length: {len(response.body)}")
        head.append(f"X-Request-Id: {request_hex}")
        head.append(f"X-Fglocal-Request-Id: {function_request_id}")
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace")
        if self.command != "HEAD":
            data += response.body
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _report(self, response: apig.GatewayResponse, result: Any, total_ms: float) -> None:
        lines = []
        if result is not None and not self.server.quiet:
            for line in result.logs.splitlines():
                if not any(marker in line for marker in _LOG_MARKERS):
                    lines.append("  " + line)
            if result.logs_truncated:
                lines.append(f"  (log truncated; full log: {result.log_file})")
        summary = f"{self.command} {self.path} -> {response.status}  {total_ms:.1f} ms"
        if result is not None:
            s = result.summary
            summary += (
                f"  (function {s['durationMs']:.3f} ms, billed {s['billedDurationMs']} ms, "
                f"memory {s['maxMemoryUsedMB']:.1f}/{s['memorySizeMB']} MB, request {result.request_id})"
            )
        lines.append(summary)
        if response.reason:
            lines.append(f"  gateway: {response.reason}")
        lines += [f"  warning: {w}" for w in response.warnings]
        _emit("\n".join(lines))


def _stop_on_first_signal() -> None:
    """Make Ctrl+C / SIGTERM stop the server once; later ones are ignored so that cleanup finishes."""

    def stop(signum: int, frame: Any) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) != signal.SIG_IGN:  # a parent that ignores Ctrl+C is obeyed
            signal.signal(sig, stop)


def api_id_for(code_root: str) -> str:
    """Derive a stable APIG ``apiId`` for a function folder (the same across restarts)."""
    return hashlib.md5(os.path.abspath(code_root).encode("utf-8")).hexdigest()


def register(subparsers: Any) -> None:
    """Add ``fglocal serve`` to the CLI."""
    from fglocal.cli import add_function_options

    parser = subparsers.add_parser(
        "serve",
        help="serve the function over HTTP on 127.0.0.1 as an APIG trigger would",
        description=(
            "Serve the function on http://127.0.0.1:PORT/ as its APIG trigger would: each request becomes "
            "an APIG event (body base64-encoded), the handler's {statusCode, headers, body, isBase64Encoded} "
            "becomes the response. A failure or a result that is not an APIG response gets a 502, a timeout "
            "a 504, with the reason in the body. One warm instance serves requests in turn (--instances N "
            "for more). Ctrl+C stops the server and its instances."
        ),
    )
    parser.add_argument("entry", nargs="?", metavar="ENTRY", help="handler entry (default from fglocal.json)")
    add_function_options(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        metavar="N",
        help="instances serving requests in parallel (default 1)",
    )
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="TEMPLATE",
        help="API path with parameters, e.g. /users/{id} or /files/{path+}, for pathParameters (repeatable)",
    )
    parser.add_argument("--stage", default=apig.DEFAULT_STAGE, help="requestContext.stage (default RELEASE)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line of each request")
    parser.add_argument(
        "--no-reload",
        action="store_true",
        help="keep instances when the code changes (default: restart them)",
    )
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """``fglocal serve``: serve until Ctrl+C (exit 0), or exit 2 on bad options."""
    from fglocal.cli import UsageError, load_function_config

    if args.instances < 1:
        raise UsageError("--instances must be at least 1")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be 0-65535")
    try:
        routes = [apig.compile_route(t) for t in args.route]
    except apig.RouteError as exc:
        raise UsageError(str(exc)) from None
    config = load_function_config(args, args.entry)
    try:
        server = ApigServer(args.port, api_id_for(str(config.code_root)), routes, args.stage, args.quiet)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {HOST}:{args.port}: {exc.strerror} (choose another --port; 0 picks a free one)"
        ) from None
    port = server.server_address[1]
    pool = server.pool = InstancePool(config, args.instances, args.log_dir, tag=f"serve-{port}")
    plural = "s" if args.instances > 1 else ""
    _emit(
        f"fglocal serve: {config.handler} on http://{HOST}:{port}/ ({args.instances} instance{plural}, "
        f"timeout {config.timeout:g} s, memory {config.memory_size} MB); Ctrl+C to stop"
    )
    watcher = None
    if not args.no_reload:

        def changed(paths: List[str]) -> None:
            pool.recycle()
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            _emit(f"code changed ({shown}): instances restart on the next request")

        watcher = CodeWatcher(str(config.code_root), changed)
        watcher.start()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="fglocal-serve"
    )
    thread.daemon = True
    _stop_on_first_signal()
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stopped.set()
        server.shutdown()
        server.server_close()
        pool.close()
    _emit("fglocal serve: stopped")
    sys.stdout.flush()
    return 0
