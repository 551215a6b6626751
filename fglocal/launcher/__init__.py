"""The native launcher (launcher.c): ``fglocal invoke`` as a C thin client, built by the runtime server.

A Python thin client (fglocal.thin_client) pays a Python 3 start-up (18-26 ms) before it can hand the
command to the warm supervisor; on Python 2.7, whose own floor is about that, no Python client can
come near it. ``fglocal runtime-server`` therefore compiles launcher.c (with ``$CC`` or ``cc``) into
its private folder while its zygotes start, and prints ``FGLOCAL_LAUNCHER=PATH``. The launcher speaks
the same protocol and falls back to the Python fglocal (execv, same arguments) whenever that would.

What it must know comes from here, at build time, into a generated header (one source of truth):
the protocol and socket name (fglocal.thin_client), the token the supervisor accepts (computed by
the server: the same interpreter and fglocal as its warm supervisor), the command names that are not
invokes (fglocal.cli.PLUGIN_COMMANDS) and how to run the Python fglocal. No environment value goes
into it: nothing secret is in the header or the binary.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (fglocal keeps its start-up imports small)
if TYPE_CHECKING:
    from typing import Iterable, List, Optional, Tuple

ENV_VARIABLE = "FGLOCAL_LAUNCHER"  # the name of the line the server prints (not read from the environment)
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launcher.c")
HEADER = "launcher_config.h"
PROGRAM = "fglocal"  # the launcher's file name in <server folder>/bin
BUILD_SECONDS = 60.0  # a compile that takes longer (a wedged compiler) leaves the launcher off
CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra")


def console_script() -> Optional[Tuple[str, str]]:
    """The console script of fglocal for this interpreter, and the interpreter its ``#!`` names; or None.

    Looked for where this interpreter installs scripts (beside it, its scheme's and its user scheme's
    scripts folder: ``pip install --user`` puts it in ~/.local/bin) and where the distribution's
    RECORD says it is, under the entry point names of ``fglocal.cli:main``. It counts when its ``#!``
    runs this interpreter in this environment: the same file, or the same binary in the same folder
    (a venv's ``python`` and ``python3``), or outside a venv one the same binary. The server may be
    started another way (``python3 -m fglocal``): the clients are this script, so the warm supervisor
    runs on its interpreter (its path is in the token) and the launcher falls back to it.
    """
    import sysconfig

    names, places = ["fglocal"], [os.path.dirname(sys.executable)]
    for scheme in (None, "%s_user" % os.name):
        try:
            places.append(sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts"))
        except KeyError:  # no such scheme here
            pass
    candidates = []
    try:
        from importlib import metadata

        for dist in metadata.distributions():
            points = [
                ep
                for ep in dist.entry_points
                if ep.group == "console_scripts" and ep.value == "fglocal.cli:main"
            ]
            names += [ep.name for ep in points]
            if points:
                candidates += [
                    str(dist.locate_file(f)) for f in dist.files or [] if os.path.basename(str(f)) in names
                ]
    except Exception:  # a broken distribution's metadata: the usual places only
        pass
    candidates += [os.path.join(place, name) for place in places for name in names]
    for script in candidates:
        script = os.path.abspath(script)
        try:
            with open(script, "rb") as handle:
                first = handle.readline().rstrip(b"\r\n")
        except OSError:
            continue
        if first.startswith(b"#!") and os.access(script, os.X_OK):
            interpreter = os.fsdecode(first[2:].strip())
            if " " not in interpreter and _this_interpreter(interpreter):
                return script, interpreter
    return None


def _this_interpreter(path: str) -> bool:
    """True when ``path`` runs this interpreter in this environment (see console_script)."""
    if not os.path.isabs(path):
        return False
    here = os.path.abspath(sys.executable)
    if os.path.abspath(path) == here:
        return True
    if os.path.realpath(path) != os.path.realpath(here):
        return False
    if os.path.dirname(os.path.abspath(path)) == os.path.dirname(here):
        return True
    venv = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), "pyvenv.cfg")
    return sys.prefix == sys.base_prefix and not os.path.exists(venv)


def client_interpreter() -> str:
    """The interpreter fglocal's clients run on: the console script's, else this one (``sys.executable``)."""
    found = console_script()
    return found[1] if found else sys.executable


def fallback_command() -> Tuple[List[str], str]:
    """How the launcher runs the Python fglocal (argv before the arguments), and that one's ``sys.argv[0]``.

    fglocal's console script (see console_script), else ``sys.executable -m fglocal``.
    ``sys.argv[0]`` is what the Python thin client would send as its own.
    """
    found = console_script()
    if found:
        return [found[0]], found[0]
    import fglocal

    main = os.path.join(os.path.dirname(os.path.abspath(fglocal.__file__)), "__main__.py")
    return [sys.executable, "-m", "fglocal"], main


def c_string(data: bytes) -> str:
    """``data`` as a C string literal: letters, digits and plain punctuation as they are, the rest octal.

    Three-digit octal escapes (never hex, which would swallow a following hex digit), and ``?``
    escaped too (``??=`` is a trigraph in C99).
    """
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#%&'()*+,-./:;<=>@[]^_{|}~"
    return '"' + "".join(chr(byte) if byte in safe else "\\%03o" % byte for byte in data) + '"'


def header(
    token: bytes, fallback: List[str], argv0: str, commands: Iterable[str], utf8_mode: Optional[int] = None
) -> str:
    """The generated launcher_config.h (``utf8_mode``: the token's, this interpreter's by default)."""
    if utf8_mode is None:
        utf8_mode = sys.flags.utf8_mode
    from fglocal import thin_client

    def array(items: Iterable[str]) -> str:
        return "{" + ", ".join([c_string(os.fsencode(item)) for item in items] + ["NULL"]) + "}"

    return "\n".join(
        [
            "/* Generated by fglocal.launcher for this runtime server: do not edit. */",
            "#define FGL_PROTOCOL %s" % c_string(thin_client.PROTOCOL),
            "#define FGL_SOCKET_NAME %s" % c_string(thin_client.SOCKET_NAME.encode("ascii")),
            "#define FGL_UTF8_MODE %d  /* the server's sys.flags.utf8_mode (in the token) */" % utf8_mode,
            "static const char fgl_token[] = %s;" % c_string(token),
            "static const char fgl_argv0[] = %s;" % c_string(os.fsencode(argv0)),
            "static const char *const fgl_fallback[] = %s;" % array(fallback),
            "/* fglocal.cli.PLUGIN_COMMANDS: not invokes, run by the Python fglocal */",
            "static const char *const fgl_commands[] = %s;" % array(commands),
            "",
        ]
    )


def compiler() -> Tuple[Optional[List[str]], str]:
    """The C compiler's command (``$CC``, split as a shell would, else ``cc`` on PATH); or None and why not."""
    import shlex
    import shutil

    named = os.environ.get("CC", "").strip()
    try:
        command = shlex.split(named) if named else ["cc"]
    except ValueError as exc:  # unbalanced quotes
        return None, "CC=%s cannot be split into words: %s" % (named, exc)
    found = shutil.which(command[0]) if command else None
    if found is None:
        if named:
            return None, "the C compiler CC=%s was not found" % named
        return None, "no C compiler found (no cc on PATH, CC not set)"
    return [found, *command[1:]], ""


def default_cache() -> Optional[str]:
    """Where built launchers are kept for the next server: ``launchers`` in fglocal's private per-user folder."""
    from fglocal.instance import default_log_dir, private_dir

    try:
        folder = os.path.join(os.path.dirname(default_log_dir()), "launchers")
        private_dir(folder)
    except (ValueError, OSError):  # LogDirError (a ValueError): not private, cannot be made
        return None
    return folder


class Build:
    """A compile of the launcher into ``folder``/bin, run beside the server's start (``finish`` waits).

    ``token``, ``fallback`` and ``utf8_mode`` are this process's own by default (the tests build others).
    The token must be the warm supervisor's: ``finish`` takes it once that one is ready, and builds
    again if it is not the one this compile began with (a server started with interpreter flags,
    ``python -O -m fglocal runtime-server``; the supervisor runs without them). A launcher built from
    the same source, header and compiler command before is taken from ``cache`` (fglocal's private
    per-user folder by default; the last CACHED kept): on a busy machine a compile takes longer than
    the zygotes' start, and the editor starts a server in every session.
    """

    def __init__(
        self,
        folder: str,
        token: Optional[bytes] = None,
        fallback: Optional[Tuple[List[str], str]] = None,
        utf8_mode: Optional[int] = None,
        cache: Optional[str] = None,
    ) -> None:
        import subprocess

        from fglocal import thin_client

        self.bin = os.path.join(folder, "bin")
        self.path = os.path.join(self.bin, PROGRAM)
        self.partial = self.path + ".part"
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.cached: Optional[str] = None
        self.reused = False
        self.token = thin_client.token() if token is None else token
        self.fallback = fallback
        self.utf8_mode = utf8_mode
        self.cache = default_cache() if cache is None else cache
        self.command, self.why = compiler()
        if self.command is not None:
            self._begin()

    def _begin(self) -> None:
        """Write the header and the source's copy into bin/, then take the cached launcher or start the compile."""
        import hashlib
        import subprocess

        from fglocal.cli import PLUGIN_COMMANDS

        assert self.command is not None
        program, argv0 = self.fallback or fallback_command()
        text = header(self.token, program, argv0, PLUGIN_COMMANDS, self.utf8_mode)
        # The compiled copy sits beside its header: `#include "..."` looks in the source's folder
        # first, so a stray launcher_config.h beside the installed launcher.c is never used.
        source_copy = os.path.join(self.bin, os.path.basename(SOURCE))
        try:
            os.makedirs(self.bin, mode=0o700, exist_ok=True)
            with open(SOURCE, "rb") as handle:
                source = handle.read()
            for path, data in ((os.path.join(self.bin, HEADER), text.encode("ascii")), (source_copy, source)):
                with open(path, "wb") as handle:
                    handle.write(data)
        except OSError as exc:
            self.why = "cannot write its header into %s: %s" % (self.bin, exc.strerror)
            return
        argv = [*self.command, *CFLAGS, "-I", self.bin, "-o", self.partial, source_copy]
        if self.cache:
            words = [source, text.encode("ascii"), *(os.fsencode(word) for word in [*self.command, *CFLAGS])]
            self.cached = os.path.join(self.cache, hashlib.sha256(b"\0".join(words)).hexdigest()[:32])
            if _copy(self.cached, self.path):
                self.reused = True
                try:
                    os.utime(self.cached)  # recently used: kept
                except OSError:  # dropped meanwhile by another server's build
                    pass
                return
        # Its own session (a cancel ends cc1 and the assembler too, not only the driver), its
        # temporary files in bin/ (removed with the server's folder, whatever happens to them).
        env = dict(os.environ, TMPDIR=self.bin)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            self.why = "the C compiler %s could not start: %s" % (self.command[0], exc.strerror)

    def cancel(self) -> None:
        """Stop a compile still running (the server is ending before it was ready): its whole process group."""
        import signal
        import subprocess

        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for signum, seconds in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, signum)  # the driver deletes its temporary files on SIGTERM
            except OSError:
                pass
            try:
                proc.communicate(timeout=seconds)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what the driver left running (its group outlives it)
        except OSError:
            pass

    def finish(
        self, seconds: float = BUILD_SECONDS, token: Optional[bytes] = None
    ) -> Tuple[Optional[str], str]:
        """The launcher's path once built; else None and why (the compiler's first error line).

        ``token``: the warm supervisor's, when known; a launcher begun with another one is built again.
        """
        import subprocess

        if token is not None and token != self.token and self.command is not None:
            self.cancel()
            self.proc, self.cached, self.reused, self.token = None, None, False, token
            self._begin()
        if self.reused:
            return self.path, ""
        if self.proc is None:
            return None, self.why
        try:
            output, _ = self.proc.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.cancel()
            return None, "the C compiler took more than %d seconds" % seconds
        if self.proc.returncode != 0 or not os.path.exists(self.partial):
            return None, "the C compiler failed: %s" % _first_error(output.decode("utf-8", "replace"))
        os.replace(self.partial, self.path)
        if self.cached is not None:
            _keep(self.path, self.cached)
        return self.path, ""


CACHED = 8  # launchers kept in the cache (one per fglocal install, interpreter and compiler in use)


def _copy(source: str, target: str) -> bool:
    """Put the file ``source`` (this user's, executable) at ``target``: a hard link, else a copy; False if not."""
    import shutil

    try:
        info = os.lstat(source)
        if not (info.st_mode & 0o170000 == 0o100000 and info.st_uid == os.getuid() and info.st_mode & 0o100):
            return False
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copy2(source, target)
    except OSError:
        return False
    return True


def _keep(path: str, cached: str) -> None:
    """Store the launcher at ``path`` as ``cached`` (complete or not at all); drop the least recently used."""
    partial = "%s.%d.part" % (cached, os.getpid())
    folder = os.path.dirname(cached)
    try:
        if _copy(path, partial):
            os.replace(partial, cached)
        _drop_stale_parts(folder)
        entries = [os.path.join(folder, name) for name in os.listdir(folder) if not name.endswith(".part")]
        entries.sort(key=lambda entry: os.stat(entry).st_mtime, reverse=True)
        for entry in entries[CACHED:]:
            os.unlink(entry)
    except OSError:
        pass


STALE_PART_SECONDS = 600.0  # a .part older than this was left by a server that died while storing it


def _drop_stale_parts(folder: str) -> None:
    """Remove the cache's ``.part`` files that no store will finish (their server was killed meanwhile)."""
    import time

    for name in os.listdir(folder):
        if name.endswith(".part"):
            entry = os.path.join(folder, name)
            try:
                if os.lstat(entry).st_mtime < time.time() - STALE_PART_SECONDS:
                    os.unlink(entry)
            except OSError:  # finished or removed meanwhile
                pass


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["(no output)"])[0]
