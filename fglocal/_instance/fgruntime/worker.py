"""The instance process: loads the user's code once and serves events one at a time.

Runs on the function's runtime (Python 2.7 and 3.6+). It talks to its supervisor
(:mod:`fglocal.instance`) with JSON lines over two pipes: requests come in (``setup``, ``init``,
``invoke``), one reply goes out per request. Each invocation's stdout and stderr (file descriptors 1
and 2, so C-level writes, ``print`` statements and child processes are captured too) are pointed at
that invocation's log file. Spawned as ``<runtime python> fglocal/_instance/run_worker.py READ_FD
WRITE_FD``; an instance forked from the tool (same interpreter) calls :func:`serve` directly.
"""

from __future__ import absolute_import

import json
import os
import sys
import threading

from .channel import (  # also the instance side's names for callers of worker
    CLOCK_SIZE,
    STATE_OK,
    STATE_PIPE_LOST,
    SharedClock,
    prepare_subreaper,
    set_child_subreaper,
    write_line,
)
from .compat import PY2, native, perf_counter, to_text
from .context import Context, Credentials
from .loader import LoadError, check_code_root, load_entry, user_stack_trace
from .py2source import install_import_check
from .result import INITIALIZATION_ERROR, INVOCATION_ERROR, encode_return_value, error_object

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple, Type

# Under this recursion limit the runtime's own work (encoding the reply, formatting a traceback) can
# fail; a function that lowers it gets its own value back before each of its calls.
RUNTIME_RECURSION_LIMIT = 1000


def _peak_memory_mb():  # type: () -> float
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


def _reset_peak_memory():  # type: () -> None
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


class Worker(object):
    """State of one instance: its configuration, loaded functions and the log it writes to."""

    def __init__(self, setup, pipes=()):  # type: (Dict[str, Any], tuple) -> None
        self.setup = setup
        self.code_root = native(setup["codeRoot"])  # type: str
        self.clock = SharedClock(native(setup["clockFile"]))
        self.handler = None  # type: Optional[Callable[..., Any]]
        self.initializer = None  # type: Optional[Callable[..., Any]]
        credentials = dict((native(k), v) for k, v in setup.get("credentials", {}).items())
        self.credentials = Credentials(**credentials)
        self.log_path = ""
        self.call_thread = None  # type: Optional[CallThread]
        # What the runtime needs intact between calls, whatever the function does to it:
        self.pipes = [(fd, _identity(fd)) for fd in pipes]  # its two pipes to the supervisor
        self.runtime_path = list(sys.path)  # for the runtime's own lazy imports (traceback)
        self.stdout = sys.stdout  # the capture streams on fds 1 and 2 (see restore_streams)
        self.stderr = sys.stderr
        self.children_cpu = _children_cpu()
        self.children_peak_kb = 0

    def _context(self, request_id):  # type: (str) -> Context
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

    def redirect_output(self, log_path):  # type: (str) -> None
        """Point fds 1 and 2 (and so print, logging, C code and child processes) at ``log_path``.

        Done for every request, whatever the previous call did: closed fds 0-2, another file
        dup2'ed onto them, a closed or replaced ``sys.stdout``/``sys.stderr``.
        """
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # closed, or replaced by something without a working flush
                pass
        try:
            os.fstat(0)
        except OSError:  # the function closed stdin: give it /dev/null again (and keep fd 0 off the log)
            os.open(os.devnull, os.O_RDONLY)
        log_path = native(log_path)
        # Never through a symbolic link: in a shared --log-dir one could be planted at the path.
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        # With fd 1 or 2 closed, the log itself may have been given one of them.
        if fd != 1:
            os.dup2(fd, 1)
        if fd != 2:
            os.dup2(fd, 2)
        if fd > 2:
            os.close(fd)
        self.log_path = log_path
        self.restore_streams()

    def restore_streams(self):  # type: () -> None
        """Give ``sys.stdout``/``sys.stderr`` back their capture streams if the function replaced or closed them."""
        if sys.stdout is not self.stdout or self.stdout.closed:
            if self.stdout.closed:
                self.stdout = _capture_stream(1)
            sys.stdout = self.stdout
        if sys.stderr is not self.stderr or self.stderr.closed:
            if self.stderr.closed:
                self.stderr = _capture_stream(2)
            sys.stderr = self.stderr

    def check_pipes(self):  # type: () -> None
        """Stop the instance, saying why, if the function closed or replaced its pipes to the supervisor.

        A handler that runs ``os.closerange(3, 1000)`` (or dup2s a file onto fd 3) takes the runtime's
        connection away; reading or writing that fd would hang or talk to the wrong file. The state
        goes to the shared clock (a memory mapping, which closing fds does not touch) and the
        supervisor reports it; a line in the log says the same.
        """
        for fd, identity in self.pipes:
            if _identity(fd) != identity:
                self.clock.set_state(STATE_PIPE_LOST)
                try:
                    log = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
                    os.write(
                        log,
                        (
                            "fglocal: the function closed or replaced file descriptor %d, the runtime's pipe "
                            "to its supervisor (e.g. with os.closerange); this instance cannot continue\n"
                            % fd
                        ).encode("utf-8"),
                    )
                    os.close(log)
                except OSError:
                    pass
                os._exit(71)

    def stack_trace(self, tb):  # type: (Any) -> list
        """The user frames of traceback ``tb``, imported with the runtime's ``sys.path`` (the function may have emptied it)."""
        user_path = sys.path
        sys.path = self.runtime_path
        try:
            return user_stack_trace(tb, self.code_root)
        finally:
            sys.path = user_path

    def children_peak_mb(self):  # type: () -> float
        """Peak memory of a child process that ended during the last call (0 when none did), in MB."""
        cpu = _children_cpu()
        if cpu == self.children_cpu:
            return 0.0  # no child was reaped (none used CPU): skip importing resource
        self.children_cpu = cpu
        import resource

        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if peak_kb <= self.children_peak_kb:
            return 0.0
        self.children_peak_kb = peak_kb
        return peak_kb / 1024.0

    def load(self):  # type: () -> Dict[str, Any]
        """Import the handler and initializer modules."""
        files = self.setup["entryFiles"]
        try:
            check_code_root(self.code_root)
            # Under python2.7 on a Python 3 interpreter, the code folder's imports fail as Python 2's do.
            install_import_check(self.code_root, self.setup.get("runtime", ""))
            self.handler = load_entry(self.setup["handler"], self.code_root, "handler", files["handler"])
            if self.setup.get("initializer"):
                self.initializer = load_entry(
                    self.setup["initializer"], self.code_root, "initializer", files["initializer"]
                )
        except LoadError as exc:
            return {"error": exc.error}
        return {"error": None}

    def initialize(self, request_id):  # type: (str) -> Dict[str, Any]
        """Run the initializer with a fresh Context."""
        assert self.initializer is not None
        outcome = self._call(self.initializer, (self._context(request_id),))
        if outcome["exception"] is not None:
            exc = outcome["exception"]
            message = INITIALIZATION_ERROR + _describe(exc)
            error = error_object(message, type(exc).__name__, self.stack_trace(outcome["traceback"]))
            return {"error": error, "durationMs": outcome["durationMs"]}
        return {"error": None, "durationMs": outcome["durationMs"]}

    def invoke(self, request_id, event):  # type: (str, Any) -> Dict[str, Any]
        """Call the handler with ``event`` and a fresh Context; apply the return-value rules."""
        assert self.handler is not None
        _reset_peak_memory()
        outcome = self._call(self.handler, (event, self._context(request_id)))
        exc = outcome["exception"]
        error = None  # type: Optional[Dict[str, Any]]
        if exc is not None:
            message = INVOCATION_ERROR + _describe(exc)
            body, content_type = "", None  # type: Tuple[str, Optional[str]]
            error = error_object(message, type(exc).__name__, self.stack_trace(outcome["traceback"]))
        else:
            body, content_type, error = encode_return_value(outcome["value"])
        return {
            "body": body,
            "contentType": content_type,
            "error": error,
            "durationMs": outcome["durationMs"],
            "maxMemoryUsedMB": _peak_memory_mb(),
            # A child that ended during the call: the supervisor adds it to the tree's peak.
            "childPeakMB": self.children_peak_mb(),
        }

    def start_call_thread(self):  # type: () -> CallThread
        """The thread that runs the function's calls, started at the first need (or ahead of it)."""
        if self.call_thread is None:
            self.call_thread = CallThread()
        return self.call_thread

    def _call(self, func, args):  # type: (Callable[..., Any], tuple) -> Dict[str, Any]
        outcome = self.start_call_thread().call(func, args)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # the function closed or replaced it: restored before the next call
                pass
        self.check_pipes()
        return outcome


class CallThread(object):
    """The one thread that runs the user's functions, one call at a time.

    The platform calls functions off the main thread (so ``asyncio.get_event_loop()`` raises there
    and code must create its own loop); doing the same makes code behave here as it will there. One
    long-lived thread rather than one per call keeps a warm invocation's overhead to a lock hand-off.
    """

    def __init__(self):  # type: () -> None
        self._start = threading.Lock()
        self._start.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._job = None  # type: Any
        self._outcome = {}  # type: Dict[str, Any]
        self._pid = os.getpid()
        self._user_recursion_limit = sys.getrecursionlimit()
        thread = threading.Thread(target=self._serve, name="fg-invoke")
        thread.daemon = True  # Thread(daemon=...) is 3.3+
        thread.start()

    def call(self, func, args):  # type: (Callable[..., Any], tuple) -> Dict[str, Any]
        """Run ``func(*args)`` on the thread; the outcome holds value, exception, traceback and durationMs."""
        self._job = (func, args)
        self._start.release()
        self._done.acquire()
        return self._outcome

    def _serve(self):  # type: () -> None
        while True:
            self._start.acquire()
            func, args = self._job
            outcome = {"value": None, "exception": None, "traceback": None}  # type: Dict[str, Any]
            _set_recursion_limit(self._user_recursion_limit)  # the function's own, if it set one
            start = perf_counter()
            try:
                outcome["value"] = func(*args)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt are failures too
                outcome["exception"] = exc
                outcome["traceback"] = sys.exc_info()[2]  # exc.__traceback__ is 3.0+
            outcome["durationMs"] = (perf_counter() - start) * 1000.0
            # The runtime's own work after the call (encoding the reply, formatting the traceback)
            # needs the ordinary limit; set here, where this thread's stack is shallow.
            self._user_recursion_limit = sys.getrecursionlimit()
            if self._user_recursion_limit < RUNTIME_RECURSION_LIMIT:
                _set_recursion_limit(RUNTIME_RECURSION_LIMIT)
            if os.getpid() != self._pid:
                # A child the function forked (os.fork) returned from it: it is not the instance
                # and must not answer the supervisor. Its main thread is gone, so it would wait
                # here forever; it ends instead, without running the parent's exit handlers.
                os._exit(1 if outcome["exception"] is not None else 0)
            self._outcome = outcome
            self._job = None
            self._done.release()


def _describe(exc):  # type: (BaseException) -> str
    if isinstance(exc, SystemExit):
        return "the function called sys.exit(%s)" % to_text(repr(exc.code))
    text = to_text(exc)
    return text if text else type(exc).__name__


def _set_recursion_limit(limit):  # type: (int) -> None
    if sys.getrecursionlimit() != limit:
        try:
            sys.setrecursionlimit(limit)
        except (RuntimeError, ValueError):  # lower than the current depth: leave it
            pass


def _identity(fd):  # type: (int) -> tuple
    """What file ``fd`` is (device, inode), or () when it is closed."""
    try:
        st = os.fstat(fd)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino)


def _children_cpu():  # type: () -> tuple
    """CPU time of the ended (waited-for) children: changes when a child that ran has been reaped."""
    times = os.times()
    return (times[2], times[3])


class _Py2Stream(object):  # pragma: no cover - Python 2.7
    """sys.stdout/sys.stderr on Python 2.7: takes ``str`` and ``unicode`` (UTF-8), line-buffered.

    A plain 2.7 file refuses non-ASCII ``unicode`` and an ``io`` text stream refuses ``str``; print
    statements write both.
    """

    encoding = "utf-8"
    errors = "backslashreplace"

    def __init__(self, fd):  # type: (int) -> None
        self._fd = fd
        self._pending = b""
        self.softspace = 0  # the print statement keeps its state here
        self.closed = False

    def write(self, text):  # type: (Any) -> None
        if not isinstance(text, bytes):
            text = to_text(text).encode("utf-8", "backslashreplace")
        self._pending += text
        if b"\n" in text or len(self._pending) > 8192:
            self.flush()

    def writelines(self, lines):  # type: (Any) -> None
        for line in lines:
            self.write(line)

    def flush(self):  # type: () -> None
        data, self._pending = self._pending, b""
        while data:
            data = data[os.write(self._fd, data) :]

    def fileno(self):  # type: () -> int
        return self._fd

    def close(self):  # type: () -> None
        self.flush()
        self.closed = True  # the fd stays open: the runtime restores a stream before the next call

    def isatty(self):  # type: () -> bool
        return False


def _capture_stream(fd):  # type: (int) -> Any
    """A text stream on fd 1 or 2 for the function's output; line-buffered so that prints and the log stay in order."""
    if PY2:  # pragma: no cover - Python 2.7
        return _Py2Stream(fd)
    return open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)


def _prepare_process(setup):  # type: (Dict[str, Any]) -> None
    """Make this process look like a FunctionGraph instance: environment, paths, cwd."""
    env = os.environ
    for name in setup.get("scrubEnv", ()):
        env.pop(native(name), None)
    for key, value in setup["environment"].items():
        env[native(key)] = native(value)
    code_root = native(setup["codeRoot"])
    # The code folder goes first on sys.path, as on the platform. The folder Python put first for the
    # tool itself (the current folder for `-m`, the script's folder for a console script or for
    # run_worker.py) is dropped, so that nothing of the tool's surroundings shadows user modules; the
    # rest (stdlib, site-packages, PYTHONPATH) stays.
    launch_dirs = set(
        [
            "",
            os.getcwd(),
            os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else "",
        ]
    )
    rest = sys.path[1:] if sys.path and sys.path[0] in launch_dirs else sys.path[:]
    sys.path[:] = [code_root] + [p for p in rest if p != code_root]
    os.chdir(code_root)
    # Fresh streams on fds 1 and 2: the supervisor's sys.stdout may be anything (pytest's capture,
    # a notebook's widget) and the function's output must reach the invocation's log. Line
    # buffering keeps print(), stderr writes and the logger in order in the shared log file.
    sys.stdout = _capture_stream(1)
    sys.stderr = _capture_stream(2)


# Bound once: a function that monkeypatches json.dumps/json.loads changes what it gets, not the
# runtime's own messages.
_dumps = json.dumps
_loads = json.loads
try:
    _RECURSION_ERROR = RecursionError  # type: Type[BaseException]
except NameError:  # pragma: no cover - Python 2.7 raises RuntimeError for a too-deep structure
    _RECURSION_ERROR = RuntimeError


def _failed_reply(message, error_type):  # type: (str, str) -> Dict[str, Any]
    """A reply for a request the runtime itself could not carry out (every kind of request reads "error")."""
    return {
        "error": error_object(message, error_type),
        "body": "",
        "contentType": None,
        "durationMs": 0.0,
        "maxMemoryUsedMB": _peak_memory_mb(),
        "childPeakMB": 0.0,
    }


def _answer(worker, line, pipes):  # type: (Optional[Worker], bytes, tuple) -> tuple
    """Carry out one request line; returns the worker (created by ``setup``) and the reply."""
    try:
        request = _loads(line.decode("utf-8"))
    except _RECURSION_ERROR:
        message = (
            "the event is nested too deeply for the runtime's JSON decoder (about %d levels at most)"
            % (RUNTIME_RECURSION_LIMIT - 50)
        )
        return worker, _failed_reply(INVOCATION_ERROR + message, "InvalidEvent")
    op = request["op"]
    if op == "setup":  # the first request: become the instance and import the user's code
        _prepare_process(request["setup"])
        worker = Worker(request["setup"], pipes)
        worker.redirect_output(request["logFile"])
        reply = worker.load()
        worker.check_pipes()  # module-level code may have closed them too
        return worker, reply
    assert worker is not None, "setup must come first"
    worker.redirect_output(request["logFile"])
    if op == "init":
        return worker, worker.initialize(request["requestId"])
    return worker, worker.invoke(request["requestId"], request["event"])


def preload():  # type: () -> None
    """Import what :func:`serve` imports at every start, once: the runtime server's zygote, before it forks.

    Only what a spawned instance imports too (``_ctypes`` for the subreaper's prctl, on Python 3
    ``_posixsubprocess`` for the record of own children), so that a forked instance starts with the
    modules a spawned one has by then, and does not import them again on every cold start.
    """
    if sys.platform.startswith("linux") and prepare_subreaper():
        from .orphans import recorded_functions

        recorded_functions()


def serve(read_fd, write_fd):  # type: (int, int) -> None
    """Answer the supervisor's requests until it closes the pipe."""
    adopting = sys.platform.startswith("linux") and set_child_subreaper()
    if adopting:  # orphans of the function's processes stay in this instance's tree; reap the ended ones
        from .orphans import reap_adopted, record_own_children

        record_own_children()
    # Buffered: a raw readline() would read the pipe one byte per system call.
    reader = os.fdopen(read_fd, "rb")
    requests = iter(reader.readline, b"")
    worker = None  # type: Optional[Worker]
    pipes = (read_fd, write_fd)
    for line in requests:
        setting_up = worker is None
        try:
            worker, reply = _answer(worker, line, pipes)
        except Exception as exc:  # a failure of the runtime itself (the function's are in the reply)
            message = "the runtime could not carry out the request: %s: %s" % (
                type(exc).__name__,
                to_text(exc),
            )
            reply = _failed_reply(INVOCATION_ERROR + message, "RuntimeError")
        write_line(write_fd, _dumps(reply))
        if setting_up:
            if worker is not None and worker.handler is not None:
                # While the supervisor reads the reply and sends the first event: nothing of the
                # function runs in between, so it cannot tell from starting at the first call.
                worker.start_call_thread()
        elif adopting:
            # After a reply, off the invocation's path; not after the set-up's, which the first
            # event follows at once (what the module's import left is reaped after its reply).
            try:
                reap_adopted()
            except Exception:  # housekeeping must never take the instance down
                pass


def main():  # type: () -> None
    """Entry point of a spawned instance: ``run_worker.py READ_FD WRITE_FD``."""
    read_fd, write_fd = int(sys.argv[1]), int(sys.argv[2])
    status = 0
    try:
        serve(read_fd, write_fd)
    except BaseException:  # a fault of the runtime itself: say so in the invocation's log
        import traceback

        traceback.print_exc()
        status = 70
    finally:
        sys.stderr.flush()
        os._exit(status)
