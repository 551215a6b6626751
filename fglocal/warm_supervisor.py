"""The runtime server's warm supervisor: runs thin clients' ``fglocal invoke`` in forked children.

Started by ``fglocal runtime-server`` on fglocal's own interpreter (``python -m
fglocal.warm_supervisor SOCKET LIFETIME READY``), it imports everything ``fglocal invoke`` imports and
listens on ``supervisor.sock`` in the server's 0700 folder. Each connection of a thin client
(fglocal.thin_client) is served by a child forked ahead of it (a spare waiting for the next
connection), so the loop never waits on a client and a command never waits for a fork: the child
checks the peer's uid (SO_PEERCRED), reads the request, refuses ("NO") a client that is not this
fglocal (version, package folder, interpreter and flags, start-up environment, or one of the loaded
modules changed on disk since), adopts the client's descriptors 0-2, cwd, umask, environment, rlimits
and ignored signals, rebuilds sys.stdin/stdout/stderr as the interpreter's start-up would for those
descriptors, says "OK", runs ``fglocal.cli.run`` (the command line's one implementation) and sends
"X<code>". A signal the client forwards ("S<n>") is raised in the child; the client's end of the
socket closing (it was killed) raises SIGTERM, so the run ends its instance tree as a normal one.

Ownership: the lifetime pipe from the server closing ends the supervisor, which sends SIGTERM to the
runs it forked (they end their instance trees) and SIGKILL to any left after 10 seconds.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

# What `fglocal invoke` imports (by the cold path, runtime server or not): imported once here.
WARM_MODULES = (
    "fglocal.cli",
    "fglocal.commands.invoke",
    "fglocal.commands.options",
    "fglocal.config",
    "fglocal.context",
    "fglocal.contract",
    "fglocal.instance",
    "fglocal.interpreters",
    "fglocal.printable",
    "fglocal.proctree",
    "fglocal.render",
    "fglocal.result",
    "fglocal.runtime_server",
    "fglocal._instance.fgruntime.channel",
    "fglocal._instance.fgruntime.result",
    "encodings.utf_8_sig",  # the event file's and fglocal.json's codec (a codec is looked up at first use)
    "json",
    "select",
    "socket",
    "struct",
    "resource",
    "threading",
    "traceback",
)


def _warm_up() -> None:
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - an optional module: imported by the run if needed
            pass
    from fglocal import proctree
    from fglocal._instance.fgruntime.channel import prepare_subreaper

    # Every run makes itself a subreaper (a prctl through _ctypes and libffi) and watches its
    # instance's tree (from children files, where the kernel has them): both prepared once, here.
    prepare_subreaper()
    proctree.children_files()


def _module_times(paths: Optional[List[str]] = None) -> Dict[str, int]:
    """The modification times of fglocal's loaded modules (of ``paths``, when given: the run's check)."""
    if paths is None:
        # Listed once, at start-up: in a forked run, walking sys.modules would touch every module
        # object (a copy-on-write fault per page, ~1.5 ms) only to find the same files again.
        paths = [
            str(module.__file__)
            for name, module in list(sys.modules.items())
            if (name == "fglocal" or name.startswith("fglocal.")) and getattr(module, "__file__", None)
        ]
    times = {}
    for path in paths:
        try:
            times[path] = os.stat(path).st_mtime_ns
        except OSError:
            times[path] = -1
    return times


class Supervisor:
    """The listening loop; ``serve`` in a forked child becomes one client's ``fglocal`` process."""

    def __init__(self, path: str, lifetime: int) -> None:
        from fglocal import runtime_server, thin_client
        from fglocal._instance.fgruntime.channel import listen_private

        self.lifetime: Any = lifetime
        self.uid = os.getuid()
        self.token = thin_client.token()
        self.fingerprint = runtime_server.startup_fingerprint(dict(os.environ))
        self.times = _module_times()
        self.stdio = [
            (s.encoding, s.errors, getattr(s, "write_through", False))
            for s in (sys.stdin, sys.stdout, sys.stderr)
        ]
        self.children: List[int] = []
        self.listener = listen_private(path)
        self.taken_r, self.taken_w = os.pipe()
        self.spare = self._fork_spare()  # before the server is told the supervisor is ready

    def loop(self) -> None:
        """Keep one forked child waiting for the next connection until the lifetime pipe closes; then end the runs.

        The waiting child (a spare) accepts the connection itself and says so on a pipe, and the loop
        forks the next spare meanwhile: a command never waits for a fork of this process (~1.5 ms,
        its page tables). A spare that dies unused is replaced too.
        """
        import select

        while True:
            readable = select.select([self.taken_r, self.lifetime], [], [], 1.0)[0]
            self._reap()
            if self.lifetime in readable:
                break
            if self.taken_r in readable:
                os.read(self.taken_r, 64)  # one byte: the spare took a connection and is now its run
                self.spare = self._fork_spare()
            elif self.spare not in self.children:  # it died unused
                self.spare = self._fork_spare()
        self._end_runs()

    def _fork_spare(self) -> int:
        pid = os.fork()
        if pid == 0:
            status = 70
            try:
                os.close(self.taken_r)
                conn = self._take(self.taken_w)
                status = 0 if conn is None else self.serve(conn)
            finally:
                os._exit(status)
        self.children.append(pid)
        return pid

    def _take(self, taken_w: int) -> Any:
        """In a spare: the next connection (the loop is told), or None once the server has ended."""
        import select

        while True:
            readable = select.select([self.listener, self.lifetime], [], [])[0]
            if self.lifetime in readable:
                return None  # the server ended (its end of the lifetime pipe closed)
            try:
                conn, _ = self.listener.accept()
            except OSError:  # the client went away before it was accepted
                continue
            os.write(taken_w, b"x")
            os.close(taken_w)
            self.listener.close()
            os.close(self.lifetime)
            return conn

    def _reap(self) -> None:
        for pid in list(self.children):
            try:
                done = os.waitpid(pid, os.WNOHANG)[0]
            except ChildProcessError:
                done = pid
            if done:
                self.children.remove(pid)
        self._end_adopted()

    def _end_adopted(self) -> None:
        """End what a killed run left (its instance forked on this interpreter, their children).

        This process is a subreaper: a run that died without ending its instance tree (SIGKILL) leaves
        it here, where nobody waits for it; it ends as a run would end it, and is reaped.
        """
        from fglocal import proctree

        mine = os.getpid()
        try:
            with open("/proc/%d/task/%d/children" % (mine, mine)) as handle:
                adopted = [int(pid) for pid in handle.read().split() if int(pid) not in self.children]
        except (OSError, ValueError):
            adopted = []
        for pid in adopted:
            for member in [pid, *proctree.descendants(pid)]:
                try:
                    os.kill(member, 9)
                except OSError:
                    pass
        while True:  # adopted ones that ended (the runs and the spare are reaped by pid above)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.children:
                self.children.remove(pid)

    def _end_runs(self) -> None:
        import time

        for pid in self.children:
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        deadline = time.monotonic() + 10.0
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for pid in self.children:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass

    # -- in the forked child ---------------------------------------------------------------------

    def serve(self, conn: Any) -> int:
        """Be the client's ``fglocal`` process for one command; the child's exit status."""
        import socket as _socket
        import struct

        creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
        peer, uid, _ = struct.unpack("3i", creds)
        if uid != self.uid:
            return 0  # another user: closed without an answer
        conn.settimeout(10.0)
        fds: List[int] = []
        try:
            header, ancillary, _, _ = conn.recvmsg(4, _socket.CMSG_SPACE(3 * 4))
            for level, kind, data in ancillary:
                if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                    fds += [
                        int.from_bytes(data[i : i + 4], sys.byteorder) for i in range(0, len(data) - 3, 4)
                    ]
            size = int.from_bytes(header, "big") if len(header) == 4 else -1
            payload = b""
            while 0 <= len(payload) < size:
                chunk = conn.recv(min(size - len(payload), 1 << 20))
                if not chunk:
                    return 0
                payload += chunk
        except OSError:
            return 0
        refusal = self._adopt(peer, fds, payload)
        if refusal:
            try:
                conn.sendall(b"NO " + refusal.encode("ascii") + b"\n")
            except OSError:
                pass
            return 0
        conn.settimeout(None)
        conn.sendall(b"OK\n")
        return self._run(conn)

    def _adopt(self, peer: int, fds: List[int], payload: bytes) -> Optional[str]:
        """Take over the client's process state; why not (nothing changed yet then), or None."""
        from fglocal import runtime_server, thin_client

        fields = payload.split(b"\0")
        if len(fds) != 3 or len(fields) < 5 or fields[0] != thin_client.PROTOCOL:
            return "malformed request"
        if fields[1] != self.token:
            return "another fglocal or interpreter"
        if _module_times(list(self.times)) != self.times:
            return "fglocal changed on disk since the server started"
        try:
            cwd, umask, count = os.fsdecode(fields[2]), int(fields[3]), int(fields[4])
        except ValueError:
            return "malformed request"
        argv = [os.fsdecode(arg) for arg in fields[5 : 5 + count]]
        env = {}
        for item in fields[5 + count :]:
            key, sep, value = item.partition(b"=")
            if not sep:
                return "malformed request"
            env[os.fsdecode(key)] = os.fsdecode(value)
        if len(argv) != count or runtime_server.startup_fingerprint(env) != self.fingerprint:
            return "another start-up environment"
        ignored = _ignored_signals(peer)
        limits = _limits(peer)
        if ignored is None or limits is None:
            return "the client's state is unreadable"
        import resource

        try:
            for number, soft, hard in limits:
                resource.setrlimit(number, (soft, hard))
            os.chdir(cwd)
        except (OSError, ValueError):
            return "rlimits or cwd the supervisor cannot take"
        os.umask(umask)
        _signals(ignored)
        _set_environment(env)
        sys.argv = argv
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        self._stdio()
        return None

    def _stdio(self) -> None:
        """sys.stdin/stdout/stderr for the adopted 0-2, as the interpreter's start-up builds them."""
        import io

        streams = []
        for fd, (encoding, errors, write_through) in enumerate(self.stdio):
            name = ("<stdin>", "<stdout>", "<stderr>")[fd]
            buffered = not write_through
            buffer = open(fd, "rb" if fd == 0 else "wb", -1 if fd == 0 or buffered else 0, closefd=False)
            raw: Any = getattr(buffer, "raw", buffer)
            raw.name = name
            stream = io.TextIOWrapper(
                buffer,
                encoding=encoding,
                errors=errors,
                newline="\n",
                line_buffering=buffered and (fd == 2 or raw.isatty()),
                write_through=write_through,
            )
            streams.append(stream)
        sys.stdin, sys.stdout, sys.stderr = streams
        for name, stream in zip(("__stdin__", "__stdout__", "__stderr__"), streams):
            setattr(sys, name, stream)

    def _run(self, conn: Any) -> int:
        """Run the command line, watching the client; report its code."""
        import _signal
        import _thread

        from fglocal import cli, instance

        instance.CLOSE_IN_FORKED_INSTANCE.append(conn.fileno())  # an instance forked here
        done: List[bool] = []  # set once the command has returned

        def watch() -> None:
            buffer = b""
            while not done:
                try:
                    chunk = conn.recv(64)
                except OSError:
                    chunk = b""
                if not chunk:
                    if not done:
                        os.kill(os.getpid(), 15)  # the client is gone: end the run as SIGTERM does
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line[:1] == b"S" and line[1:].isdigit() and not done:
                        os.kill(os.getpid(), int(line[1:]))

        # A bare thread: threading.Thread.start() would wait until the new thread has run (on a
        # busy machine, a wait for a free core before the command starts). Nothing joins it: the
        # run ends with os._exit.
        _thread.start_new_thread(watch, ())
        try:
            code = cli.run(sys.argv[1:])
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        done.append(True)
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
        _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            conn.sendall(b"X%d\n" % (code & 0xFF))
        except OSError:
            pass
        return 0


def _set_environment(env: Dict[str, str]) -> None:
    """Make os.environ ``env``, in its order; only the changed values are set when the keys are the same.

    The client was usually started from the server's own shell: rewriting every variable (an
    unsetenv and a putenv each) would cost the run a millisecond for nothing.
    """
    if list(os.environ) == list(env):
        for key, value in env.items():
            if os.environ[key] != value:
                os.environ[key] = value
        return
    os.environ.clear()
    os.environ.update(env)


def _exit_code(code: Any) -> int:
    """What the interpreter makes of ``sys.exit(code)`` (printing a non-integer one)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write("%s\n" % (code,))
    return 1


def _ignored_signals(pid: int) -> Optional[List[int]]:
    from fglocal._instance.fgruntime.channel import read_proc

    try:
        status = read_proc("/proc/%d/status" % pid)
        start = status.index(b"\nSigIgn:") + 8
        mask = int(status[start : status.index(b"\n", start)], 16)
    except (OSError, ValueError):
        return None
    return [n for n in range(1, 65) if mask & (1 << (n - 1))]


def _limits(pid: int) -> Optional[List[List[int]]]:
    import resource

    limits = []
    try:
        for name in dir(resource):
            if name.startswith("RLIMIT_"):
                number = getattr(resource, name)
                soft, hard = resource.prlimit(pid, number)
                limits.append([number, soft, hard])
    except (OSError, ValueError, AttributeError):
        return None
    return limits


def _signals(ignored: List[int]) -> None:
    """The client's dispositions: its ignored signals ignored, SIGINT raising KeyboardInterrupt, else default."""
    import _signal

    for number in range(1, _signal.NSIG):
        if number in (_signal.SIGKILL, _signal.SIGSTOP):
            continue
        try:
            current = _signal.getsignal(number)
            if number in ignored:
                _signal.signal(number, _signal.SIG_IGN)
            elif number == _signal.SIGINT:
                _signal.signal(number, _signal.default_int_handler)
            elif current is not None and current != _signal.SIG_DFL:
                _signal.signal(number, _signal.SIG_DFL)
        except (ValueError, OSError, RuntimeError):
            continue


def main(argv: List[str]) -> None:
    """``python -m fglocal.warm_supervisor SOCKET LIFETIME READY``."""
    import _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # the server ends it (its lifetime pipe)
    _warm_up()
    from fglocal._instance.fgruntime.channel import set_child_subreaper

    # Not proctree.become_subreaper(): it remembers that it did, and the forked runs, which are not
    # subreapers (the setting is not inherited), must make themselves ones.
    set_child_subreaper()  # a killed run's instance tree comes here (see Supervisor._end_adopted)
    supervisor = Supervisor(argv[0], int(argv[1]))
    ready = int(argv[2])
    # Its token (its interpreter's flags are not the server's: `python -O -m fglocal runtime-server`):
    # the server builds the native launcher with it.
    os.write(ready, b"ready " + supervisor.token.hex().encode("ascii") + b"\n")
    os.close(ready)
    supervisor.loop()


if __name__ == "__main__":
    # `python -m` put the server's cwd first on sys.path: a module there must not shadow the kit's.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    main(sys.argv[1:])
