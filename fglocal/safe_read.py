"""Reading files a workspace or launch configuration names without ever hanging (for the tools).

A cloned repository decides which paths the language server and the debug adapter open, so every such
read goes through :func:`read_text`: only a regular file, at most ``limit`` bytes, valid UTF-8, read
on a daemon thread that is given up after ``timeout`` seconds (a FIFO, ``/dev/stdin``, a device or a
stuck network mount never blocks the tool). Anything else raises :class:`UnreadableFile` with a
message that names the file and the problem, never its content, for the caller to turn into a
diagnostic or a launch error. :func:`check_config_files` checks what ``load_config`` will open.
Standard library only (the tools import it; the function's process never does).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from typing import Callable, List, Optional, TypeVar

from fglocal.config import CONFIG_FILE_NAME, ConfigError

MAX_FILE_BYTES = 1_000_000  # config, env and event files are small; a bigger one is a mistake
READ_TIMEOUT = 5.0  # seconds; a safety net against a stuck file system, not a speed limit
_T = TypeVar("_T")

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class UnreadableFile(Exception):
    """A file the workspace names that the server will not (or cannot) read; the message says why."""


class TimedOut(Exception):
    """A bounded call (:func:`call_bounded`) did not finish in time."""


def read_text(path: str | os.PathLike, limit: int = MAX_FILE_BYTES, timeout: float = READ_TIMEOUT) -> str:
    """The UTF-8 text of the regular file ``path``; :class:`UnreadableFile` for anything else."""
    data = read_bytes(path, limit, timeout)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            "%s is not UTF-8 text (byte 0x%02x at offset %d)" % (os.fspath(path), data[exc.start], exc.start)
        ) from None


def check_config_files(code_dir: str | os.PathLike, text: Optional[str] = None) -> None:
    """Check ``code_dir``'s fglocal.json and the envFile it names with :func:`read_text`.

    Run before :func:`fglocal.config.load_config` (which opens them without these checks); raises
    :class:`ConfigError` naming the field and the problem. ``text``: the config's content as an
    editor holds it (the envFile it names is checked; the file itself is not read).
    """
    config_file = os.path.join(os.fspath(code_dir), CONFIG_FILE_NAME)
    if text is None:
        if not os.path.lexists(config_file):
            return
        try:
            text = read_text(config_file)
        except UnreadableFile as exc:
            raise ConfigError("config file", str(exc)) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return  # load_config reports the JSON error with its position
    if not isinstance(data, dict) or not isinstance(data.get("envFile"), str):
        return
    env_file = os.path.join(os.path.dirname(os.path.realpath(config_file)), data["envFile"])
    try:
        read_text(env_file)
    except UnreadableFile as exc:
        raise ConfigError("envFile", str(exc), config_file) from None


def read_bytes(path: str | os.PathLike, limit: int = MAX_FILE_BYTES, timeout: float = READ_TIMEOUT) -> bytes:
    """The bytes of the regular file ``path`` (any encoding); :class:`UnreadableFile` for anything else."""
    try:
        return call_bounded(_read_bytes, timeout, os.fspath(path), limit)
    except TimedOut:
        raise UnreadableFile("%s could not be read within %g s" % (os.fspath(path), timeout)) from None


def check_regular(path: str | os.PathLike) -> Optional[str]:
    """Why ``path`` is not a file the tools may read ("is a FIFO ..."), None for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        return _os_problem(exc)
    return _kind_problem(mode)


def call_bounded(function: Callable[..., _T], timeout: float, *args: object) -> _T:
    """``function(*args)`` on a daemon thread; :class:`TimedOut` when it has not returned in ``timeout``.

    The thread is a daemon, so a call stuck in the kernel (a FIFO nobody writes) never keeps the
    server from exiting; its eventual result is dropped.
    """
    done = threading.Event()
    results: List[_T] = []
    errors: List[BaseException] = []

    def run() -> None:
        try:
            results.append(function(*args))
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)
        done.set()

    threading.Thread(target=run, name="fg-bounded-read", daemon=True).start()
    if not done.wait(timeout):
        raise TimedOut("%s did not finish within %g s" % (getattr(function, "__name__", "call"), timeout))
    if errors:
        raise errors[0]
    return results[0]


def _read_bytes(path: str, limit: int) -> bytes:
    problem = check_regular(path)  # refuse a FIFO or device before opening it (opening can block)
    if problem is not None:
        raise UnreadableFile("%s %s" % (path, problem))
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the check, open does not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as exc:
        raise UnreadableFile("%s %s" % (path, _os_problem(exc))) from None
    try:
        info = os.fstat(fd)
        problem = _kind_problem(info.st_mode)
        if problem is None and info.st_size > limit:
            problem = _size_problem(info.st_size, limit)
        if problem is not None:
            raise UnreadableFile("%s %s" % (path, problem))
        chunks: List[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew after the fstat
            raise UnreadableFile("%s %s" % (path, _size_problem(size, limit)))
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile("%s %s" % (path, _os_problem(exc))) from None
    finally:
        os.close(fd)


def _kind_problem(mode: int) -> Optional[str]:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return "is %s, not a regular file" % kind


def _size_problem(size: int, limit: int) -> str:
    return "is over the %s-byte limit (%s bytes or more)" % (format(limit, ","), format(size, ","))


def _os_problem(exc: Exception) -> str:
    if not isinstance(exc, OSError):
        return "cannot be read: the path contains a NUL character"
    if exc.errno == errno.ELOOP:
        return "cannot be read: a symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied"
    return "cannot be read: %s" % (exc.strerror or type(exc).__name__)
