"""Which Python runs a function: the interpreter of its runtime (``python3.9`` → a Python 3.9).

Resolution order, first match wins: ``--python PATH`` (CLI), ``"python"`` in ``fglocal.json`` (local
only), the ``FGLOCAL_PYTHON`` environment variable, then discovery: the tool's own interpreter when
it is the runtime's version, ``pythonX.Y`` on ``PATH`` (version-manager shims skipped: their
interpreters are found directly), pyenv (``$PYENV_ROOT/versions/X.Y.*``), uv-managed Pythons, asdf,
conda environments. The chosen interpreter's version is checked (once per interpreter binary: the
answer is cached by path, real path, size and modification time, for a native executable named
python* only: a wrapper script or a version manager's dispatcher is asked every time, since what it
runs can change while it does not). When none fits, :class:`InterpreterError`
says where it looked and how to fix it; ``any_python`` runs on the tool's own interpreter instead,
with a warning.
"""

from __future__ import annotations

import json
import os
import sys

from fglocal.contract import runtime_version

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

ENV_VARIABLE = "FGLOCAL_PYTHON"
# The Python the function runs on talks to the supervisor with the instance package
# (fglocal/_instance), which supports these.
OLDEST_SUPPORTED = (2, 7)


class Interpreter:
    """The Python that runs a function: path, full version, where it was found, and any warning."""

    __slots__ = ("path", "runtime", "source", "version", "warning")

    def __init__(
        self, path: str, version: Tuple[int, int, int], source: str, runtime: str, warning: str = ""
    ) -> None:
        self.path = path
        self.version = version
        self.source = source  # "--python", "fglocal.json", "FGLOCAL_PYTHON", "fglocal", "PATH", "pyenv", ...
        self.runtime = runtime
        self.warning = warning  # set when it is not the runtime's version (--any-python)

    @property
    def version_text(self) -> str:
        """The full version, e.g. ``3.6.15``."""
        return "%d.%d.%d" % self.version

    @property
    def is_tool(self) -> bool:
        """True when it is the interpreter running fglocal itself (the instance can be forked).

        A virtual environment's python and its base interpreter are the same binary but not the same
        environment (site-packages): only the very interpreter fglocal runs on counts.
        """
        if os.path.abspath(self.path) == os.path.abspath(sys.executable):
            return True
        return sys.prefix == sys.base_prefix and _same_file(self.path, sys.executable)

    def to_json(self) -> Dict[str, str]:
        """The ``"python"`` object of ``fglocal invoke --json``: version and path."""
        return {"version": self.version_text, "path": self.path}

    def describe(self) -> str:
        """One line for people: ``Python 3.6.15 (/path/python3.6, found by pyenv)``."""
        return "Python %s (%s, %s)" % (
            self.version_text,
            self.path,
            _SOURCE_TEXT.get(self.source, self.source),
        )

    def __repr__(self) -> str:
        return "Interpreter(%r, %s, source=%r)" % (self.path, self.version_text, self.source)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interpreter) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )


_SOURCE_TEXT = {
    "--python": "from --python",
    "fglocal.json": 'from "python" in fglocal.json',
    ENV_VARIABLE: "from " + ENV_VARIABLE,
    "fglocal": "the interpreter running fglocal",
    "any-python": "the interpreter running fglocal (--any-python)",
    "PATH": "found on PATH",
    "pyenv": "found by pyenv",
    "uv": "a uv-managed Python",
    "asdf": "found by asdf",
    "conda": "a conda environment",
}


class InterpreterError(Exception):
    """No interpreter for the runtime (or the named one is unusable): the message says how to fix it."""

    def __init__(self, message: str, runtime: str, searched: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.runtime = runtime
        self.searched = list(searched or [])


def tool_interpreter(runtime: str, source: str = "fglocal", warning: str = "") -> Interpreter:
    """The interpreter running fglocal, as an :class:`Interpreter` for ``runtime``."""
    return Interpreter(sys.executable, tuple(sys.version_info[:3]), source, runtime, warning)  # type: ignore[arg-type]


def resolve_interpreter(
    config: Any,
    cli_python: Optional[str] = None,
    any_python: bool = False,
    environ: Optional[Mapping[str, str]] = None,
) -> Interpreter:
    """The interpreter that runs ``config``'s function (see the module docstring for the order).

    Raises :class:`InterpreterError` when the named interpreter is unusable or not the runtime's
    version, or when discovery finds none (unless ``any_python``: then the tool's own, with a warning).
    """
    environ = os.environ if environ is None else environ
    runtime = config.runtime
    wanted = runtime_version(runtime)
    config_python = getattr(config, "python", None)
    config_dir = (
        os.path.dirname(config.config_file) if getattr(config, "config_file", None) else config.code_dir
    )
    for source, value, base in (
        ("--python", cli_python, os.getcwd()),
        ("fglocal.json", config_python, config_dir),
        (ENV_VARIABLE, environ.get(ENV_VARIABLE), os.getcwd()),
    ):
        if value:
            return _named(value, base, source, runtime, wanted, any_python, environ)

    searched: List[str] = []
    for source, path in discover(wanted, environ, searched):
        if source == "fglocal":
            return tool_interpreter(runtime)
        version = interpreter_version(path)
        if version is not None and version[:2] == wanted:
            return Interpreter(path, version, source, runtime)
    message = missing_message(runtime, searched)
    if any_python:
        return tool_interpreter(runtime, "any-python", _any_python_warning(runtime, "none was found"))
    raise InterpreterError(message, runtime, searched)


def _named(
    value: str,
    base: str,
    source: str,
    runtime: str,
    wanted: Tuple[int, int],
    any_python: bool,
    environ: Mapping[str, str],
) -> Interpreter:
    path = _locate(value, base, environ)
    where = {"--python": "--python", "fglocal.json": '"python" in fglocal.json'}.get(source, source)
    if path is None:
        raise InterpreterError(
            "%s names %s, which is not an executable Python interpreter; fix it, or remove it to let "
            "fglocal find a Python %d.%d for %s" % (where, value, wanted[0], wanted[1], runtime),
            runtime,
        )
    version = interpreter_version(path)
    if version is None:
        raise InterpreterError(
            "%s names %s, which does not run as a Python interpreter (2.7 or newer); fix %s"
            % (where, path, where),
            runtime,
        )
    if version[:2] != wanted:
        text = "%s names Python %d.%d.%d (%s), but the runtime %s runs Python %d.%d" % (
            where,
            *version,
            path,
            runtime,
            *wanted,
        )
        if not any_python:
            raise InterpreterError(
                text
                + "; point %s at a Python %d.%d, or pass --any-python to run on it anyway" % (where, *wanted),
                runtime,
            )
        return Interpreter(
            path, version, source, runtime, text + " (--any-python): differences from the cloud are hidden"
        )
    return Interpreter(path, version, source, runtime)


def _locate(value: str, base: str, environ: Mapping[str, str]) -> Optional[str]:
    """An interpreter given by path (``~`` expanded, relative to ``base``) or by command name on PATH."""
    value = os.path.expanduser(value)
    if os.sep in value or (os.altsep and os.altsep in value):
        path = os.path.abspath(os.path.join(base, value))
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    for folder in environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", value)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
    return None


# -------------------------------------------------------------------------------------- discovery


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or os.path.expanduser("~")


def _versions_in(folder: str, prefix: str, wanted: Tuple[int, int]) -> List[str]:
    """Entries of ``folder`` named ``<prefix>X.Y.<micro>...``, newest micro first."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stem = "%s%d.%d." % (prefix, wanted[0], wanted[1])
    found = []
    for name in names:
        if not name.startswith(stem):
            continue
        micro_text = name[len(stem) :]
        digits = ""
        for char in micro_text:
            if not char.isdigit():
                break
            digits += char
        if digits:
            # Plain releases (3.9.18) before variants (3.9.18-debug, 3.9.18t).
            found.append((-int(digits), micro_text != digits, name))
    return [name for _, _, name in sorted(found)]


def discover(
    wanted: Tuple[int, int], environ: Mapping[str, str], searched: List[str]
) -> Iterator[Tuple[str, str]]:
    """Candidate ``(source, path)`` pairs for Python ``wanted``, in order; ``searched`` gets the places looked.

    A generator, looked at afresh on every call (nothing cached, so an interpreter installed or
    removed since is seen): the caller stops at the first that fits, so a Python found on PATH
    or by pyenv spares the listings of uv, asdf and the conda folders.
    """
    exe = "python%d.%d" % wanted
    home = _home(environ)
    if tuple(sys.version_info[:2]) == wanted:
        yield ("fglocal", sys.executable)

    searched.append("%s on PATH" % exe)
    for folder in environ.get("PATH", os.defpath).split(os.pathsep):
        # Version-manager shims (pyenv, asdf) dispatch to whichever version is selected, slowly;
        # their interpreters are found directly below.
        if not folder or os.path.basename(os.path.normpath(folder)) == "shims":
            continue
        path = os.path.join(folder, exe)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            yield ("PATH", path)

    pyenv_root = environ.get("PYENV_ROOT") or os.path.join(home, ".pyenv")
    versions = os.path.join(pyenv_root, "versions")
    searched.append("pyenv: %s/%d.%d.*" % (versions, *wanted))
    for name in _versions_in(versions, "", wanted):
        yield ("pyenv", os.path.join(versions, name, "bin", exe))

    uv_dir = environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(
        environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share"), "uv", "python"
    )
    searched.append("uv: %s/cpython-%d.%d.*" % (uv_dir, *wanted))
    for name in _versions_in(uv_dir, "cpython-", wanted):
        yield ("uv", os.path.join(uv_dir, name, "bin", exe))

    asdf_dir = os.path.join(environ.get("ASDF_DATA_DIR") or os.path.join(home, ".asdf"), "installs", "python")
    searched.append("asdf: %s/%d.%d.*" % (asdf_dir, *wanted))
    for name in _versions_in(asdf_dir, "", wanted):
        yield ("asdf", os.path.join(asdf_dir, name, "bin", exe))

    conda_roots = []
    if environ.get("CONDA_EXE"):
        conda_roots.append(os.path.dirname(os.path.dirname(environ["CONDA_EXE"])))
    for name in ("miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba", ".conda"):
        conda_roots.append(os.path.join(home, name))
    # Each root's environments and its base, in the order they are looked at.
    places = [
        os.path.join(r, "envs", "*", "bin", exe) + ", " + os.path.join(r, "bin", exe) for r in conda_roots
    ]
    searched.append("conda environments: %s" % ", ".join(places))
    seen = set()
    for root in conda_roots:
        envs = os.path.join(root, "envs")
        try:
            names = sorted(os.listdir(envs))
        except OSError:
            names = []
        for folder in [os.path.join(envs, n) for n in names] + [root]:
            path = os.path.join(folder, "bin", exe)
            if path not in seen and os.path.isfile(path):
                seen.add(path)
                yield ("conda", path)


# ---------------------------------------------------------------------------------------- version

_VERSION_CODE = "import sys; sys.stdout.write('%d.%d.%d' % tuple(sys.version_info[:3]))"


def _cache_file(path: str) -> str:
    """Where the version of the interpreter at ``path`` is cached: one small file per interpreter.

    In the private per-user folder, named after the path (``/`` and ``%`` escaped; long paths keep
    their end, and the entry names its path, so a shared name is only a cache miss). One file each,
    rather than one file for all, keeps a cold start from reading (and a miss from rewriting) the
    entries of every interpreter ever checked: test runs and version managers leave hundreds.
    """
    from fglocal.instance import default_log_dir

    name = path.replace("%", "%25").replace("/", "%2F")[-200:]
    return os.path.join(os.path.dirname(default_log_dir()), "interpreters", name + ".json")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b) and os.path.realpath(a) == os.path.realpath(b)
    except OSError:
        return False


# The first bytes of a native executable: ELF (Linux); Mach-O, thin (both byte orders) and fat (macOS).
_NATIVE_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def _is_the_interpreter(real: str) -> bool:
    """Whether the file at the real path ``real`` is a Python itself, whose version its stat can vouch for.

    A native executable named ``python*``. Not a ``#!`` wrapper (pyenv and asdf shims, conda or user
    wrappers: what it execs can change while the script does not, by ``pyenv local``, an environment
    variable or an edit that keeps its size and time) nor a dispatcher binary (mise's shims link to
    ``mise``, which picks the Python by the current folder).
    """
    if not os.path.basename(real).startswith("python"):
        return False
    try:
        with open(real, "rb") as handle:
            return handle.read(4) in _NATIVE_MAGIC
    except OSError:
        return False


def interpreter_version(path: str) -> Optional[Tuple[int, int, int]]:
    """The ``(major, minor, micro)`` of the interpreter at ``path``; None when it does not run.

    Asked by running it; cached only where the file is the interpreter (:func:`_is_the_interpreter`).
    """
    if _same_file(path, sys.executable):
        return tuple(sys.version_info[:3])  # type: ignore[return-value]
    try:
        info = os.stat(path)
    except OSError:
        return None
    key = os.path.realpath(path)
    stamp = [info.st_size, info.st_mtime_ns]
    cache_path = _cache_file(path)
    try:
        with open(cache_path, encoding="utf-8") as handle:
            entry = json.load(handle)
        # Only entries written for the interpreter itself ("native": older fglocals cached wrappers too).
        if (
            entry.get("path") == path
            and entry.get("stamp") == stamp
            and entry.get("real") == key
            and entry.get("native") is True
        ):
            return tuple(entry["version"])  # type: ignore[return-value]
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    import subprocess

    try:
        done = subprocess.run(
            [path, "-E", "-s", "-S", "-c", _VERSION_CODE],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = done.stdout.decode("ascii", "replace").split(".")
    if done.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    version = (int(parts[0]), int(parts[1]), int(parts[2]))
    if _is_the_interpreter(key):
        entry = {"path": path, "real": key, "stamp": stamp, "version": list(version), "native": True}
        _write_cache(cache_path, entry)
    else:
        try:
            os.unlink(cache_path)  # a wrapper's entry of an older fglocal: never to be read again
        except OSError:
            pass
    return version


def _write_cache(cache_path: str, entry: Dict[str, Any]) -> None:
    try:
        folder = os.path.dirname(cache_path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        temp = "%s.%d.tmp" % (cache_path, os.getpid())
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
        os.replace(temp, cache_path)
        old = os.path.join(
            os.path.dirname(folder), "interpreters.json"
        )  # the single-file cache of earlier versions
        if os.path.exists(old):
            os.unlink(old)
    except OSError:
        pass  # a cache only: the next run asks the interpreter again


# ---------------------------------------------------------------------------------------- messages


def install_hint(wanted: Tuple[int, int]) -> str:
    """How to install Python ``wanted`` (uv offers 3.8 and newer only)."""
    hints = ["pyenv install %d.%d" % wanted]
    if wanted >= (3, 8):
        hints.append("uv python install %d.%d" % wanted)
    hints.append("conda create -n py%d%d python=%d.%d" % (wanted[0], wanted[1], *wanted))
    return ", ".join(hints)


def missing_message(runtime: str, searched: List[str]) -> str:
    """The refusal: the runtime, where fglocal looked, and how to fix it."""
    wanted = runtime_version(runtime)
    return (
        "the runtime %s needs Python %d.%d, and none was found (looked at: %s). Install it (%s), or name one "
        'with --python PATH, "python" in fglocal.json or %s; --any-python runs on fglocal\'s own Python %d.%d '
        "instead"
        % (runtime, *wanted, "; ".join(searched), install_hint(wanted), ENV_VARIABLE, *sys.version_info[:2])
    )


def _any_python_warning(runtime: str, why: str) -> str:
    wanted = runtime_version(runtime)
    return (
        "the runtime %s needs Python %d.%d and %s: running on fglocal's own Python %s (%s) because of "
        "--any-python; differences from the cloud are hidden"
        % (runtime, *wanted, why, _tool_version(), sys.executable)
    )


def _tool_version() -> str:
    return "%d.%d.%d" % tuple(sys.version_info[:3])
