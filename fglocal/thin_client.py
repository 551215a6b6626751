"""The thin client: ``fglocal invoke`` run by the runtime server's warm supervisor (opt-in).

With FGLOCAL_RUNTIME_SERVER set, what remains of a cold ``fglocal invoke`` on another runtime is
fglocal's own start-up (json, re, enum, its modules, config). The runtime server keeps a supervisor
process that has imported all of it (``fglocal.warm_supervisor``); this client, run first by
``fglocal.cli.main`` with nothing imported but ``os``, ``sys`` and ``_socket``, hands it the command:
argv, cwd, umask, the environment and its own stdin/stdout/stderr descriptors (SCM_RIGHTS). A forked
child of the supervisor adopts them and runs the ordinary command line (``fglocal.cli.run``); the
client waits for its exit code and exits with it. SIGINT/SIGTERM received here are forwarded to the
run (which ends its instance tree and returns 130, as a normal run); if this process dies, the
socket closes and the run ends the same way.

Any doubt returns to the caller, which runs the command in this process with identical output:
no usable server folder (not this user's, not 0700, gone, nobody listening), a closed descriptor
0, 1 or 2, not an ``invoke`` or a ``--help``, under a debugger, or a supervisor that is not this fglocal (the version, package folder,
interpreter, its flags and the start-up environment must match: the supervisor checks and refuses).
The native launcher (fglocal/launcher/launcher.c) speaks the same protocol: change both together.
"""

import os
import sys

SOCKET_NAME = "supervisor.sock"
PROTOCOL = b"fglocal-thin-1"
SIGINT, SIGTERM = 2, 15  # forwarded to the run (Linux numbers; the thin client is Linux only)


def token() -> bytes:
    """The identity of this process as a command runner: fglocal's version and folder, the interpreter."""
    from fglocal import __version__

    parts = (
        __version__,
        os.path.dirname(os.path.abspath(__file__)),
        sys.executable,
        sys.version,
        repr(tuple(sys.flags)),
    )
    return "\n".join(parts).encode("utf-8", "surrogateescape")


def is_invoke(argv: list, commands: object) -> bool:
    """True when ``argv`` is an ``invoke`` command line (the thin client's only command), no help."""
    if argv and (argv[0] in commands or argv[0] in ("-h", "--help", "--version")):  # type: ignore[operator]
        return False
    return "-h" not in argv and "--help" not in argv


def _usable(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (info.st_mode & 0o170777) == 0o040700 and info.st_uid == os.getuid()


def run_remotely(argv: list) -> None:
    """Run ``fglocal ARGV`` in the warm supervisor and exit with its code; return when it cannot."""
    if sys.gettrace() is not None or "pydevd" in sys.modules or "debugpy" in sys.modules:
        return
    if os.environ.get("FGLOCAL_THIN_CLIENT") == "0":
        return
    from fglocal.cli import PLUGIN_COMMANDS

    folder = os.environ.get("FGLOCAL_RUNTIME_SERVER", "")
    if not sys.platform.startswith("linux") or not is_invoke(argv, PLUGIN_COMMANDS) or not _usable(folder):
        return
    for fd in (0, 1, 2):  # all three are sent: a closed one would be the socket itself (`<&-`)
        try:
            os.fstat(fd)
        except OSError:
            return
    try:
        import _socket
    except ImportError:  # pragma: no cover
        return
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    lines = _Lines(conn)
    try:
        conn.connect(os.path.join(folder, SOCKET_NAME))
        mask = os.umask(0o022)
        os.umask(mask)
        fields = [PROTOCOL, token(), os.fsencode(os.getcwd()), b"%d" % mask, b"%d" % len(sys.argv)]
        fields += [os.fsencode(arg) for arg in sys.argv[:1] + argv]
        fields += [key + b"=" + value for key, value in os.environb.items()]
        payload = b"\0".join(fields)
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
        header = len(payload).to_bytes(4, "big")
        conn.sendmsg([header], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        conn.sendall(payload)
        answer = lines.next()
    except OSError:
        conn.close()
        return
    if not answer.startswith(b"OK"):
        conn.close()  # refused (another fglocal, limits it cannot give): run it here
        return
    _wait(conn, lines)


class _Lines:
    """The supervisor's answer lines, read as they come (not one byte per system call)."""

    def __init__(self, conn: object) -> None:
        self.conn = conn
        self.buffer = b""

    def next(self) -> bytes:
        """The next line with its newline; what arrived before the connection closed otherwise."""
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(256)  # type: ignore[attr-defined]
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


def _wait(conn: object, lines: _Lines) -> None:
    """Forward signals to the run until it reports its exit code; exit with it."""
    import _signal

    def forward(signum: int, frame: object) -> None:
        try:
            conn.send(b"S%d\n" % signum)  # type: ignore[attr-defined]
        except OSError:
            pass

    # As a normal run: SIGTERM always ends it (fglocal.cli sets a handler), SIGINT unless this
    # process started with it ignored. Other signals end this process, and so the run.
    if _signal.getsignal(SIGINT) != _signal.SIG_IGN:
        _signal.signal(SIGINT, forward)
    _signal.signal(SIGTERM, forward)
    try:
        answer = lines.next()
    except OSError:  # reset: as closed (the native launcher, fglocal/launcher/launcher.c, does the same)
        answer = b""
    if answer.startswith(b"X") and answer.endswith(b"\n") and answer[1:-1].isdigit():
        os._exit(int(answer[1:-1]) & 0xFF)
    os.write(2, b"fglocal: error: the runtime server ended during the run\n")
    os._exit(1)
