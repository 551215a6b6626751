"""The instance process: loads the user's code once and serves events one at a time.

It talks to its supervisor (:mod:`fglocal.instance`) with JSON lines over two pipes: requests come in
(``load``, ``init``, ``invoke``), one reply goes out per request. Each invocation's stdout and stderr
(file descriptors 1 and 2, so C-level writes and child processes are captured too) are pointed at
that invocation's log file. Run as ``python -m fglocal._worker READ_FD WRITE_FD`` when spawned; a
forked instance calls :func:`serve` directly.
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import threading
import time

from fglocal.context import Context, Credentials
from fglocal.loader import LoadError, check_code_root, load_entry, user_stack_trace
from fglocal.result import INITIALIZATION_ERROR, INVOCATION_ERROR, encode_return_value, error_object

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional

# The shared clock: two doubles, the deadline (time.monotonic) and, while a debugger holds the
# invocation, the milliseconds that were left when it paused (-1 when running). The supervisor
# writes it; the worker's Context reads it, so paused time does not count against the timeout.
CLOCK_SIZE = 16  # two native doubles, read and written through memoryview.cast("d") (no struct import)


class SharedClock:
    """Deadline shared between supervisor and instance through a small memory-mapped file."""

    def __init__(self, path: str, create: bool = False) -> None:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
        try:
            if create:
                os.ftruncate(fd, CLOCK_SIZE)
            self._map = mmap.mmap(fd, CLOCK_SIZE)
            self._doubles = memoryview(self._map).cast("d")
        finally:
            os.close(fd)

    def set(self, deadline: float, paused_remaining_ms: float = -1.0) -> None:
        """Publish a new deadline (and the frozen remaining time while paused)."""
        # The paused value first: a reader that sees the new deadline must not see a stale pause.
        self._doubles[1] = paused_remaining_ms
        self._doubles[0] = deadline

    def get(self) -> tuple:
        """The (deadline, paused_remaining_ms) pair."""
        return self._doubles[0], self._doubles[1]

    def remaining_ms(self) -> int:
        """Milliseconds left before the deadline, frozen while paused."""
        deadline, paused = self.get()
        if paused >= 0:
            return int(paused)
        return max(0, int((deadline - time.monotonic()) * 1000))


def _peak_memory_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
        try:
            status = os.read(fd, 65536)
        finally:
            os.close(fd)
        start = status.index(b"VmHWM:") + 6
        return int(status[start : status.index(b"kB", start)]) / 1024.0
    except (OSError, ValueError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _reset_peak_memory() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so each invocation
    # reports its own peak rather than the instance's.
    try:
        fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
        try:
            os.write(fd, b"5")
        finally:
            os.close(fd)
    except OSError:
        pass


class Worker:
    """State of one instance: its configuration, loaded functions and the log it writes to."""

    def __init__(self, setup: Dict[str, Any]) -> None:
        self.setup = setup
        self.code_root: str = setup["codeRoot"]
        self.clock = SharedClock(setup["clockFile"])
        self.handler: Optional[Callable[..., Any]] = None
        self.initializer: Optional[Callable[..., Any]] = None
        self.credentials = Credentials(**setup.get("credentials", {}))
        self.log_path = ""
        self.call_thread: Optional[CallThread] = None

    def _context(self, request_id: str) -> Context:
        s = self.setup
        return Context(
            request_id=request_id,
            function_name=s["functionName"],
            version=s["version"],
            alias=s["alias"],
            package=s["app"],
            project_id=s["projectId"],
            memory_size=s["memorySize"],
            timeout_seconds=int(s["timeout"]),
            user_data=s["userData"],
            credentials=self.credentials,
            remaining_ms=self.clock.remaining_ms,
        )

    def redirect_output(self, log_path: str) -> None:
        """Point fds 1 and 2 (and so print, logging, C code and child processes) at ``log_path``."""
        if log_path == self.log_path:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        self.log_path = log_path

    def load(self) -> Dict[str, Any]:
        """Import the handler and initializer modules."""
        try:
            check_code_root(self.code_root)
            self.handler = load_entry(self.setup["handler"], self.code_root, "handler")
            if self.setup.get("initializer"):
                self.initializer = load_entry(self.setup["initializer"], self.code_root, "initializer")
        except LoadError as exc:
            return {"error": exc.error}
        return {"error": None}

    def initialize(self, request_id: str) -> Dict[str, Any]:
        """Run the initializer with a fresh Context."""
        assert self.initializer is not None
        outcome = self._call(self.initializer, (self._context(request_id),))
        if outcome["exception"] is not None:
            exc = outcome["exception"]
            message = f"{INITIALIZATION_ERROR}{_describe(exc)}"
            error = error_object(
                message, type(exc).__name__, user_stack_trace(exc.__traceback__, self.code_root)
            )
            return {"error": error, "durationMs": outcome["durationMs"]}
        return {"error": None, "durationMs": outcome["durationMs"]}

    def invoke(self, request_id: str, event: Any) -> Dict[str, Any]:
        """Call the handler with ``event`` and a fresh Context; apply the return-value rules."""
        assert self.handler is not None
        _reset_peak_memory()
        outcome = self._call(self.handler, (event, self._context(request_id)))
        exc = outcome["exception"]
        error: Optional[Dict[str, Any]]
        if exc is not None:
            message = f"{INVOCATION_ERROR}{_describe(exc)}"
            body, content_type = "", None
            error = error_object(
                message, type(exc).__name__, user_stack_trace(exc.__traceback__, self.code_root)
            )
        else:
            body, content_type, error = encode_return_value(outcome["value"])
        return {
            "body": body,
            "contentType": content_type,
            "error": error,
            "durationMs": outcome["durationMs"],
            "maxMemoryUsedMB": _peak_memory_mb(),
        }

    def _call(self, func: Callable[..., Any], args: tuple) -> Dict[str, Any]:
        if self.call_thread is None:
            self.call_thread = CallThread()
        outcome = self.call_thread.call(func, args)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        return outcome


class CallThread:
    """The one thread that runs the user's functions, one call at a time.

    The platform calls functions off the main thread (so ``asyncio.get_event_loop()`` raises there
    and code must create its own loop); doing the same makes code behave here as it will there. One
    long-lived thread rather than one per call keeps a warm invocation's overhead to a lock hand-off.
    """

    def __init__(self) -> None:
        self._start = threading.Lock()
        self._start.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._job: Any = None
        self._outcome: Dict[str, Any] = {}
        threading.Thread(target=self._serve, name="fg-invoke", daemon=True).start()

    def call(self, func: Callable[..., Any], args: tuple) -> Dict[str, Any]:
        """Run ``func(*args)`` on the thread; the outcome holds value, exception and durationMs."""
        self._job = (func, args)
        self._start.release()
        self._done.acquire()
        return self._outcome

    def _serve(self) -> None:
        while True:
            self._start.acquire()
            func, args = self._job
            outcome: Dict[str, Any] = {"value": None, "exception": None}
            start = time.perf_counter()
            try:
                outcome["value"] = func(*args)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt are failures too
                outcome["exception"] = exc
            outcome["durationMs"] = (time.perf_counter() - start) * 1000.0
            self._outcome = outcome
            self._job = None
            self._done.release()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the function called sys.exit({exc.code!r})"
    text = str(exc)
    return text if text else type(exc).__name__


def _prepare_process(setup: Dict[str, Any]) -> None:
    """Make this process look like a FunctionGraph instance: environment, paths, cwd."""
    env = os.environ
    for name in setup.get("scrubEnv", ()):
        env.pop(name, None)
    env.update(setup["environment"])
    code_root = setup["codeRoot"]
    # The code folder goes first on sys.path, as on the platform. The folder Python put first for the
    # tool itself (the current folder for `-m`, the script's folder for a console script) is dropped,
    # so that nothing of the tool's surroundings shadows user modules; the rest (stdlib, site-packages,
    # PYTHONPATH) stays.
    launch_dirs = {
        "",
        os.getcwd(),
        os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else "",
    }
    rest = sys.path[1:] if sys.path and sys.path[0] in launch_dirs else sys.path[:]
    sys.path[:] = [code_root] + [p for p in rest if p != code_root]
    os.chdir(code_root)
    # Fresh streams on fds 1 and 2: the supervisor's sys.stdout may be anything (pytest's capture,
    # a notebook's widget) and the function's output must reach the invocation's log. Line
    # buffering keeps print(), stderr writes and the logger in order in the shared log file.
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)


def write_line(fd: int, text: str) -> None:
    """Write ``text`` and a newline to the pipe ``fd`` completely (one JSON message)."""
    view = memoryview((text + "\n").encode("utf-8", "surrogatepass"))
    while view:
        view = view[os.write(fd, view) :]


def serve(read_fd: int, write_fd: int) -> None:
    """Answer the supervisor's requests until it closes the pipe."""
    # Buffered: a raw readline() would read the pipe one byte per system call.
    reader = os.fdopen(read_fd, "rb")
    requests = iter(reader.readline, b"")
    worker: Optional[Worker] = None
    for line in requests:
        request = json.loads(line)
        op = request["op"]
        if op == "setup":  # the first request: become the instance and import the user's code
            _prepare_process(request["setup"])
            worker = Worker(request["setup"])
            worker.redirect_output(request["logFile"])
            reply: Dict[str, Any] = worker.load()
        else:
            assert worker is not None, "setup must come first"
            worker.redirect_output(request["logFile"])
            if op == "init":
                reply = worker.initialize(request["requestId"])
            else:
                reply = worker.invoke(request["requestId"], request["event"])
        write_line(write_fd, json.dumps(reply))


def main() -> None:
    """Entry point of a spawned instance: ``python -m fglocal._worker READ_FD WRITE_FD``."""
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    try:
        serve(read_fd, write_fd)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
