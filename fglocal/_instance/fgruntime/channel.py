"""What the supervisor and the instance share: the clock mapping, the state codes, the message framing.

Imported by the supervisor (:mod:`fglocal.instance`, :mod:`fglocal.proctree`) without the rest of the
instance side (no threading, no loader), so a spawned instance's supervisor stays light; runs on
Python 2.7 and 3.6+ like the rest of ``fgruntime``.
"""

from __future__ import absolute_import

import mmap
import os
import sys
import time

from .compat import PY2

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

# The shared clock: three doubles, the deadline (wall-clock time.time(): Python 2.7 has no
# time.monotonic, and the supervisor re-publishes it from its monotonic clock at every start and
# resume, so only a clock jump within one invocation could skew it), while a debugger holds the
# invocation the milliseconds that were left when it paused (-1 when running), and the instance's
# state (STATE_*; written by the worker). The supervisor writes the first two; the worker's Context
# reads them, so paused time does not count against the timeout. The mapping outlives anything the
# function does to file descriptors, so the worker can still say why it stopped when its pipes are gone.
CLOCK_SIZE = 24  # three native doubles (see _Doubles)
STATE_OK = 0.0
STATE_PIPE_LOST = 1.0  # the function closed or replaced the worker's pipes to the supervisor
PR_SET_CHILD_SUBREAPER = 36


class _Doubles(object):
    """Native doubles in a buffer: memoryview.cast (3.3+, no import) or struct (Python 2.7)."""

    def __init__(self, buffer):  # type: (Any) -> None
        try:
            self._view = memoryview(buffer).cast("d")  # type: Any
            self._buffer = None  # type: Any
        except (AttributeError, TypeError):  # pragma: no cover - Python 2.7 (no cast, no buffer on mmap)
            import struct

            self._view = None
            self._buffer = buffer
            self._struct = struct

    def __getitem__(self, index):  # type: (int) -> float
        if self._view is not None:
            return self._view[index]  # type: ignore[no-any-return]
        return self._struct.unpack_from("d", self._buffer, index * 8)[0]  # type: ignore[no-any-return]

    def __setitem__(self, index, value):  # type: (int, float) -> None
        if self._view is not None:
            self._view[index] = value
        else:
            self._struct.pack_into("d", self._buffer, index * 8, value)


class SharedClock(object):
    """Deadline shared between supervisor and instance through a small memory-mapped file."""

    def __init__(self, path, create=False):  # type: (str, bool) -> None
        fd = os.open(path, os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0), 0o600)
        try:
            if create:
                os.ftruncate(fd, CLOCK_SIZE)
            self._map = mmap.mmap(fd, CLOCK_SIZE)
            self._doubles = _Doubles(self._map)
        finally:
            os.close(fd)

    def set(self, deadline, paused_remaining_ms=-1.0):  # type: (float, float) -> None
        """Publish a new deadline (``time.time()``) and the frozen remaining time while paused."""
        # The paused value first: a reader that sees the new deadline must not see a stale pause.
        self._doubles[1] = paused_remaining_ms
        self._doubles[0] = deadline

    def get(self):  # type: () -> Tuple[float, float]
        """The (deadline, paused_remaining_ms) pair."""
        return self._doubles[0], self._doubles[1]

    def remaining_ms(self):  # type: () -> int
        """Milliseconds left before the deadline, frozen while paused."""
        deadline, paused = self.get()
        if paused >= 0:
            return int(paused)
        return max(0, int((deadline - time.time()) * 1000))

    def set_state(self, state):  # type: (float) -> None
        """Record the instance's state (STATE_*) for the supervisor."""
        self._doubles[2] = state

    def state(self):  # type: () -> float
        """The instance's state (STATE_*)."""
        return self._doubles[2]


# Where one thread's children are listed (Linux 3.5+ built with CONFIG_PROC_CHILDREN), ``% (pid, tid)``.
# The tests point it at a missing file to run the fallback, a scan of every process in /proc.
CHILDREN_FILE = "/proc/%d/task/%s/children"


def read_proc(path):  # type: (str) -> bytes
    """A /proc file's contents with os.open/os.read: one read for a small file, no file object.

    A /proc file gives less than asked for only at its end, so one read of 64 kB is the whole of
    any stat or status file (a longer one is read on).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 65536)
        if len(data) < 65536:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, 65536)
            chunks.append(data)
        return b"".join(chunks)
    finally:
        os.close(fd)


def listed_children(parent):  # type: (int) -> Optional[List[int]]
    """The children of process ``parent`` (zombies included), from its threads' ``children`` files.

    A child is listed under the thread that started it (the function's call thread, say), so every
    thread's file is read: a listing of ``/proc/PID/task`` and one small read per thread, against a
    read of every process's stat for a scan. None where there are no such files (a kernel without
    CONFIG_PROC_CHILDREN) or ``parent`` is gone: the caller scans /proc instead.
    """
    try:
        threads = os.listdir("/proc/%d/task" % parent)
    except OSError:
        return None
    found = []  # type: List[int]
    for tid in threads:
        try:
            data = read_proc(CHILDREN_FILE % (parent, tid))
        except OSError:  # IOError is OSError on 2.7 for os.open
            if tid == str(parent):
                return None  # the main thread's file is missing: none of them exists here
            continue  # a thread that ended meanwhile (its children went to another thread)
        found.extend(int(pid) for pid in data.split())
    return found


def proc_stat(pid):  # type: (int) -> Optional[List[bytes]]
    """The fields of ``/proc/PID/stat`` after the command name (state, ppid, ...); None when it is gone."""
    try:
        data = read_proc("/proc/%d/stat" % pid)
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")".
    fields = data[data.rfind(b")") + 2 :].split()
    return fields if len(fields) > 20 else None


_prctl = []  # type: List[Any]  # prctl(2) through _ctypes, built once per process (forks inherit it)


def _prctl_function():  # type: () -> Any
    """prctl(2) from the process's own libc through ``_ctypes`` (the C half of ctypes, a fifth of its import cost)."""
    if not _prctl:
        import _ctypes

        class _Libc(object):
            _handle = _ctypes.dlopen(None, 2)  # type: ignore[arg-type] # RTLD_NOW; the process's own symbols (libc)

        class _CInt(_ctypes._SimpleCData):
            _type_ = "i"

        class _CULong(_ctypes._SimpleCData):
            _type_ = "L"

        class _Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = _CInt

        prctl = _Function(("prctl", _Libc()))  # type: ignore[arg-type]
        prctl.argtypes = (_CULong,) * 5
        _prctl.append(prctl)
    return _prctl[0]


def prepare_subreaper():  # type: () -> bool
    """Build the prctl function :func:`set_child_subreaper` calls (imports ``_ctypes``); False where there is none."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        _prctl_function()
    except Exception:
        return False
    return True


def set_child_subreaper():  # type: () -> bool
    """Make this process adopt its orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``).

    Then a descendant whose parent exits (a double fork, ``setsid`` and fork) is re-parented to
    this process instead of init, so the whole tree stays findable under it. The setting is not
    inherited across fork, but the prctl function is: a process that forks instances or runs (the
    runtime server's) builds it once before. Returns False where it is not available.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return _prctl_function()(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0  # type: ignore[no-any-return]
    except Exception:  # no libc symbol, no _ctypes: the supervisor falls back to what it can find
        return False


def write_line(fd, text):  # type: (int, str) -> None
    """Write ``text`` and a newline to the pipe ``fd`` completely (one JSON message)."""
    if isinstance(text, bytes):  # Python 2.7's json.dumps gives ASCII bytes
        data = text + b"\n"
    elif PY2:  # pragma: no cover
        data = (text + "\n").encode("utf-8")
    else:
        data = (text + "\n").encode("utf-8", "surrogatepass")
    write_all(fd, data)


def write_all(fd, data):  # type: (int, bytes) -> None
    """Write all of ``data`` to ``fd`` (a pipe may take it in parts)."""
    view = memoryview(data)
    while len(view):
        view = view[os.write(fd, view) :]


def listen_private(path, backlog=64):  # type: (str, int) -> Any
    """A Unix stream socket listening at ``path``, made 0600: only this user can connect to it."""
    import socket  # here, not at the top: the supervisor of a spawned instance never needs it

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(backlog)
    return listener
