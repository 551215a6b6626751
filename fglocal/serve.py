"""``fglocal serve``: the function behind a local HTTP server on 127.0.0.1 that acts as its APIG trigger.

Each request becomes an APIG event (:mod:`fglocal.apig`); the handler's APIG response becomes the
HTTP response. Warm instances (:class:`fglocal.instance.Instance`) serve the events one at a time,
as on the platform: with ``--instances 1`` (the default) concurrent requests wait their turn; with
more, up to N run at once, each instance started (with its initializer) when first needed. A
failing or timed-out handler gets the gateway's error answer and the server goes on. Ctrl+C stops
the server and every instance process.

HTTP itself is read by :mod:`fglocal.http1` (strict framing, UTF-8 decoding, deadlines); requests
are served only when their ``Host`` is a loopback name (DNS rebinding), one thread per connection,
at most ``MAX_CONNECTIONS`` at once. Limits and refusals are listed in ``fglocal/TRIGGERS.md``.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import queue
import re
import signal
import socket
import socketserver
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from fglocal import apig, http1
from fglocal.result import MAX_BODY_BYTES

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_DRAIN_LIMIT = 64 * 1024 * 1024  # an oversize body up to this is read (and dropped) before the 413
SERVER_NAME = "fglocal-apig"
MAX_CONNECTIONS = 128  # open connections; more get a 503 at once
MAX_REFUSALS = 16  # connections being answered that 503 at once; beyond them, new ones are closed unanswered
REFUSAL_SECONDS = 2.0  # how long a refused connection's request is waited for before the 503
IDLE_TIMEOUT = 60.0  # seconds a keep-alive connection may wait for its next request
HEAD_TIMEOUT = 30.0  # seconds from a request's first byte to the end of its head, else 408
BODY_TIMEOUT = 120.0  # seconds for the body to arrive (and for a response to be taken), else 408
LINGER_SECONDS = 2.0  # after an error answer, how long unread input is drained before closing
APIG_DEDICATED_BODY_BYTES = 4 * 1024 * 1024  # Huawei's dedicated-gateway trigger page: 4 MB per body
_LOG_MARKERS = (" Start invoke request '", " Finish invoke request '")


def emit(text: str) -> None:
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


# Log folders of earlier serve runs kept beside a new one: each run makes ``serve-<port>-<n>``, and runs on
# ever-new ports (``--port 0``, tests, editors picking a free port) would otherwise pile up forever.
SERVE_FOLDERS_KEPT = 20
_SERVE_FOLDER = re.compile(r"^serve-[0-9]+-[0-9]+$")


def prune_serve_folders(base: str, keep: int = SERVE_FOLDERS_KEPT) -> None:
    """Remove all but the ``keep`` most recently changed ``serve-<port>-<n>`` log folders of ``base``.

    Only folders of that exact name (never a symbolic link) and the regular files in them are removed.
    A serve still running whose folder is removed makes it again at its next invocation (an instance
    recreates a vanished log folder), and an invocation reads its own log through an open descriptor, so
    removal never breaks a run. Errors (a concurrent prune, a file in use elsewhere) are skipped.
    """
    import stat as stats

    found = []
    try:
        with os.scandir(base) as entries:
            for entry in entries:
                if not _SERVE_FOLDER.match(entry.name):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stats.S_ISDIR(info.st_mode):
                    found.append((info.st_mtime, entry.path))
    except OSError:
        return
    found.sort(reverse=True)
    for _, folder in found[keep:]:
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        try:
                            os.unlink(entry.path)
                        except OSError:
                            pass
            os.rmdir(folder)
        except OSError:
            continue


class InstancePool:
    """Up to ``size`` warm instances; each serves one event at a time, callers queue for a free one."""

    def __init__(
        self,
        config: Any,
        size: int = 1,
        log_dir: Optional[str] = None,
        tag: str = "serve",
        interpreter: Any = None,
    ) -> None:
        from fglocal.instance import Instance, default_log_dir
        from fglocal.interpreters import resolve_interpreter

        # Every instance runs on the function's runtime interpreter (resolved once).
        interpreter = interpreter or resolve_interpreter(config)

        # Each instance keeps its logs in a folder of its own: an instance prunes old logs in its
        # folder, and must not remove another's log while that one is being written.
        base = log_dir or default_log_dir()
        prune_serve_folders(base)
        self.instances = [
            Instance(config, log_dir=os.path.join(base, f"{tag}-{n}"), interpreter=interpreter)
            for n in range(1, size + 1)
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


class ApigServer(socketserver.ThreadingTCPServer):
    """The HTTP server: one thread per connection (up to MAX_CONNECTIONS); holds what they share."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    pool: InstancePool  # set once the port is known (it names the instances' log folders)

    def __init__(
        self,
        port: int,
        api_id: str,
        routes: Sequence[apig.Route],
        stage: str,
        quiet: bool,
        head_timeout: float = HEAD_TIMEOUT,
    ) -> None:
        super().__init__((HOST, port), ApigConnection)
        self.head_timeout = head_timeout
        self.api_id = api_id
        self.routes = list(routes)
        self.stage = stage
        self.quiet = quiet
        self.closing = False
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._refusals = threading.BoundedSemaphore(MAX_REFUSALS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a thread of its own, or answer 503 when too many are open."""
        if self._slots.acquire(blocking=False):
            super().process_request(request, client_address)
        elif self._refusals.acquire(blocking=False):
            threading.Thread(target=self._refuse, args=(request,), daemon=True).start()
        else:  # a flood: beyond the refusals being answered, connections are closed unanswered
            self.shutdown_request(request)

    def _refuse(self, sock: socket.socket) -> None:
        """Answer 503 after reading the request (closing on unread input would reset the connection)."""
        reason = f"over {MAX_CONNECTIONS} connections are open; try again"
        try:
            try:
                reader = http1.Reader(sock)
                if reader.wait_for_request(time.monotonic() + REFUSAL_SECONDS):
                    reader.read_head(time.monotonic() + REFUSAL_SECONDS)
            except (http1.HttpError, http1.ClientGone, OSError):
                pass
            response = apig.error_response(503, reason, os.urandom(16).hex())
            try:
                sock.settimeout(REFUSAL_SECONDS)
                sock.sendall(_response_bytes(response, None, close=True))
            except OSError:
                pass
            _linger(sock)
            self.shutdown_request(sock)
            emit(f"(connection not served) -> 503\n  gateway: {reason}")
        finally:
            self._refusals.release()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def _response_bytes(
    response: apig.GatewayResponse,
    command: Optional[str],
    close: bool,
    extra: Sequence[Tuple[str, str]] = (),
) -> bytes:
    """Status line, headers and body of a response, ready for one write."""
    status = response.status
    own = {name.lower() for name, _ in response.headers}
    head: List[Tuple[str, str]] = []
    if "server" not in own:  # the function's Server and Date win over the gateway's
        head.append(("Server", SERVER_NAME))
    if "date" not in own:
        head.append(("Date", email.utils.formatdate(usegmt=True)))
    head += [*response.headers, *extra]
    if status not in apig.BODILESS_STATUSES:
        head.append(("Content-Length", str(len(response.body))))
    if close:
        head.append(("Connection", "close"))
    data = http1.response_head(status, head)
    if command != "HEAD" and status not in apig.BODILESS_STATUSES:
        data += response.body
    return data


class ApigConnection(socketserver.BaseRequestHandler):
    """One HTTP connection: requests in a row (keep-alive), each one invocation."""

    server: ApigServer
    _request_line = ""  # the current request's first line, for the log line of a refused request

    def handle(self) -> None:
        """Serve requests until the client closes, asks to close, or sends one that cannot be framed."""
        sock = self.request
        try:
            # Headers and body leave in one write; without TCP_NODELAY a small write may wait for
            # the client's delayed ACK (~40 ms on Linux) on a keep-alive connection.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        reader = http1.Reader(sock)
        try:
            while not self.server.closing:
                if not reader.wait_for_request(time.monotonic() + IDLE_TIMEOUT):
                    return
                if not self._one_request(reader):
                    _linger(sock)
                    return
        except (http1.ClientGone, OSError):
            return  # the client left or stopped sending while idle: no one to answer

    def _one_request(self, reader: http1.Reader) -> bool:
        """Read, run and answer one request; True when the connection can carry another."""
        started = time.perf_counter()
        request_hex = os.urandom(16).hex()
        # The function's request ID is the gateway's, in UUID form, so the two are easy to match.
        h = request_hex
        function_request_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        request: Optional[http1.Request] = None
        self._request_line = ""
        try:
            head = reader.read_head(time.monotonic() + self.server.head_timeout)
            self._request_line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
            request = http1.parse_head(head)
            _check_host(request)
            body = reader.read_body(
                request, MAX_BODY_BYTES, _DRAIN_LIMIT, time.monotonic() + BODY_TIMEOUT, self._send_continue
            )
        except http1.HttpError as exc:
            response = apig.error_response(exc.status, exc.reason, request_hex)
            self._send(response, request, request_hex, function_request_id, close=True)
            self._report(request, response, None, started)
            return False
        except socket.timeout:
            seconds = self.server.head_timeout if request is None else BODY_TIMEOUT
            response = apig.error_response(
                408, f"the request did not arrive in full within {seconds:g} s", request_hex
            )
            self._send(response, request, request_hex, function_request_id, close=True)
            self._report(request, response, None, started)
            return False
        server = self.server
        result = None
        event = apig.build_event(
            request.method,
            request.target,
            request.headers,
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
        if len(body) > APIG_DEDICATED_BODY_BYTES:
            response.warnings.append(
                f"the request body is {len(body):,} bytes: a dedicated APIG gateway takes at most 4 MB"
            )
        close = not request.keep_alive or server.closing
        self._send(response, request, request_hex, function_request_id, close=close)
        self._report(request, response, result, started)
        return not close

    def _send(
        self,
        response: apig.GatewayResponse,
        request: Optional[http1.Request],
        request_hex: str,
        function_request_id: str,
        close: bool,
    ) -> None:
        extra = [("X-Request-Id", request_hex), ("X-Fglocal-Request-Id", function_request_id)]
        if not close and request is not None and request.version < (1, 1):
            extra.append(("Connection", "keep-alive"))
        data = _response_bytes(response, request.method if request else None, close, extra)
        try:
            self.request.settimeout(BODY_TIMEOUT)
            self.request.sendall(data)
        except OSError:
            pass  # the client left: its loss

    def _send_continue(self) -> None:
        self.request.settimeout(BODY_TIMEOUT)
        self.request.sendall(http1.CONTINUE)

    def _report(
        self, request: Optional[http1.Request], response: apig.GatewayResponse, result: Any, started: float
    ) -> None:
        total_ms = (time.perf_counter() - started) * 1000.0
        lines = []
        if result is not None and not self.server.quiet:
            for line in result.logs.splitlines():
                if not any(marker in line for marker in _LOG_MARKERS):
                    lines.append("  " + line)
            if result.logs_truncated:
                lines.append(f"  (log truncated; full log: {result.log_file})")
        if request is not None:
            what = f"{request.method} {http1.shown(request.target, 200)}"
        else:
            what = http1.shown(http1.redacted(self._request_line), 200) or "(incomplete request)"
        summary = f"{what} -> {response.status}  {total_ms:.1f} ms"
        if result is not None:
            s = result.summary
            summary += (
                f"  (function {s['durationMs']:.3f} ms, billed {s['billedDurationMs']} ms, "
                f"memory {s['maxMemoryUsedMB']:.1f}/{s['memorySizeMB']} MB, "
            )
            # The interpreter that ran it (the banner gives its path): on every request, errors too.
            if result.python:
                summary += f"Python {result.python['version']}, "
            summary += f"request {result.request_id})"
        lines.append(summary)
        notes = ([f"gateway: {response.reason}"] if response.reason else []) + [
            f"warning: {w}" for w in response.warnings
        ]
        lines += ["  " + note for note in notes]
        emit("\n".join(lines))
        if result is not None and result.log_file and notes:
            # The invocation's own log says why the gateway answered as it did.
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            _append(result.log_file, "".join(f"{stamp} {note}\n" for note in notes))


def _linger(sock: socket.socket) -> None:
    """Close after an answer without resetting the connection under the client's read.

    Closing a socket with unread input makes the kernel reset the connection, and the client may
    lose the answer; so the sending side is shut and input drained (bounded) until the client closes.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(64 * 1024):
                break
    except OSError:
        pass


def _check_host(request: http1.Request) -> None:
    """Serve only requests addressed to a loopback name: a web page must not reach the function through DNS rebinding."""
    authority = http1.absolute_authority(request.target)
    host = authority if authority is not None else request.header("host")
    if host is not None and not http1.is_loopback_host(host):
        # Shown only when it looks like a host name: anything else (user:password@...) is not repeated.
        named = f"Host {host!r}" if re.fullmatch(r"[A-Za-z0-9.:\[\]_-]{1,100}", host) else "the Host"
        raise http1.HttpError(
            403,
            f"{named} is not a loopback name or address; fglocal serve answers only "
            "localhost, *.localhost, 127.0.0.0/8 and [::1] (protection against DNS rebinding)",
        )


def _append(path: str, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError:
        return
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    except OSError:
        pass
    finally:
        os.close(fd)


def stop_on_first_signal() -> None:
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
