"""The runtime server's per-runtime process (a zygote): forks a fresh instance for each cold start.

Runs on the function's runtime (Python 2.7 and 3.6+), started by ``fglocal runtime-server``
(:mod:`fglocal.runtime_server`) as ``run_zygote.py SOCKET LIFETIME_FD READY_FD``. It has imported the
instance side (``fgruntime.worker``: json, threading, the loader, ...) once; a forked instance then
starts with that done and imports the user's code itself, so every instance is still a real cold
start of the function. The user's code is never imported here.

Protocol on the Unix socket (its folder is 0700; the peer's uid is checked with ``SO_PEERCRED``):
the supervisor (``fglocal invoke``, serve, the adapter) sends four file descriptors, one per
one-byte message (``SCM_RIGHTS``: the instance's request-pipe read end and reply-pipe write end,
its own stdout and stderr), then one JSON line: ``{"op": "fork", "env", "cwd", "umask", "rlimits",
"ignoredSignals"}`` (environment and cwd as latin-1 text of their bytes). The answer is one line,
``{"pid": N}`` or ``{"error": "..."}``; when the instance has ended (and been reaped here) one more,
``{"status": WAIT_STATUS}``, and the connection closes. If the supervisor closes the connection
first, the instance is killed. The forked instance is made what a spawned one is: its own session,
stdin /dev/null, stdout/stderr and rlimits, umask, environment, cwd and ignored signals of its
supervisor, fds 0-4 and nothing else, the modules a spawned instance has, and what a fresh process
draws at start-up drawn anew (``random`` reseeded on 2.7 and 3.6; see ``_draw_anew``).

The zygote is a child subreaper: a crashed instance's orphans come here and are killed (nothing
else is ever its child). When the lifetime pipe closes (the server ended, however it ended) it
kills every instance it forked and exits: nothing outlives the server.
"""

from __future__ import absolute_import

import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback

from . import worker
from .channel import listen_private, set_child_subreaper
from .compat import PY2, integer_types, text_type
from .orphans import child_pids

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

SO_PEERCRED = getattr(socket, "SO_PEERCRED", 17)  # Linux's value; Python 2.7 does not name it
HANDSHAKE_SECONDS = 5.0  # a client that sends its request slower than this is dropped
MAX_REQUEST_BYTES = 8 << 20  # the environment may be large, never this large
INSTANCE_FDS = 4  # request pipe, reply pipe, stdout, stderr
RUN_WORKER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run_worker.py")


class Refused(Exception):
    """A request the zygote does not carry out; the message goes back to the client."""


def _noop(signum, frame):  # type: (int, Any) -> None
    """SIGCHLD's handler: set_wakeup_fd wakes the select loop."""


def _terminate(signum, frame):  # type: (int, Any) -> None
    raise SystemExit(0)


def _nonblocking(fd):  # type: (int) -> None
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _send(conn, message):  # type: (Any, Dict[str, Any]) -> None
    text = json.dumps(message)  # type: Any  # bytes (str) on Python 2.7
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    try:
        conn.sendall(data + b"\n")
    except (socket.error, OSError):  # the client went away: nothing to tell
        pass


def _wait_readable(conn, deadline):  # type: (Any, float) -> None
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise Refused("the request did not arrive within %g s" % HANDSHAKE_SECONDS)
        try:
            if select.select([conn], [], [], left)[0]:
                return
        except (select.error, OSError) as exc:  # EINTR (Python 2.7 does not retry)
            if exc.args[0] != errno.EINTR:
                raise


def _recv_fd(conn, deadline):  # type: (Any, float) -> int
    """One file descriptor, sent as the ancillary data of a one-byte message."""
    _wait_readable(conn, deadline)
    if PY2:  # pragma: no cover - Python 2.7 has no recvmsg
        import _multiprocessing

        try:
            return _multiprocessing.recvfd(conn.fileno())  # type: ignore[no-any-return]
        except (OSError, IOError, RuntimeError):
            raise Refused("expected %d file descriptors before the request" % INSTANCE_FDS)
    size = struct.calcsize("i")
    data, ancillary, flags, _ = conn.recvmsg(1, socket.CMSG_SPACE(size), socket.MSG_CMSG_CLOEXEC)
    fds = []  # type: List[int]
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            count = len(payload) // size
            fds.extend(struct.unpack("%di" % count, payload[: count * size]))
    if len(data) != 1 or len(fds) != 1 or flags & socket.MSG_CTRUNC:
        for fd in fds:
            os.close(fd)
        raise Refused("expected %d file descriptors, one per message, before the request" % INSTANCE_FDS)
    return fds[0]


def _read_line(conn, deadline):  # type: (Any, float) -> bytes
    data = b""
    while b"\n" not in data:
        _wait_readable(conn, deadline)
        chunk = conn.recv(65536)
        if not chunk:
            raise Refused("the request ended before its newline")
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise Refused("the request is over %d bytes" % MAX_REQUEST_BYTES)
    return data[: data.index(b"\n")]


def _bytes(text):  # type: (Any) -> bytes
    """Bytes sent as latin-1 text (environment, cwd: any bytes survive JSON that way)."""
    if not isinstance(text, text_type):
        raise Refused("expected text, got %s" % type(text).__name__)
    return text.encode("latin-1")


def _int_list(value, length):  # type: (Any, int) -> list
    if not isinstance(value, list) or any(
        not isinstance(v, integer_types) or isinstance(v, bool) for v in value
    ):
        raise Refused("expected a list of integers")
    if length and len(value) != length:
        raise Refused("expected %d integers" % length)
    return value


def _checked_request(line):  # type: (bytes) -> Dict[str, Any]
    """The fork request, checked field by field (:class:`Refused` for anything else)."""
    try:
        request = json.loads(line.decode("utf-8"))
    except ValueError:
        raise Refused("the request is not a JSON line")
    if not isinstance(request, dict) or request.get("op") != "fork":
        raise Refused('the request must be {"op": "fork", ...}')
    env = request.get("env")
    if not isinstance(env, dict):
        raise Refused("env must be an object")
    checked = {
        "env": [(_bytes(k), _bytes(v)) for k, v in env.items()],
        "cwd": _bytes(request.get("cwd")),
        "umask": _int_list([request.get("umask")], 1)[0],
        "rlimits": [_int_list(item, 3) for item in request.get("rlimits") or []],
        "ignored": _int_list(request.get("ignoredSignals") or [], 0),
    }
    if any(b"=" in k or not k or b"\0" in k + v for k, v in checked["env"]) or b"\0" in checked["cwd"]:
        raise Refused("env keys and values, and cwd, must be C strings (and keys without '=')")
    return checked


def _peer_uid(conn):  # type: (Any) -> int
    creds = conn.getsockopt(socket.SOL_SOCKET, SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]  # type: ignore[no-any-return]


def _above(limit, other):  # type: (int, int) -> bool
    """``limit`` > ``other`` for rlimit values, RLIM_INFINITY (-1 here) being the largest."""
    import resource

    if limit == resource.RLIM_INFINITY:
        return other != resource.RLIM_INFINITY
    return other != resource.RLIM_INFINITY and limit > other


def _check_rlimits(rlimits):  # type: (list) -> None
    """Refuse limits a forked instance could not be given (a hard limit above this process's)."""
    import resource

    if os.geteuid() == 0:
        return
    for number, _soft, hard in rlimits:
        try:
            current = resource.getrlimit(number)
        except (ValueError, resource.error):
            raise Refused("unknown resource limit %d" % number)
        if _above(hard, current[1]):
            raise Refused("the supervisor's hard limit %d is above this server's" % number)


def _descriptors():  # type: () -> List[int]
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # pragma: no cover - Linux only (the server needs /proc and pidfd)
        return list(range(3, 1024))


class Zygote(object):
    """The select loop: accept fork requests, report ended instances, kill what crashed ones left."""

    def __init__(self, path, lifetime_fd, baseline):  # type: (str, int, set) -> None
        self.path = path
        self.lifetime = lifetime_fd
        self.baseline = baseline
        self.uid = os.getuid()
        self.me = os.getpid()
        self.live = {}  # type: Dict[int, Any]  # instance pid -> its supervisor's connection (None: closed)
        self.scan_until = 0.0  # look for adopted orphans until then (after an instance ended)
        # Dispositions this interpreter did not start with: a forked instance gets them reset.
        self.changed = [signal.SIGCHLD, signal.SIGTERM, signal.SIGINT]
        self.listener = listen_private(path)
        self.wake_r, self.wake_w = os.pipe()
        _nonblocking(self.wake_r)
        _nonblocking(self.wake_w)
        signal.signal(signal.SIGCHLD, _noop)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        self.adopting = set_child_subreaper()

    def run(self, ready_fd):  # type: (int) -> None
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)
        try:
            while True:
                conns = [c for c in self.live.values() if c is not None]
                timeout = 0.05 if self.scan_until else 1.0
                try:
                    watched = [self.listener, self.lifetime, self.wake_r] + conns  # type: List[Any]  # noqa: RUF005
                    ready = select.select(watched, [], [], timeout)[0]
                except (select.error, OSError) as exc:
                    if exc.args[0] != errno.EINTR:
                        raise
                    ready = []
                if self.lifetime in ready and not os.read(self.lifetime, 1):
                    return  # the server ended
                if self.wake_r in ready:
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except OSError:
                        pass
                self.reap()
                for item in ready:
                    if item is self.listener:
                        self.accept()
                    elif item in conns:
                        self.client_closed(item)
        finally:
            self.shutdown()

    def accept(self):  # type: () -> None
        try:
            conn = self.listener.accept()[0]
        except (socket.error, OSError):
            return
        fds = []  # type: List[int]
        try:
            if _peer_uid(conn) != self.uid:
                raise Refused("this runtime server serves its own user (uid %d) only" % self.uid)
            deadline = time.time() + HANDSHAKE_SECONDS
            for _ in range(INSTANCE_FDS):
                fds.append(_recv_fd(conn, deadline))
            request = _checked_request(_read_line(conn, deadline))
            _check_rlimits(request["rlimits"])
            pid = os.fork()
            if pid == 0:
                self.become_instance(fds, request)  # never returns
        except Exception as exc:  # Refused, or anything a bad request provokes: answered, never fatal
            message = str(exc) if isinstance(exc, Refused) else "%s: %s" % (type(exc).__name__, exc)
            _send(conn, {"error": message})
            conn.close()
            return
        finally:
            for fd in fds:
                os.close(fd)
        self.live[pid] = conn
        _send(conn, {"pid": pid})

    def client_closed(self, conn):  # type: (Any) -> None
        """The supervisor's connection is readable: it closed (it ended): kill its instance."""
        try:
            if conn.recv(64):
                return  # nothing is expected after the request; ignore it
        except (socket.error, OSError):
            pass
        for pid, known in list(self.live.items()):
            if known is conn:
                self.live[pid] = None
                _kill_group(pid)
        conn.close()

    def reap(self):  # type: () -> None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except OSError:  # ECHILD: no children
                break
            if not pid:
                break
            if pid in self.live:
                conn = self.live.pop(pid)
                _kill_group(pid)  # what is left in its process group
                if conn is not None:
                    _send(conn, {"status": status})
                    conn.close()
                self.scan_until = time.time() + 2.0  # its orphans are being re-parented here
        if self.scan_until:
            if time.time() > self.scan_until:
                self.scan_until = 0.0
            elif self.adopting:
                self.end_adopted()

    def end_adopted(self):  # type: () -> None
        """Kill every child of this process that is not a live instance (orphans of ended ones)."""
        for pid in self.children():
            if pid not in self.live:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                self.scan_until = time.time() + 2.0

    def children(self):  # type: () -> List[int]
        """The children of this process: its children files (Linux 3.5+), else a scan of /proc."""
        return child_pids(self.me)

    def shutdown(self):  # type: () -> None
        """Kill every instance still running and everything it started, then stop serving."""
        try:
            os.unlink(self.path)
        except OSError:
            pass
        self.listener.close()
        deadline = time.time() + 5.0
        while (self.live or self.scan_until) and time.time() < deadline:
            for pid in list(self.live):
                _kill_tree(pid)
            self.scan_until = self.scan_until or time.time() + 2.0
            self.reap()
            if self.adopting:
                self.end_adopted()
            time.sleep(0.01)

    # -- in the forked child ---------------------------------------------------------------------

    def become_instance(self, fds, request):  # type: (List[int], Dict[str, Any]) -> None
        """Turn the forked child into a freshly started instance and serve; never returns."""
        status = 70
        try:
            os.setsid()  # own session and process group, as a spawned instance
            signal.set_wakeup_fd(-1)
            ignored = set(request["ignored"])
            for sig in set(self.changed) | ignored:
                if sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGPIPE, getattr(signal, "SIGXFSZ", -1)):
                    continue  # SIGPIPE/SIGXFSZ: this interpreter set them at start-up as a spawned one does
                if sig in ignored:
                    handler = signal.SIG_IGN  # type: Any
                elif sig == signal.SIGINT:
                    handler = signal.default_int_handler
                else:
                    handler = signal.SIG_DFL
                try:
                    signal.signal(sig, handler)
                except (ValueError, OSError, RuntimeError):
                    pass
            # Descriptors: 0 /dev/null, 1 and 2 the supervisor's, 3 and 4 the pipes, nothing else.
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds]
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for target, fd in zip((3, 4, 1, 2), moved):
                os.dup2(fd, target)
            for fd in _descriptors():
                if fd > 4:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            os.umask(request["umask"])
            import resource

            for number, soft, hard in request["rlimits"]:
                resource.setrlimit(number, (soft, hard))
            os.chdir(request["cwd"])
            _replace_environment(request["env"])
            sys.argv[:] = [RUN_WORKER, "3", "4"]
            main_module = sys.modules.get("__main__")
            if main_module is not None:
                main_module.__file__ = RUN_WORKER
            for name in [n for n in sys.modules if n not in self.baseline]:
                del sys.modules[name]  # the server's own modules: the function starts without them
            _draw_anew()
            worker.serve(3, 4)
            status = 0
        except BaseException:  # a fault of the runtime itself: on the supervisor's stderr
            try:
                traceback.print_exc()
                sys.stderr.flush()
            except BaseException:
                pass
        finally:
            os._exit(status)


def _draw_anew():  # type: () -> None
    """Reseed what a fresh process seeds at start-up and this one would share with its siblings.

    ``random`` seeds itself from os.urandom at import; Python 3.7+ reseeds it after a fork
    (os.register_at_fork), 2.7 and 3.6 do not. The zygote never imports it, but its start-up may
    have (a ``.pth`` file or sitecustomize): then every instance would draw the same numbers.
    (tempfile's names and uuid4 are drawn per process already; the hash seed is the documented
    exception.)
    """
    module = sys.modules.get("random")
    if module is not None and not hasattr(os, "register_at_fork"):
        module.seed()


def _replace_environment(env):  # type: (list) -> None
    environ = getattr(os, "environb", os.environ)  # bytes on Python 3, native str (bytes) on 2.7
    environ.clear()
    for key, value in env:
        environ[key] = value


def _kill_group(pid):  # type: (int) -> None
    """SIGKILL the process group led by instance ``pid`` (its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _kill_tree(pid):  # type: (int) -> None
    """SIGKILL instance ``pid`` and its group (what escaped the group comes here as an orphan)."""
    _kill_group(pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def main(baseline):  # type: (set) -> None
    """``run_zygote.py SOCKET LIFETIME_FD READY_FD``: serve until the lifetime pipe closes."""
    path, lifetime_fd, ready_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    Zygote(path, lifetime_fd, baseline).run(ready_fd)
    os._exit(0)
