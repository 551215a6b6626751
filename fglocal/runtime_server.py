"""The runtime server: pre-started per-runtime processes that fork fresh instances (opt-in).

A cold start on another runtime than fglocal's own pays a second interpreter start-up (the runtime's,
plus importing the instance side). ``fglocal runtime-server`` removes it: for each runtime it starts
a zygote (``fgruntime.zygote``) on that runtime's interpreter, which has imported the instance side
and forks a fresh instance per cold start; the user's code is imported only in the forked child, so
it is still a real cold start of the function. Supervisors (``fglocal invoke``, serve, the adapter)
use it when ``FGLOCAL_RUNTIME_SERVER`` names its folder, and spawn as before otherwise.

Ownership: the server runs in the foreground (or under a parent that holds its stdin, with
``--until-stdin-closes``) and is the parent of its zygotes, each tied to it by a pipe: however the
server ends, the pipe closes, and the zygote kills every instance it forked and exits. Nothing
outlives it. The folder (``$TMPDIR/fglocal-<uid>/runtime-server-<pid>``) is 0700; each zygote
checks its peer's uid (``SO_PEERCRED``) as well.

The instance is not the supervisor's child then. The process-tree guarantees are kept with a pidfd
(Linux 5.3, Python 3.9+: signals reach the instance itself, never a process that reused its pid),
the tree scan of :mod:`fglocal.proctree` (which needs no parentage), and the wait status the zygote
reports after reaping it. Where there is no pidfd, or the zygote could not give the instance what a
spawned one gets (another interpreter start-up environment, higher rlimits), the supervisor spawns.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

ENV_VARIABLE = "FGLOCAL_RUNTIME_SERVER"
MANIFEST = "servers.json"
# Environment variables that change how an interpreter starts (its sys.path, encodings, flags): a
# zygote serves only supervisors whose instance environment has the same values.
_STARTUP_PREFIXES = ("PYTHON",)
_STARTUP_NAMES = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV")


def startup_fingerprint(env: Dict[str, str]) -> List[List[str]]:
    """The part of an instance environment that shapes the interpreter's start-up, sorted."""
    return sorted(
        [key, value]
        for key, value in env.items()
        if key.startswith(_STARTUP_PREFIXES) or key in _STARTUP_NAMES
    )


def available() -> bool:
    """True where a supervisor can keep its guarantees for an instance that is not its child."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "pidfd_open")
        and hasattr(__import__("_signal"), "pidfd_send_signal")
    )


def _under_debugger() -> bool:
    # A debugger that follows subprocesses (debugpy) hooks process creation; a forked instance it
    # would not see. Debug sessions spawn.
    return sys.gettrace() is not None or "pydevd" in sys.modules


def _latin1(value: str) -> str:
    return os.fsencode(value).decode("latin-1")


def _rlimits() -> List[List[int]]:
    import resource

    limits = []
    for name in dir(resource):
        if name.startswith("RLIMIT_"):
            number = getattr(resource, name)
            try:
                soft, hard = resource.getrlimit(number)
            except (ValueError, OSError):
                continue
            limits.append([number, soft, hard])
    return sorted(limits)


def _umask() -> int:
    from fglocal._instance.fgruntime.channel import read_proc

    try:
        status = read_proc("/proc/self/status")
        start = status.index(b"\nUmask:") + 7
        return int(status[start : status.index(b"\n", start)], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _ignored_signals() -> List[int]:
    try:
        import _signal as signal
    except ImportError:  # pragma: no cover
        import signal  # type: ignore[no-redef]
    found = []
    for number in range(1, signal.NSIG):
        try:
            if signal.getsignal(number) == signal.SIG_IGN:
                found.append(number)
        except (ValueError, OSError):
            continue
    return found


class RemoteInstance:
    """An instance forked by a zygote: a pidfd for it, and the connection its wait status comes on."""

    def __init__(self, pid: int, pidfd: int, conn: Any) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.conn = conn
        self.status: Optional[int] = None
        self._buffer = b""

    def _read(self, timeout: float) -> None:
        import select

        if self.conn is None:
            return
        while self.status is None:
            if not select.select([self.conn], [], [], timeout)[0]:
                return
            try:
                chunk = self.conn.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:  # the zygote went away without a status (it was killed)
                self.status = 0 if self.status is None else self.status
                return
            self._buffer += chunk
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict) and isinstance(message.get("status"), int):
                    self.status = message["status"]

    def poll(self) -> Optional[int]:
        """The instance's wait status once it has ended and the zygote has reaped it, else None."""
        self._read(0.0)
        return self.status

    def wait(self, seconds: float = 10.0) -> int:
        """The wait status, waiting up to ``seconds`` for it (0 when the zygote never said)."""
        self._read(seconds)
        return self.status if self.status is not None else 0

    def wait_exit(self, seconds: float = 10.0) -> None:
        """Wait up to ``seconds`` for the instance to end (its pidfd turns readable), not for the zygote's report."""
        import select

        if self.status is None and self.pidfd >= 0:
            select.select([self.pidfd], [], [], seconds)

    def close(self) -> None:
        """Let go of the instance (the zygote kills it if it still runs)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def fork_instance(
    python: str, version: str, pipes: Tuple[int, int], env: Dict[str, str], run_worker: str
) -> Optional[RemoteInstance]:
    """An instance of ``python`` forked by the runtime server named by FGLOCAL_RUNTIME_SERVER; None: spawn.

    ``version`` is the full version the run resolved ``python`` to: a zygote started on another
    version (a wrapper script or a link retargeted since the server started) is not used.
    ``pipes`` are the instance's ends of its request and reply pipes (the supervisor closes them
    after this call either way); ``env`` is the environment a spawned instance would get.
    """
    folder = os.environ.get(ENV_VARIABLE)
    if not folder or not available() or _under_debugger():
        return None
    if any(key.startswith("FGLOCAL_DEBUG_") for key in env):
        return None  # a debug session's instance (debugpy 1.5.1 attaches it at start-up): spawned
    entry = _server_for(folder, python, run_worker)
    if (
        entry is None
        or entry.get("fingerprint") != startup_fingerprint(env)
        or entry.get("version") != version
    ):
        return None
    # Started with stdout or stderr closed (`2>&-`: the interpreter then made sys.__stderr__ None),
    # files this process opened took those numbers (the socket below would): a spawned instance
    # gets whatever they are, as a run without the server.
    if sys.__stdout__ is None or sys.__stderr__ is None or any(fd <= 2 for fd in pipes):
        return None
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            return None
    import _socket

    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    pidfd = -1
    try:
        conn.settimeout(10.0)
        conn.connect(entry["socket"])
        for fd in (*pipes, 1, 2):
            conn.sendmsg([b"F"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
        request = {
            "op": "fork",
            "env": {_latin1(k): _latin1(v) for k, v in env.items()},
            "cwd": _latin1(os.getcwd()),
            "umask": _umask(),
            "rlimits": _rlimits(),
            "ignoredSignals": _ignored_signals(),
        }
        conn.sendall(json.dumps(request).encode("ascii") + b"\n")
        reply = b""
        while b"\n" not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                raise OSError("the runtime server closed the connection")
            reply += chunk
        line, rest = reply.split(b"\n", 1)
        answer = json.loads(line)
        if not isinstance(answer, dict) or not isinstance(answer.get("pid"), int):
            raise OSError("the runtime server refused: %s" % answer.get("error", answer))
        pid = answer["pid"]
        pidfd = os.pidfd_open(pid)
        from fglocal import proctree

        info = proctree.stat(pid)
        if info is None or info[0] != entry.get("pid"):
            raise OSError("the forked instance %d is gone" % pid)
        conn.settimeout(None)
        remote = RemoteInstance(pid, pidfd, conn)
        remote._buffer = rest
        return remote
    except (OSError, ValueError, KeyError, TypeError):  # no usable server: the supervisor spawns
        if pidfd >= 0:
            os.close(pidfd)
        conn.close()  # the zygote kills what it may have forked
        return None


def _server_for(folder: str, python: str, run_worker: str) -> Optional[Dict[str, Any]]:
    """The manifest entry serving ``python`` from a private folder of this user; None otherwise."""
    import stat

    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    entry = manifest.get("servers", {}).get(os.path.realpath(python)) if isinstance(manifest, dict) else None
    if not isinstance(entry, dict):
        return None
    # The same instance side, however it was reached: the debug adapter runs fglocal through a symlink.
    if os.path.realpath(str(entry.get("runWorker"))) != os.path.realpath(run_worker):
        return None
    return entry


# ------------------------------------------------------------------------------------------ server


class Zygote:
    """One zygote process of the server (its child), for one interpreter."""

    def __init__(
        self,
        runtime: str,
        python: str,
        version: str,
        socket_path: str,
        env: Dict[str, str],
        program: Optional[List[str]] = None,
    ) -> None:
        from fglocal.instance import RUN_WORKER, spawn_program

        self.runtime = runtime
        self.python = python
        self.version = version
        self.socket = socket_path
        self.env = env
        if program is None:
            program = [os.path.join(os.path.dirname(RUN_WORKER), "run_zygote.py")]
        lifetime_r, self.lifetime = os.pipe()
        ready_r, ready_w = os.pipe()
        try:
            self.pid = spawn_program(python, [*program, socket_path], (lifetime_r, ready_w), env)
        finally:
            os.close(lifetime_r)
            os.close(ready_w)
        self.ready = ready_r
        self.said = b""  # what followed "ready" on its line (the warm supervisor's token, in hex)
        self.token = b""  # the warm supervisor's thin_client.token(), once it is ready

    def wait_ready(self, seconds: float) -> bool:
        """True once the zygote listens (it writes one line), False if it died or took too long."""
        import select
        import time

        deadline = time.monotonic() + seconds
        line = b""
        try:
            while b"\n" not in line:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.ready], [], [], left)[0]:
                    return False
                chunk = os.read(self.ready, 65536)
                if not chunk:
                    break
                line += chunk
        finally:
            os.close(self.ready)
        if not line.startswith(b"ready"):
            return False
        self.said = line.split(b"\n", 1)[0][len(b"ready") :].strip()
        return True

    def stop(self) -> None:
        """Close its lifetime pipe (it kills its instances and exits) and reap it."""
        try:
            os.close(self.lifetime)
        except OSError:
            pass
        import time

        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.01)
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass
        os.waitpid(self.pid, 0)


def start_warm_supervisor(folder: str) -> Optional[Zygote]:
    """The warm supervisor of thin clients (fglocal.warm_supervisor) on fglocal's own interpreter; None: none.

    Started with the server's own environment: it serves only clients whose start-up environment
    is the same (the thin client falls back to running the command itself otherwise).
    """
    from fglocal.launcher import client_interpreter
    from fglocal.thin_client import SOCKET_NAME

    # Its flags are in the token a client must match. All come from the environment but the UTF-8
    # mode: in the C locale this process coerced LC_CTYPE to C.UTF-8 in its environment (PEP 538) and
    # runs in UTF-8 mode (PEP 540); started with that environment, the supervisor would not, and
    # would refuse every client started from the same shell. So it gets this process's mode.
    # On the interpreter path the clients use (the console script's #!, when the server was started
    # as `python3 -m fglocal`): it is in the token, and runs report it.
    supervisor = Zygote(
        "fglocal invoke (warm supervisor)",
        client_interpreter(),
        sys.version.split()[0],
        os.path.join(folder, SOCKET_NAME),
        dict(os.environ),
        ["-X", "utf8=%d" % sys.flags.utf8_mode, "-m", "fglocal.warm_supervisor"],
    )
    if supervisor.wait_ready(60.0):
        try:
            supervisor.token = bytes.fromhex(supervisor.said.decode("ascii"))
        except ValueError:
            supervisor.token = b""
        return supervisor
    supervisor.stop()
    return None


def server_folder() -> str:
    """A new private folder for one server's sockets and manifest."""
    import shutil

    from fglocal.instance import default_log_dir, private_dir

    base = os.path.dirname(default_log_dir())
    for name in os.listdir(base):  # folders of servers that were killed (they could not clean up)
        number = name[len("runtime-server-") :]
        if name.startswith("runtime-server-") and number.isdigit() and not _running(int(number)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    folder = os.path.join(base, "runtime-server-%d" % os.getpid())
    if os.path.isdir(folder):  # left by an earlier process with this pid
        shutil.rmtree(folder)
    private_dir(folder)
    return folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def start_zygotes(folder: str, interpreters: List[Any], env: Dict[str, str]) -> List[Zygote]:
    """Start one zygote per interpreter, wait until each listens, and write the manifest."""
    from fglocal.instance import RUN_WORKER

    zygotes = []
    try:
        for number, interpreter in enumerate(interpreters):
            path = os.path.join(folder, "%d.sock" % number)
            zygotes.append(Zygote(interpreter.runtime, interpreter.path, interpreter.version_text, path, env))
        for zygote in zygotes:
            if not zygote.wait_ready(60.0):
                raise RuntimeError(
                    "the runtime server for %s (%s) did not start" % (zygote.runtime, zygote.python)
                )
    except BaseException:
        for zygote in zygotes:
            zygote.stop()
        raise
    manifest = {
        "servers": {
            os.path.realpath(z.python): {
                "runtime": z.runtime,
                "python": z.python,
                "version": z.version,
                "socket": z.socket,
                "pid": z.pid,
                "runWorker": RUN_WORKER,
                "fingerprint": startup_fingerprint(env),
            }
            for z in zygotes
        }
    }
    temp = os.path.join(folder, MANIFEST + ".tmp")
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    os.replace(temp, os.path.join(folder, MANIFEST))
    return zygotes
