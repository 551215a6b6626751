"""One function instance, supervised from outside: limits, logs and the three-part result.

The supervisor (this module, in the tool's process) starts the instance process (forked, spawned
as ``<runtime python> fglocal/_instance/run_worker.py``, or forked by the runtime server: see
:mod:`fglocal.runtime_server`), sends it events over a pipe and enforces the platform's limits
from outside: at the deadline or over the memory size it kills the instance's whole process group,
which also ends background processes the handler started, and the next event gets a fresh instance
(a cold start), as on the platform.
"""

from __future__ import annotations

import json
import os
import select

try:
    # The C module: the same functions and constants as `signal`, without building its IntEnums,
    # which costs the cold start ~0.7 ms.
    import _signal as signal
except ImportError:  # pragma: no cover - other Python implementations
    import signal  # type: ignore[no-redef]
import sys
import time

from fglocal import proctree
from fglocal._instance.fgruntime.channel import STATE_OK, STATE_PIPE_LOST, SharedClock, write_all, write_line
from fglocal.context import cpu_millicores
from fglocal.contract import entry_files
from fglocal.result import (
    INITIALIZATION_ERROR,
    MAX_BODY_BYTES,
    InvocationResult,
    error_object,
    make_summary,
    read_fd_tail,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

    from fglocal.config import FunctionConfig
    from fglocal.interpreters import Interpreter
    from fglocal.runtime_server import RemoteInstance

# How often the supervisor samples the instance's memory while it runs (seconds).
MEMORY_POLL_INTERVAL = 0.005
# The platform tries a failed initializer on up to 3 new instances; locally one attempt is shown,
# and every later event of that instance gets the same error (documented in the README).
LOG_FILES_KEPT = 200


RUN_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_instance", "run_worker.py")


# Packages of the kit's own tools: a PYTHONPATH folder holding one of them (an editor's bundle, which
# also holds fglocal) is the tool's, not the function's. Not debugpy: a debug session may give the
# function's interpreter a debugpy folder of its own on purpose.
_TOOL_PACKAGES = ("fglocal", "pygls", "lsprotocol", "debug_adapter")


def instance_process_environment(environ: Any) -> Dict[str, str]:
    """The environment of a spawned instance: the tool's own, minus the tool's folders on PYTHONPATH.

    The function's interpreter must see the user's PYTHONPATH but none of the kit (the extension puts
    its bundled packages there to start fglocal).
    """
    env = dict(environ)
    entries = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    kept = [p for p in entries if not any(os.path.isdir(os.path.join(p, name)) for name in _TOOL_PACKAGES)]
    if len(kept) != len(entries):
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            env.pop("PYTHONPATH", None)
    return env


def spawn_program(python: str, args: List[str], pipes: tuple, env: Dict[str, str]) -> int:
    """Start ``<python> ARGS... FD...`` in a new session, passing it the descriptors ``pipes``; its pid.

    An instance is ``<python> run_worker.py R W`` with its two pipe ends (the runtime server's zygotes
    are started the same way).

    As ``subprocess.Popen(..., pass_fds=pipes, stdin=DEVNULL, start_new_session=True)`` did (the same
    file descriptors, signal dispositions and session), with ``os.posix_spawn`` instead: importing
    subprocess (selectors, threading, the signal enums, ...) was a measurable part of a cold start
    on another runtime. The child gets nothing but 0-2 and the two pipes (renumbered above 2 by dup2,
    which also clears their close-on-exec flag; every other descriptor this process could pass on,
    i.e. an inheritable one, is closed for it), stdin is /dev/null, and SIGPIPE and SIGXFSZ are reset
    to their defaults as subprocess does.

    No interpreter flags: not ``-E`` (the user's ``PYTHONPATH`` and other ``PYTHON*`` settings apply
    to the function, as they do to ``pythonX.Y`` run by hand), not ``-S`` (``site`` adds the
    site-packages that hold the function's dependencies, as the platform's runtime has its
    dependencies on its path), not ``-s`` (a dependency installed with ``pip install --user`` for that
    interpreter is found, as by a bare ``pythonX.Y``), not ``-I`` (all of these). What they would save
    (a few stat calls, no imports) is not worth a difference from the interpreter the user runs.
    """
    spawn = getattr(os, "posix_spawn", None)
    if spawn is None:  # pragma: no cover - Python without posix_spawn (not Linux or macOS)
        import subprocess

        return subprocess.Popen(
            [python, *args, *map(str, pipes)],
            pass_fds=pipes,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        ).pid
    targets = []
    number = 3
    for _ in pipes:
        while number in pipes:
            number += 1
        targets.append(number)
        number += 1
    actions: list = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    for fd in _inheritable_fds():
        if fd > 2 and fd not in pipes:
            actions.append((os.POSIX_SPAWN_CLOSE, fd))
    actions += [(os.POSIX_SPAWN_DUP2, fd, target) for fd, target in zip(pipes, targets)]
    # os.posix_spawn looked up at the call: a debugger that follows subprocesses (debugpy) patches it.
    return spawn(  # type: ignore[no-any-return]
        python,
        [python, *args, *map(str, targets)],
        env,
        file_actions=actions,
        setsid=True,
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
    )


def _inheritable_fds() -> list:
    """The open descriptors of this process that a new program would inherit (not close-on-exec)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found = []
        for name in names:
            try:
                if os.get_inheritable(int(name)):
                    found.append(int(name))
            except (OSError, ValueError):  # the listing's own descriptor, closed by now
                continue
        return found
    return [fd for fd in range(3, 1024) if _is_inheritable(fd)]


def _is_inheritable(fd: int) -> bool:
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False


def _wall_clock(deadline: float) -> float:
    """A time.monotonic() deadline as time.time(), which the instance (Python 2.7 too) can read."""
    if deadline == float("inf"):
        return 1e300
    return time.time() + (deadline - time.monotonic())


def new_request_id() -> str:
    """A random (version 4) UUID string, without importing the uuid module on the hot path."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_size(event: Any) -> int:
    """The size of an event as the platform measures it: the bytes of its UTF-8 JSON (not ASCII-escaped)."""
    return len(json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class EventTooLarge(ValueError):
    """An event over the synchronous request limit: the caller's mistake, so nothing runs."""

    def __init__(self, size: int, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(
            f"the event is {size:,} bytes (its UTF-8 JSON), over the 6 MB ({limit:,} bytes) limit of a "
            "synchronous request"
        )
        self.size = size
        self.limit = limit


class LogDirError(ValueError):
    """A log folder fglocal cannot or must not use (a file, unwritable, not private): a usage error."""


def default_log_dir() -> str:
    """Where invocation logs go unless told otherwise: ``logs`` in a private per-user folder of the temp directory.

    The per-user folder (``$TMPDIR/fglocal-<uid>``) is created 0700; one that is a symbolic link,
    belongs to another user or is writable by others is refused (:class:`LogDirError`): in shared
    temp space another local user must not read the logs or plant files there.
    """
    uid = os.getuid() if hasattr(os, "getuid") else 0
    # tempfile.gettempdir() without importing tempfile (and shutil, random) on the cold-start path.
    temp = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp"
    base = os.path.join(os.path.abspath(temp), f"fglocal-{uid}")
    private_dir(base)
    return os.path.join(base, "logs")


def private_dir(path: str) -> None:
    """Create ``path`` as a folder only this user can use (0700), or check that an existing one is."""
    import stat as stats

    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LogDirError(
            f"cannot create fglocal's log folder {path}: {exc.strerror}; set TMPDIR to a folder you can "
            "write to, or give --log-dir"
        ) from None
    info = os.lstat(path)
    remedy = "remove it (another local user may have made it) or set TMPDIR / give --log-dir"
    if stats.S_ISLNK(info.st_mode):
        raise LogDirError(f"fglocal's log folder {path} is a symbolic link; {remedy}")
    if not stats.S_ISDIR(info.st_mode):
        raise LogDirError(f"fglocal's log folder {path} is not a folder; {remedy}")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise LogDirError(
            f"fglocal's log folder {path} belongs to another user (uid {info.st_uid}); {remedy}"
        )
    if info.st_mode & 0o022:
        raise LogDirError(
            f"fglocal's log folder {path} is writable by other users (mode {stats.S_IMODE(info.st_mode):o}), "
            f"so logs there could be read or planted; {remedy}"
        )
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours, but readable by others (made by an older fglocal): make it private


def prepare_log_dir(path: str) -> None:
    """Create the log folder ``path`` (0700) if needed; :class:`LogDirError` when it is not a writable folder."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:
        raise LogDirError(
            f"the log folder {path} is a file, not a folder (--log-dir names a folder)"
        ) from None
    except OSError as exc:
        raise LogDirError(f"cannot create the log folder {path}: {exc.strerror} (--log-dir)") from None
    if not os.path.isdir(path):
        raise LogDirError(f"the log folder {path} is not a folder (--log-dir names a folder)")
    if not os.access(path, os.W_OK | os.X_OK):
        raise LogDirError(f"cannot write to the log folder {path}: permission denied (--log-dir)")


def _utc_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)


def instance_environment(config: FunctionConfig) -> Dict[str, str]:
    """The platform's ``RUNTIME_*`` variables plus the user data, as the instance sees them."""
    env = {
        "RUNTIME_PROJECT_ID": config.project_id,
        "RUNTIME_FUNC_NAME": config.function_name,
        "RUNTIME_FUNC_VERSION": config.version,
        "RUNTIME_PACKAGE": config.app,
        "RUNTIME_HANDLER": config.handler,
        "RUNTIME_INITIALIZER_HANDLER": config.initializer or "",
        "RUNTIME_TIMEOUT": str(int(config.timeout)),
        "RUNTIME_INITIALIZER_TIMEOUT": str(config.initializer_timeout),
        "RUNTIME_USERDATA": json.dumps(config.user_data),
        "RUNTIME_CPU": str(cpu_millicores(config.memory_size)),
        "RUNTIME_MEMORY": str(config.memory_size),
        "RUNTIME_CODE_ROOT": config.code_dir,
    }
    env.update(config.user_data)
    return env


class _Clock:
    """The invocation clock, pausable while a debugger holds the instance."""

    def __init__(self, shared: Any) -> None:
        self.shared = shared
        self.deadline = float("inf")
        self.paused_at: Optional[float] = None
        self.paused_total = 0.0  # seconds paused since start(), left out of the execution duration

    def start(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.paused_at = None
        self.paused_total = 0.0
        self.shared.set(_wall_clock(self.deadline))

    def pause(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.monotonic()
            remaining = max(0.0, self.deadline - self.paused_at) * 1000.0
            self.shared.set(_wall_clock(self.deadline), remaining)

    def resume(self) -> None:
        if self.paused_at is not None:
            paused = time.monotonic() - self.paused_at
            self.deadline += paused
            self.paused_total += paused
            self.paused_at = None
            self.shared.set(_wall_clock(self.deadline))

    def paused_seconds(self) -> float:
        """Time paused since start(), including a pause still in progress."""
        current = time.monotonic() - self.paused_at if self.paused_at is not None else 0.0
        return self.paused_total + current

    def remaining(self) -> float:
        """Seconds left; infinite while paused."""
        if self.paused_at is not None:
            return float("inf")
        return self.deadline - time.monotonic()


class _Outcome:
    """How waiting for the instance's reply ended."""

    def __init__(
        self, reply: Optional[Dict[str, Any]] = None, failure: str = "", memory_mb: float = 0.0
    ) -> None:
        self.reply = reply
        self.failure = failure  # "", "timeout", "memory" or "exited"
        self.memory_mb = memory_mb
        self.detail = ""


class Instance:
    """A warm function instance: the initializer runs once, then events are served in order.

    Use as a context manager, or call :meth:`close`; the instance process (and anything it
    started) is killed when the instance is closed, replaced after a timeout, a memory overrun or a
    crash.
    """

    def __init__(
        self,
        config: FunctionConfig,
        *,
        log_dir: Optional[str] = None,
        enforce_timeout: bool = True,
        start_method: Optional[str] = None,
        interpreter: Optional[Interpreter] = None,
    ) -> None:
        # A FunctionConfig built directly (not by load_config) is checked here: bad user data must be a
        # ConfigError naming the key, not a crashed instance.
        self.config = config.checked()
        if interpreter is None:
            from fglocal.interpreters import resolve_interpreter

            interpreter = resolve_interpreter(config)  # InterpreterError when the runtime's is missing
        # The Python the function runs on: its runtime's (see fglocal.interpreters).
        self.interpreter = interpreter
        # Absolute: the instance changes its cwd to the code folder (and the function may change it again).
        self.log_dir = os.path.abspath(log_dir or default_log_dir())
        self.enforce_timeout = enforce_timeout
        self.start_method = (
            start_method
            or os.environ.get("FGLOCAL_START_METHOD")
            or ("fork" if hasattr(os, "fork") else "spawn")
        )
        prepare_log_dir(self.log_dir)
        self._pid = 0
        self._to_worker = -1
        self._from_worker = -1
        self._buffer = b""
        self._init_error: Optional[Dict[str, Any]] = None
        self._clock: Optional[_Clock] = None
        self._clock_file = ""
        self._log_fd = -1
        self._tree: Optional[proctree.TreeWatch] = None
        self._remote: Optional[RemoteInstance] = None  # an instance forked by the runtime server
        self._started = 0  # the instance process's start time (clock ticks since boot)
        self._sampled_mb = 0.0  # the largest memory sample of the tree during the last request
        self.invocations = 0

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def pid(self) -> int:
        """The instance process ID (0 when no instance process is running)."""
        return self._pid

    def close(self) -> None:
        """Stop the instance process and everything it started."""
        self._stop_process()
        if self._clock_file:
            try:
                os.unlink(self._clock_file)
            except OSError:
                pass
            self._clock_file = ""
            self._clock = None

    def pause_clock(self) -> None:
        """Stop the invocation clock (a debugger holds the instance); the timeout cannot fire."""
        if self._clock is not None:
            self._clock.pause()

    def resume_clock(self) -> None:
        """Restart the invocation clock; paused time does not count against the timeout."""
        if self._clock is not None:
            self._clock.resume()

    def _setup_message(self) -> Dict[str, Any]:
        from fglocal.config import CREDENTIAL_ENV

        c = self.config
        return {
            "codeRoot": c.code_dir,
            "handler": c.handler,
            "runtime": c.runtime,
            "initializer": c.initializer,
            "functionName": c.function_name,
            "version": c.version,
            "alias": c.alias,
            "app": c.app,
            "projectId": c.project_id,
            "memorySize": c.memory_size,
            "timeout": c.timeout,
            "userData": c.user_data,
            "credentials": {
                "access_key": c.credentials.get("accessKey", ""),
                "secret_key": c.credentials.get("secretKey", ""),
                "security_token": c.credentials.get("securityToken", ""),
                "token": c.credentials.get("token", ""),
            },
            "environment": instance_environment(c),
            # Credentials reach the function only through the Context, never its environment.
            "scrubEnv": [*sorted(CREDENTIAL_ENV.values()), "FGLOCAL_START_METHOD", "FGLOCAL_RUNTIME_SERVER"],
            "clockFile": self._clock_file,
            "entryFiles": {
                "handler": list(entry_files(c.handler)),
                "initializer": list(entry_files(c.initializer)) if c.initializer else [],
            },
        }

    def _ensure_clock(self) -> _Clock:
        """The invocation clock shared with the instance (its file made on first use)."""
        if self._clock is None:
            self._clock_file = os.path.join(self.log_dir, "clock-%s" % os.urandom(8).hex())
            self._clock = _Clock(SharedClock(self._clock_file, create=True))
        return self._clock

    def _start_process(self, first: str = "", seconds: float = 0.0) -> bytes:
        """Start the instance process; ``first`` (the set-up request) is in its pipe before it starts.

        Written ahead, the request waits in the pipe while the process is forked or spawned, so the
        instance reads it as soon as it runs, rather than after its pid has come back here (a round
        trip through the runtime server). Its clock starts now. What the pipe could not take at once
        is returned, to be written once the process runs.
        """
        clock = self._ensure_clock()
        clock.shared.set_state(STATE_OK)
        if proctree.LINUX:
            proctree.become_subreaper()  # what a crashed instance leaves behind comes here
            self._tree = proctree.TreeWatch()  # before the fork: every process now is outside the tree
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        rest = b""
        if first:
            clock.start(seconds)
            rest = _write_ahead(to_worker_w, first)
        # Forking is the fast path, for a function whose interpreter is the tool's own; any other
        # interpreter is spawned with only the instance package on its path.
        if self.start_method == "fork" and self.interpreter.is_tool:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the instance process
                _become_instance(to_worker_r, from_worker_w, (to_worker_w, from_worker_r))
            self._pid = pid
        else:
            try:
                self._pid = self._spawn((to_worker_r, from_worker_w))
            except BaseException:
                for fd in (to_worker_r, to_worker_w, from_worker_r, from_worker_w):
                    os.close(fd)
                raise
        os.close(to_worker_r)
        os.close(from_worker_w)
        if self._tree is not None:
            self._tree.root = self._pid
            info = proctree.stat(self._pid)
            self._started = info[2] if info else 0
            proctree.LIVE_INSTANCES[self._pid] = self._started
        self._to_worker, self._from_worker = to_worker_w, from_worker_r
        self._buffer = b""
        self._init_error = None
        return rest

    def _spawn(self, pipes: tuple) -> int:
        """Start the instance on the function's interpreter: forked by the runtime server, or spawned."""
        env = instance_process_environment(os.environ)
        if os.environ.get("FGLOCAL_RUNTIME_SERVER") and self.start_method != "spawn":
            from fglocal.runtime_server import fork_instance

            self._remote = fork_instance(
                self.interpreter.path, self.interpreter.version_text, pipes, env, RUN_WORKER
            )
            if self._remote is not None:
                return self._remote.pid
        return spawn_program(self.interpreter.path, [RUN_WORKER], pipes, env)

    def _reaped(self, pid: int, block: bool) -> Optional[int]:
        """The wait status of the ended instance ``pid`` (reaped here, or by the runtime server)."""
        if self._remote is not None:
            return self._remote.wait() if block else self._remote.poll()
        try:
            done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return 0
        return status if done else None

    def _let_go(self) -> None:
        if self._remote is not None:
            self._remote.close()
            self._remote = None

    def _close_pipes(self) -> None:
        for fd in (self._to_worker, self._from_worker):
            try:
                os.close(fd)
            except OSError:
                pass
        self._to_worker = self._from_worker = -1

    def _stop_process(self) -> None:
        if not self._pid:
            return
        pid, self._pid = self._pid, 0
        if self._tree is not None:
            # Stopped before its pipes close (at EOF it would exit, and its children would leave its
            # tree): everything the instance started, in any session, ends with it; then reap the lot.
            pidfd = self._remote.pidfd if self._remote is not None else -1
            killed, was_alive = proctree.end_tree(pid, watch=self._tree, pidfd=pidfd)
            self._close_pipes()
            if self._remote is not None:
                self._remote.wait_exit()  # its status is not needed: the pidfd says it has ended
            else:
                self._reaped(pid, True)
            self._let_go()
            proctree.reap(killed[1:])
            if was_alive:
                proctree.LIVE_INSTANCES.pop(pid, None)
                self._tree = None
            else:
                self._end_leftovers(pid)
            return
        self._close_pipes()
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._reaped(pid, True)
        self._let_go()

    def _end_leftovers(self, pid: int) -> None:
        """End what an instance that died on its own left behind (re-parented to this supervisor)."""
        proctree.LIVE_INSTANCES.pop(pid, None)
        if self._tree is None:
            try:
                os.killpg(pid, signal.SIGKILL)  # background children of the dead instance
            except OSError:
                pass
            return
        last_seen = self._tree.last
        self._tree = None
        for _ in range(20):  # leftovers that are not subreapers pass their own orphans up to here
            found = proctree.leftovers(pid, self._started, last_seen)
            if not found:
                return
            proctree.reap(proctree.end_tree(found[0], found[1:])[0])
            last_seen = {}

    # -- talking to the instance -----------------------------------------------------------------

    def _memory_mb(self) -> float:
        """Memory of the instance's whole process tree (every descendant, in any session)."""
        if self._tree is not None:
            return self._tree.memory_mb()
        return proctree.memory_kb(self._pid, False) / 1024.0

    def _wait(self) -> _Outcome:
        """Wait for one reply, enforcing the clock's deadline and the memory size."""
        assert self._clock is not None
        limit_mb = self.config.memory_size
        peak_mb = 0.0
        poll_memory = sys.platform.startswith("linux")
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                return _Outcome(json.loads(line.decode("utf-8", "surrogatepass")), memory_mb=peak_mb)
            remaining = self._clock.remaining() if self.enforce_timeout else float("inf")
            if remaining <= 0:
                return self._fail("timeout", peak_mb)
            wait = min(remaining, MEMORY_POLL_INTERVAL if poll_memory else 0.05)
            try:
                ready, _, _ = select.select([self._from_worker], [], [], wait)
            except InterruptedError:
                continue
            if ready:
                chunk = os.read(self._from_worker, 1 << 20)
                if not chunk:
                    return self._fail("exited", peak_mb)
                self._buffer += chunk
                continue
            exited = self._exited()
            if exited is not None:
                # Gone without closing the pipe: a process it started still holds the pipe's write end.
                return self._fail("exited", peak_mb, exited)
            if poll_memory:
                used = self._memory_mb()
                peak_mb = max(peak_mb, used)
                if used > limit_mb:
                    return self._fail("memory", peak_mb)

    def _exited(self) -> Optional[int]:
        """The instance process's wait status if it has ended (it is then reaped), else None."""
        return self._reaped(self._pid, False)

    def _fail(self, failure: str, peak_mb: float, status: Optional[int] = None) -> _Outcome:
        outcome = _Outcome(failure=failure, memory_mb=peak_mb)
        if failure == "exited":
            pid = self._pid
            if status is None:
                status = self._reaped(pid, True) or 0
            self._let_go()
            self._pid = 0
            outcome.detail = _describe_exit(status)
            self._end_leftovers(pid)
            if self._clock is not None and self._clock.shared.state() == STATE_PIPE_LOST:
                outcome.detail = (
                    "stopped: the function closed or replaced the file descriptors of the runtime's pipe to "
                    "its supervisor (e.g. with os.closerange(3, ...) or os.dup2); leave fds other than 0-2 "
                    "that it did not open alone"
                )
            self._close_pipes()
        else:
            self._stop_process()
        return outcome

    # -- invocations -----------------------------------------------------------------------------

    def _open_log(self, log_file: str) -> int:
        """Open (create, 0600, never through a symbolic link) an invocation's log.

        The folder is made again if it was removed meanwhile; anything else is a :class:`LogDirError`.
        """
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        for attempt in (1, 2):
            try:
                return os.open(log_file, flags, 0o600)
            except FileNotFoundError:
                if attempt == 1:
                    prepare_log_dir(self.log_dir)
                    continue
                raise LogDirError(f"cannot write the log {log_file}: the folder keeps vanishing") from None
            except OSError as exc:
                raise LogDirError(f"cannot write the log {log_file}: {exc.strerror}") from None
        raise AssertionError("unreachable")

    def _log_path(self, request_id: str) -> str:
        return os.path.join(self.log_dir, f"{request_id}.log")

    def invoke(
        self,
        event: Any = None,
        request_id: Optional[str] = None,
        max_event_bytes: Optional[int] = MAX_BODY_BYTES,
    ) -> InvocationResult:
        """Run one event through the instance (starting it, and its initializer, when needed).

        Raises :class:`EventTooLarge` (before anything runs) for an event over ``max_event_bytes``;
        ``None`` skips the check, for a caller that measured the request itself (``serve``).
        """
        request_id = request_id or new_request_id()
        try:
            event_line = json.dumps(event, allow_nan=False)
        except (TypeError, ValueError) as exc:
            event_line, event_problem = "", f"the event is not JSON: {exc}"
        except RecursionError:
            event_line, event_problem = "", "the event is nested too deeply to encode as JSON"
        else:
            event_problem = ""
            # The escaped line is never shorter than the UTF-8 JSON, so only a long line is measured again.
            if max_event_bytes is not None and len(event_line) > max_event_bytes:
                size = event_size(event)
                if size > max_event_bytes:
                    raise EventTooLarge(size, max_event_bytes)
        log_file = self._log_path(request_id)
        config = self.config
        self.invocations += 1
        # The supervisor keeps the log open for the whole invocation: its Start and Finish lines and the
        # displayed tail go through this descriptor, so a log pruned meanwhile by another process
        # (they may share the folder) still shows in full.
        self._log_fd = self._open_log(log_file)
        _write_all(
            self._log_fd, f"{_utc_now()} Start invoke request '{request_id}', version: {config.version}\n"
        )
        if event_problem:
            return self._finish(
                request_id, log_file, None, error_object(event_problem, "InvalidEvent"), 0.0, 0.0
            )

        if not self._pid:
            # A cold start: the instance sets itself up and imports the user's code (one round trip,
            # under the function's timeout), then runs the initializer under its own.
            self._ensure_clock()  # the set-up names its file
            setup = json.dumps({"op": "setup", "setup": self._setup_message(), "logFile": log_file})
            seconds = config.timeout * _import_slowdown()
            rest = self._start_process(setup, seconds)
            reply = self._request(setup, seconds, request_id, log_file, written=rest)
            if isinstance(reply, InvocationResult):
                return reply
            if reply["error"]:
                self._init_error = reply["error"]
            elif config.initializer:
                reply = self._request(
                    json.dumps({"op": "init", "logFile": log_file, "requestId": request_id}),
                    config.initializer_timeout,
                    request_id,
                    log_file,
                    initializer=True,
                )
                if isinstance(reply, InvocationResult):
                    return reply
                self._init_error = reply["error"]
        if self._init_error is not None:
            return self._finish(request_id, log_file, None, self._init_error, 0.0, 0.0)

        # Built by hand so that the event, already encoded above for its size check, is not encoded twice.
        message = f'{{"op": "invoke", "logFile": {json.dumps(log_file)}, "requestId": "{request_id}", "event": {event_line}}}'
        reply = self._request(message, config.timeout, request_id, log_file)
        if isinstance(reply, InvocationResult):
            return reply
        # The tree's peak: the instance's own (plus a child that ended during the call, which the
        # samples may have missed), or the largest sample of the whole tree.
        memory_mb = max(reply["maxMemoryUsedMB"] + reply.get("childPeakMB", 0.0), self._sampled_mb)
        if memory_mb > config.memory_size:
            # Over the limit between two samples: the platform's container would have been killed.
            self._stop_process()
            error = self._limit_error(_Outcome(failure="memory", memory_mb=memory_mb), 0, False)
            return self._finish(request_id, log_file, None, error, reply["durationMs"], memory_mb)
        return self._finish(request_id, log_file, reply, reply["error"], reply["durationMs"], memory_mb)

    def _request(
        self,
        message: str,
        seconds: float,
        request_id: str,
        log_file: str,
        initializer: bool = False,
        written: Optional[bytes] = None,
    ) -> Any:
        """Send one JSON request and wait for its reply; a failed wait becomes the invocation's result.

        ``written``: the request was written ahead (its clock started then) but for these bytes.
        """
        assert self._clock is not None
        try:
            if written is None:
                # Start the clock before the request leaves, so the instance never reads a stale deadline.
                self._clock.start(seconds)
                write_line(self._to_worker, message)
            elif written:
                write_all(self._to_worker, written)
        except BrokenPipeError:
            pass  # the instance died; _wait reports how
        started = time.perf_counter()
        outcome = self._wait()
        self._sampled_mb = outcome.memory_mb
        if outcome.reply is not None:
            paused_ms = self._clock.paused_seconds() * 1000.0
            if paused_ms and "durationMs" in outcome.reply:
                # Time held at a breakpoint is not execution time (nor billed).
                outcome.reply["durationMs"] = max(0.0, outcome.reply["durationMs"] - paused_ms)
            return outcome.reply
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        error = self._limit_error(outcome, seconds, initializer)
        duration = seconds * 1000.0 if outcome.failure == "timeout" else elapsed_ms
        return self._finish(request_id, log_file, None, error, duration, outcome.memory_mb)

    def _limit_error(self, outcome: _Outcome, seconds: float, initializer: bool) -> Dict[str, Any]:
        config = self.config
        if outcome.failure == "timeout":
            if initializer:
                message = f"{INITIALIZATION_ERROR}the initializer did not finish within its timeout of {_seconds(seconds)} s (initializerTimeout)"
                return error_object(message, "InitializerTimeout")
            message = (
                f"invocation timeout: the function did not finish within its timeout of {_seconds(seconds)} s"
            )
            return error_object(message, "FunctionTimeout")
        if outcome.failure == "memory":
            message = "runtime memory limit exceeded: the instance used %.3f MB of its %d MB" % (
                outcome.memory_mb,
                config.memory_size,
            )
            return error_object(message, "MemoryLimitExceeded")
        message = f"function invocation exception, error: the runtime process {outcome.detail}"
        return error_object(message, "RuntimeExited")

    def _finish(
        self,
        request_id: str,
        log_file: str,
        reply: Optional[Dict[str, Any]],
        error: Optional[Dict[str, Any]],
        duration_ms: float,
        memory_mb: float,
    ) -> InvocationResult:
        summary = make_summary(request_id, self.config.memory_size, duration_ms, memory_mb)
        failed = " (invoke Failed)" if error else ""
        _write_all(
            self._log_fd,
            "%s Finish invoke request '%s'%s, duration: %.3fms, billing duration: %dms, memory used: %.3fMB, "
            "billing memory: %dMB\n"
            % (
                _utc_now(),
                request_id,
                failed,
                summary["durationMs"],
                summary["billedDurationMs"],
                summary["maxMemoryUsedMB"],
                self.config.memory_size,
            ),
        )
        logs, truncated = read_fd_tail(self._log_fd)
        os.close(self._log_fd)
        self._log_fd = -1
        _prune_logs(self.log_dir, self.invocations)
        return InvocationResult(
            request_id=request_id,
            body=reply["body"] if reply and not error else "",
            content_type=reply["contentType"] if reply and not error else None,
            error=error,
            summary=summary,
            logs=logs,
            logs_truncated=truncated,
            log_file=log_file,
            python=self.interpreter.to_json(),
            warnings=[self.interpreter.warning] if self.interpreter.warning else [],
        )


def _import_slowdown() -> int:
    """How much longer importing the user's code may take than the timeout: 10x under a debugger.

    A debugger traces every line of the imported modules, which makes heavy imports several times
    slower; without this a function would time out at import only when debugged.
    """
    return 10 if "pydevd" in sys.modules or sys.gettrace() is not None else 1


def _seconds(value: float) -> str:
    return (f"{value:g}") if value != int(value) else str(int(value))


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        import signal as signals

        try:
            name = signals.Signals(number).name
        except ValueError:
            name = "signal %d" % number
        extra = " (segmentation fault)" if number == signal.SIGSEGV else ""
        return f"was killed by {name}{extra}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return "exited with code %d (os._exit, or the interpreter aborted)" % code


def _write_ahead(fd: int, message: str) -> bytes:
    """Write what the empty pipe ``fd`` takes of ``message`` and its newline without blocking; the rest."""
    data = (message + "\n").encode("utf-8", "surrogatepass")
    os.set_blocking(fd, False)
    try:
        return data[os.write(fd, data) :]
    except BlockingIOError:  # pragma: no cover - a pipe of the user's last free page: nothing fits
        return data
    finally:
        os.set_blocking(fd, True)


def _write_all(fd: int, text: str) -> None:
    os.write(fd, text.encode("utf-8", "replace"))


def _prune_logs(log_dir: str, invocations: int) -> None:
    """Keep the newest LOG_FILES_KEPT logs of the folder.

    Runs every 50th invocation of an instance, and on 1 in 20 first invocations (each CLI run is a
    new instance), so its cost (a stat per file) stays off the hot path. Other processes may share
    the folder and prune at the same time: a file that vanishes is skipped, and pruning never fails
    an invocation; invocations read their own log through an open descriptor.
    """
    if invocations % 50 != 0 and not (invocations == 1 and os.urandom(1)[0] < 13):
        return
    aged = []
    try:
        with os.scandir(log_dir) as entries:
            for entry in entries:
                if entry.name.endswith(".log"):
                    try:
                        aged.append((entry.stat().st_mtime, entry.path))
                    except OSError:
                        continue
    except OSError:
        return
    aged.sort()
    for _, path in aged[: max(0, len(aged) - LOG_FILES_KEPT)]:
        try:
            os.unlink(path)
        except OSError:
            pass


# Descriptors of this process that a forked instance must not keep: the warm supervisor's run puts
# its thin client's connection here (held by an instance, a killed run's client would wait on it).
CLOSE_IN_FORKED_INSTANCE: List[int] = []


def _become_instance(read_fd: int, write_fd: int, parent_fds: tuple) -> None:
    """In the forked child: detach into its own session and serve; never return to the caller."""
    status = 0
    try:
        for fd in (*parent_fds, *CLOSE_IN_FORKED_INSTANCE):
            os.close(fd)
        os.setsid()  # own process group: the supervisor kills it, and its children, as one
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        from fglocal._instance.fgruntime.worker import serve

        serve(read_fd, write_fd)
    except BaseException:
        status = 70
    finally:
        os._exit(status)
