"""``fglocal package``: build the zip the FunctionGraph console accepts, or say why it would fail.

The zip holds the code root's files at its root (so the entry file ``index.py`` sits at the top, as
the platform requires), optionally the dependencies of ``requirements.txt`` installed by pip for the
cloud runtime's platform, and nothing that does not belong on the platform: caches, virtualenvs, VCS
folders, test events, the local config and secret files. The same input always gives the same bytes
(sorted entries, fixed timestamps and permissions).

Refused, because the function would not load on the platform: the entry file missing from the root,
a top-level module or package named like a standard library module, a symlink pointing outside the
folder, a package over the platform's size limits. Warned about: native extension modules built for
another platform or Python version, dependencies not vendored, config values the console refuses.
"""

from __future__ import annotations

import fnmatch
import json
import os
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Collection, Dict, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from fglocal.contract import CONFIG_FILE_NAME, entry_files
from fglocal.printable import printable
from fglocal.py2source import python2_message, undeclared_non_ascii
from fglocal.secret_files import (
    HEAD_BYTES,
    KEPT_EXAMPLES,
    LAUNCH_ENV_FILE,
    PRIVATE_KEY,
    REQUIREMENTS_WITH_CREDENTIALS,
    config_file_reason,
    holds_private_key,
    is_requirements_with_credentials,
    launch_env_files,
    secret_dir_reason,
    secret_file_reason,
    url_password_line,
)
from fglocal.stdlib import find_shadowing_modules
from fglocal.zip_names import arcname_problem, collision_kind, collisions, name_problem, windows_warning

MB = 1024 * 1024
# The platform's limits on code packages (Huawei Cloud FunctionGraph "Notes and constraints").
CONSOLE_ZIP_LIMIT = 40 * MB  # upload in the console
API_ZIP_LIMIT = 50 * MB  # upload through the API
OBS_ZIP_LIMIT = 300 * MB  # zip uploaded through an OBS bucket
UNZIPPED_LIMIT = 1500 * MB  # code size once unpacked
INLINE_EDITOR_LIMIT = 20 * MB  # the console's code editor shows packages up to this size
LIMIT_LINES = (
    "console upload: zip <= 40 MB (API: 50 MB); larger zips up to 300 MB through an OBS bucket",
    "unzipped code <= 1500 MB; the console's inline editor shows packages <= 20 MB",
)

# Fixed metadata that makes the zip byte-for-byte reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6

# Left out wherever they appear.
EXCLUDED_DIR_NAMES = {
    "__pycache__": "cache",
    ".git": "version control",
    ".hg": "version control",
    ".svn": "version control",
    ".mypy_cache": "cache",
    ".pytest_cache": "cache",
    ".ruff_cache": "cache",
    ".tox": "cache",
    ".nox": "cache",
    ".ipynb_checkpoints": "cache",
    ".idea": "editor settings",
    ".vscode": "editor settings",
}
EXCLUDED_FILE_PATTERNS = (
    ("*.pyc", "cache"),
    ("*.pyo", "cache"),
    (".DS_Store", "cache"),
    ("Thumbs.db", "cache"),
)
# Native extension files by the platform they were built for.
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_ELF_MACHINES = {3: "x86 (32-bit)", 40: "ARM (32-bit)", 62: "x86_64", 183: "aarch64"}


class FileEntry(NamedTuple):
    """One file of the package: its name in the zip, where its bytes come from, its mode."""

    arcname: str
    source: str
    executable: bool
    size: int


class PackagePlan(NamedTuple):
    """What ``fglocal package`` would write, and what it found wrong with it."""

    files: List[FileEntry]
    excluded: List[Tuple[str, str]]  # (path, reason)
    problems: List[str]  # refusals
    warnings: List[str]


class PackageError(Exception):
    """A package that cannot be built (bad option, pip failure); the message says what to do."""


# ------------------------------------------------------------------------------------- collecting


def _excluded_reason(name: str, is_dir: bool, at_root: bool) -> Optional[str]:
    if is_dir:
        if name in EXCLUDED_DIR_NAMES:
            return EXCLUDED_DIR_NAMES[name]
        secret = secret_dir_reason(name)
        if secret:
            return secret
        if name.endswith(".egg-info"):
            return "build metadata"
        if at_root and name.startswith("."):
            return "hidden"
        return None
    if name == CONFIG_FILE_NAME:
        return "local config"  # refined by plan_package (does it hold credentials?)
    secret = secret_file_reason(name)
    if secret:
        return secret
    for pattern, reason in EXCLUDED_FILE_PATTERNS:
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    if at_root and name.startswith(".") and name not in KEPT_EXAMPLES:
        return "hidden"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def collect_files(
    code_root: os.PathLike[str] | str,
    skip: Optional[Mapping[str, str]] = None,
) -> Tuple[List[FileEntry], List[Tuple[str, str]], List[str]]:
    """Walk ``code_root``: the files to package, what was left out (and why), and refusals.

    ``skip`` maps absolute paths to the reason they are left out (the env files, the output zip...).
    Symlinks inside the folder are followed (their target's bytes are stored); one pointing outside
    the folder, or nowhere, is a refusal, as is a name that cannot be zipped safely (see zip_names).
    """
    root = os.path.realpath(str(code_root))
    skipped = {os.path.realpath(p): reason for p, reason in (skip or {}).items()}
    files: List[FileEntry] = []
    excluded: List[Tuple[str, str]] = []
    problems: List[str] = []

    def walk(directory: str, prefix: str, chain: Set[str]) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"cannot read folder {printable(prefix or '.')}: {exc.strerror}")
            return
        for entry in entries:
            rel = prefix + entry.name
            path = entry.path
            is_link = entry.is_symlink()
            if is_link:
                target = os.path.realpath(path)
                if not _inside(target, root):
                    problems.append(
                        f"symlink {printable(rel)} points outside the function folder (to {printable(target)}): "
                        "the platform gets a broken link; copy the file in instead"
                    )
                    continue
                if not os.path.exists(target):
                    problems.append(
                        f"symlink {printable(rel)} points to {printable(target)}, which does not exist"
                    )
                    continue
            else:
                target = path
            skip_reason = skipped.get(target) or skipped.get(os.path.realpath(path))
            if skip_reason:
                excluded.append((rel, skip_reason))
                continue
            is_dir = os.path.isdir(target)
            reason = _excluded_reason(entry.name, is_dir, at_root=not prefix)
            if reason is None and is_dir and os.path.isfile(os.path.join(target, "pyvenv.cfg")):
                reason = "virtualenv"
            if reason is not None:
                excluded.append((rel + ("/" if is_dir else ""), reason))
                continue
            problem = name_problem(entry.name)
            if problem:
                kind = "folder" if is_dir else "file"
                problems.append(f"{kind} {printable(rel)}: {problem}; rename it")
                continue
            if is_dir:
                real = os.path.realpath(target)
                if real in chain:
                    problems.append(f"symlink {printable(rel)} makes a loop (back to {printable(real)})")
                    continue
                walk(target, rel + "/", chain | {real})
                continue
            try:
                info = os.stat(target)
            except OSError as exc:
                problems.append(f"cannot read {printable(rel)}: {exc.strerror}")
                continue
            if not stat.S_ISREG(info.st_mode):
                excluded.append((rel, "not a regular file"))
                continue
            if _holds_private_key(target, entry.name):  # opened only once known to be a regular file
                excluded.append((rel, PRIVATE_KEY))
                continue
            files.append(FileEntry(rel, target, bool(info.st_mode & 0o111), info.st_size))

    walk(root, "", {root})
    return files, excluded, problems


def _is_requirements_with_credentials(f: FileEntry) -> bool:
    if f.size > SCANNED_FILE_LIMIT:
        return False
    try:
        with open(f.source, "rb") as source:
            data = source.read()
    except OSError:
        return False
    return is_requirements_with_credentials(f.arcname.rsplit("/", 1)[-1], data)


def _holds_private_key(path: str, name: str) -> bool:
    """A private key under a name that does not say so (a .py module holding one is warned about)."""
    if name.endswith((".py", ".pyi")):
        return False
    try:
        with open(path, "rb") as f:
            return holds_private_key(f.read(HEAD_BYTES))
    except OSError:
        return False


# ---------------------------------------------------------------------------------------- checks


def entry_file_problem(entry: str, arcnames: Set[str], field: str = "handler") -> Optional[str]:
    """Explain the refusal when the file an entry (``index.handler``) names is not at the zip's root."""
    candidates = entry_files(entry)
    if any(c in arcnames for c in candidates):
        return None
    return (
        f"the {field} '{entry}' needs {candidates[0]} at the root of the zip, and the package has none: "
        "zip the folder's contents, not the folder "
        f"(or set codeUri in fglocal.json to the folder holding {candidates[0]})"
    )


def shadowing_problems(arcnames: Sequence[str], from_requirements: Collection[str] = ()) -> List[str]:
    """Refusals for top-level modules or packages that take a standard library module's name.

    ``from_requirements`` holds the top-level names pip installed, whose fix is another one.
    """
    entries: Dict[str, bool] = {}
    for name in arcnames:
        top, slash, _ = name.partition("/")
        entries[top] = entries.get(top, False) or bool(slash)
    problems = []
    for entry, module in find_shadowing_modules(sorted(entries.items())):
        fix = (
            "it comes from requirements.txt: drop that requirement (a backport the runtime has built in)"
            if entry.rstrip("/") in from_requirements
            else "rename it"
        )
        problems.append(
            f"{entry} shadows the standard library module '{module}': module loading fails on the platform; {fix}"
        )
    return problems


def native_warning(arcname: str, head: bytes, runtime: Tuple[int, int]) -> Optional[str]:
    """Describe a native extension file built for another platform or Python version (else None)."""
    name = arcname.rsplit("/", 1)[-1]
    if name.endswith((".pyd", ".dll")):
        return f"{arcname} is a Windows binary: it cannot load on the platform (Linux x86_64)"
    if name.endswith(".dylib") or head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        return f"{arcname} is a macOS binary: it cannot load on the platform (Linux x86_64)"
    if not name.endswith(".so") and ".so." not in name:
        return None
    if head[:4] == b"\x7fELF" and len(head) >= 20:
        order = "<" if head[5:6] == b"\x01" else ">"
        machine = struct.unpack(order + "H", head[18:20])[0]
        if machine != 62:
            built_for = _ELF_MACHINES.get(machine, f"machine {machine}")
            return f"{arcname} was built for {built_for}: the platform runs Linux x86_64"
    elif head[:4] != b"\x7fELF":
        return f"{arcname} is not a Linux shared library: it cannot load on the platform"
    parts = name.split(".")
    for tag in parts[1:-1]:
        if tag.startswith("cpython-"):
            bits = tag.split("-")
            version = bits[1] if len(bits) > 1 else ""
            wanted = f"{runtime[0]}{runtime[1]}"
            if version.isdigit() and version != wanted:
                return (
                    f"{arcname} was built for Python {version[0]}.{version[1:]}, "
                    f"the function's runtime is Python {runtime[0]}.{runtime[1]}"
                )
            if len(bits) > 2 and "linux" not in tag:
                return f"{arcname} was built for {'-'.join(bits[2:])}, not Linux"
    return None


def _source_warnings(f: FileEntry, runtime: Tuple[int, int]) -> List[str]:
    """Warnings about a Python module of the package: Python 2 encoding, a private key inside."""
    try:
        with open(f.source, "rb") as source:
            data = source.read()
    except OSError:
        return []
    warnings = []
    if runtime[0] == 2:
        found = undeclared_non_ascii(data)
        if found:
            byte, line = found
            warnings.append(
                f"{printable(f.arcname)}: Python 2.7 refuses to import it (SyntaxError: "
                f"{python2_message(f.arcname, byte, line)}); add '# -*- coding: utf-8 -*-' as its first line"
            )
    if holds_private_key(data):
        warnings.append(
            f"{printable(f.arcname)} holds a private key: it is packaged (a module is needed), but the key "
            "belongs in an encrypted environment variable or a secret store"
        )
    return warnings


def _read_head(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except OSError:
        return b""


def _requirement_count(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


# -------------------------------------------------------------------------------------- planning


def plan_package(
    config: Any,
    function_dir: os.PathLike[str] | str,
    out: Optional[Path] = None,
    deps_dir: Optional[str] = None,
    env_files: Sequence[str] = (),
) -> PackagePlan:
    """Decide the package's contents for ``config`` (a FunctionConfig) and check them.

    ``env_files`` are the env files named on the command line (``--env-file``): never packaged.
    """
    code_root = Path(config.code_root)
    skip: Dict[str, str] = {}
    for env_file in env_files:
        skip[os.path.abspath(env_file)] = "env file named by --env-file"
    launch_files = sorted(set(launch_env_files(str(function_dir)) + launch_env_files(str(code_root))))
    for env_file in launch_files:
        skip.setdefault(env_file, LAUNCH_ENV_FILE)
    config_env_file = _env_file_of(config)
    if config_env_file:
        skip[config_env_file] = f"env file named by envFile in {CONFIG_FILE_NAME}"
    if config.config_file:
        skip[str(config.config_file)] = config_file_reason(str(config.config_file))
    if out:
        skip[str(out)] = "the zip being written"
    files, excluded, problems = collect_files(code_root, skip)
    # Every fglocal.json is local configuration; say which of them hold credentials.
    excluded = [
        (rel, config_file_reason(str(code_root / rel)) if reason == "local config" else reason)
        for rel, reason in excluded
    ]
    warnings: List[str] = []
    # Test events live in the function folder's events/; left out when that folder is in the package.
    kept = []
    for f in files:
        if f.arcname.startswith("events/") and f.arcname.endswith(".json"):
            excluded.append((f.arcname, "test event"))
        elif f.arcname.startswith("dist/") and f.arcname.endswith(".zip"):
            excluded.append((f.arcname, "earlier package"))
        elif _is_requirements_with_credentials(f):
            excluded.append((f.arcname, REQUIREMENTS_WITH_CREDENTIALS))
        else:
            kept.append(f)
    files = kept
    dependency_tops: Set[str] = set()
    if deps_dir:
        own_tops = {f.arcname.split("/", 1)[0] for f in files}
        files, shadowed, deps_problems = _merge_dependencies(files, deps_dir)
        problems += deps_problems
        dependency_tops = {f.arcname.split("/", 1)[0] for f in files} - own_tops
        warnings += [f"your {p} replaces the one of the same name from requirements.txt" for p in shadowed]

    arcnames = {f.arcname for f in files}
    for field, entry in (("handler", config.handler), ("initializer", config.initializer)):
        if entry:
            problem = entry_file_problem(entry, arcnames, field)
            if problem:
                problems.append(problem)
    problems += shadowing_problems(sorted(arcnames), dependency_tops)
    for first, second in collisions(arcnames):
        kind = collision_kind(first, second)
        if kind == "case":
            names = f"{printable(first)} and {printable(second)}"
        else:  # the two look alike: show how each is written
            names = " and ".join(
                name.encode("ascii", "backslashreplace").decode() for name in (first, second)
            )
        problems.append(
            f"{names} differ only in {kind}: unzipped on Windows or macOS one overwrites the other; rename one"
        )

    runtime = config.runtime_python
    for f in files:
        name = f.arcname.rsplit("/", 1)[-1]
        windows = windows_warning(f.arcname)
        if windows:
            warnings.append(f"{printable(f.arcname)}: {windows} (fine on the platform)")
        if name.endswith(NATIVE_SUFFIXES) or ".so." in name:
            warning = native_warning(f.arcname, _read_head(f.source), runtime)
            if warning:
                warnings.append(warning)
        elif name.endswith(".py") and f.arcname.split("/", 1)[0] not in dependency_tops:
            warnings += _source_warnings(f, runtime)
    secret_sources = [path for path in (*env_files, *launch_files, config_env_file) if path]
    warnings += _embedded_secret_warnings(files, dependency_tops, _secret_values(config, secret_sources))
    requirements = code_root / "requirements.txt"
    if not deps_dir and requirements.is_file() and _requirement_count(requirements):
        warnings.append(
            f"requirements.txt lists {_requirement_count(requirements)} requirement(s) that the platform "
            "does not install: use --with-deps to vendor them, or attach them as a dependency package"
        )
    if config.timeout < 3:
        warnings.append(
            f"timeout {config.timeout:g} s is below the console's minimum of 3 s "
            "(fine locally, refused on upload)"
        )
    total = sum(f.size for f in files)
    if total > UNZIPPED_LIMIT:
        problems.append(
            f"the code is {total / MB:.1f} MB unzipped, over the platform's {UNZIPPED_LIMIT // MB} MB limit"
        )
    return PackagePlan(sorted(files), sorted(excluded), problems, warnings)


# Values shorter than this, or plain words, are too common to tell a copy from a coincidence.
MIN_SECRET_LENGTH = 8
SCANNED_FILE_LIMIT = 8 * MB


def _secret_values(config: Any, env_files: Sequence[str]) -> Dict[str, str]:
    """The values of the env files and credentials, each with what to call it (never the value)."""
    from fglocal.config import ConfigError, read_env_file

    found: Dict[str, str] = {}
    for path in env_files:
        try:
            values = read_env_file(path)
        except ConfigError:
            continue
        for key, value in values.items():
            found.setdefault(value, f"{key} from {printable(os.path.basename(path))}")
    for key, value in getattr(config, "credentials", {}).items():
        found.setdefault(value, f"the credentials' {key}")
    return {v: label for v, label in found.items() if len(v) >= MIN_SECRET_LENGTH and not v.isalpha()}


def _embedded_secret_warnings(
    files: Sequence[FileEntry], dependency_tops: Set[str], secrets: Mapping[str, str]
) -> List[str]:
    """Warnings for the package's own files that hold a secret: an env file's value, a URL's password."""
    needles = [(value.encode("utf-8", "surrogateescape"), label) for value, label in secrets.items()]
    warnings = []
    for f in files:
        if f.arcname.split("/", 1)[0] in dependency_tops or f.size > SCANNED_FILE_LIMIT:
            continue
        try:
            with open(f.source, "rb") as source:
                data = source.read()
        except OSError:
            continue
        labels = sorted({label for needle, label in needles if needle in data})
        if labels:
            warnings.append(
                f"{printable(f.arcname)} holds the value of {', '.join(labels)}: it would be uploaded with the "
                "code; read it with context.getUserData() (an encrypted variable on the platform) instead"
            )
        line = url_password_line(data)
        if line:
            warnings.append(
                f"{printable(f.arcname)} line {line} holds a URL with a password: it would be uploaded with "
                "the code; put the password in an (encrypted) environment variable"
            )
    return warnings


def _env_file_of(config: Any) -> Optional[str]:
    config_file = getattr(config, "config_file", None)
    if not config_file:
        return None
    try:
        data = json.loads(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    env_file = data.get("envFile") if isinstance(data, dict) else None
    return str(Path(config_file).parent / env_file) if isinstance(env_file, str) else None


def _merge_dependencies(
    files: List[FileEntry], deps_dir: str
) -> Tuple[List[FileEntry], List[str], List[str]]:
    deps, _, problems = collect_files(deps_dir)
    # pip's console scripts carry this machine's interpreter path: useless on the platform.
    deps = [d for d in deps if not d.arcname.startswith("bin/")]
    own_tops = {f.arcname.split("/", 1)[0] for f in files}
    shadowed = sorted({d.arcname.split("/", 1)[0] for d in deps} & own_tops)
    merged = files + [d for d in deps if d.arcname.split("/", 1)[0] not in own_tops]
    return merged, shadowed, [f"from requirements.txt: {p}" for p in problems]


def pip_command(runtime: Tuple[int, int], interpreter: Any = None) -> Tuple[List[str], str]:
    """The pip that installs dependencies for the cloud runtime, and how to describe it.

    On Linux x86_64 (the platform's architecture) the runtime's own interpreter runs its own pip:
    environment markers, wheel tags (``cp27mu``, the manylinux levels that pip knows) and any source
    build are then that Python's. Elsewhere, or when that interpreter is missing or has no pip,
    fglocal's pip downloads wheels for the runtime explicitly (``--platform manylinux2014_x86_64
    --python-version X.Y --only-binary=:all:``), which cannot build source-only requirements.
    """
    import platform

    native_host = sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
    if (
        interpreter is not None
        and tuple(interpreter.version[:2]) == tuple(runtime)
        and native_host
        and _has_pip(interpreter.path)
    ):
        return [interpreter.path, "-m", "pip", "install"], "Python %s's own pip (%s)" % (
            interpreter.version_text,
            interpreter.path,
        )
    cross = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--platform",
        "manylinux2014_x86_64",
        "--implementation",
        "cp",
        "--python-version",
        f"{runtime[0]}.{runtime[1]}",
        "--only-binary=:all:",
    ]
    why = "the runtime's interpreter was not found" if interpreter is None else "its pip cannot be used here"
    return cross, f"fglocal's pip, selecting Linux x86_64 wheels for Python {runtime[0]}.{runtime[1]} ({why})"


def _has_pip(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-m", "pip", "--version"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def hide_url_credentials(text: str) -> str:
    """``text`` with the user and password of every URL in it hidden (``https://***@host/simple``)."""
    import re

    return re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", r"\1***@", text)


def install_dependencies(
    requirements: Path,
    target: str,
    runtime: Tuple[int, int],
    pip_args: Sequence[str],
    interpreter: Any = None,
) -> None:
    """Install ``requirements`` into ``target`` with pip, for the cloud runtime (see :func:`pip_command`)."""
    pip, description = pip_command(runtime, interpreter)
    command = [
        *pip,
        "--target",
        target,
        "--requirement",
        str(requirements),
        "--no-compile",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        *pip_args,
    ]
    shown = " ".join(hide_url_credentials(arg) for arg in command[1:])
    print(f"installing dependencies with {description}: {shown}", flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        tail = hide_url_credentials("\n".join(done.stdout.strip().splitlines()[-15:]))
        raise PackageError(
            f"pip could not install requirements.txt for Python {runtime[0]}.{runtime[1]} on Linux x86_64 "
            f"(exit {done.returncode}, {description}):\n{tail}\n"
            "A requirement without a wheel for that platform must be built on Linux for that Python."
        )


# ---------------------------------------------------------------------------------------- writing


def write_zip(files: Sequence[FileEntry], out: Path) -> int:
    """Write ``files`` into a reproducible zip at ``out`` (atomically); return its size in bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=str(out.parent))
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for f in sorted(files):
                problem = arcname_problem(f.arcname)
                if problem:
                    raise PackageError(f"{printable(f.arcname)}: {problem}")
                info = zipfile.ZipInfo(f.arcname, date_time=ZIP_DATE)
                info.create_system = 3  # Unix, so the permission bits below are honoured
                info.external_attr = ((0o100755 if f.executable else 0o100644) & 0xFFFF) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(f.source, "rb") as src:
                    data = src.read()
                archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        os.replace(tmp, str(out))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out.stat().st_size


def human_size(size: float) -> str:
    """A size as the package report shows it (B, KB or MB)."""
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024.0
    return f"{size:.1f} MB"


def default_output(function_dir: os.PathLike[str] | str, config: Any) -> Path:
    """Return the default zip path, ``<function folder>/dist/<function name>.zip``."""
    name = config.function_name or Path(config.code_root).name or "function"
    return Path(function_dir).resolve() / "dist" / (name + ".zip")


def size_problems(zip_size: int) -> Tuple[List[str], List[str]]:
    """Refusals and warnings for a zip of ``zip_size`` bytes against the upload limits."""
    if zip_size > OBS_ZIP_LIMIT:
        return [f"the zip is {human_size(zip_size)}, over the 300 MB limit even through OBS"], []
    if zip_size > API_ZIP_LIMIT:
        return [], [
            f"the zip is {human_size(zip_size)}: over the console's 40 MB, upload it through an OBS bucket"
        ]
    if zip_size > CONSOLE_ZIP_LIMIT:
        return [], [
            f"the zip is {human_size(zip_size)}: over the console's 40 MB upload (the API takes 50 MB)"
        ]
    return [], []
