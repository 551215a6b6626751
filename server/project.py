"""The function a document belongs to: its folder, config (fglocal.json) and file list.

This is the only place the server touches the disk besides reading documents: it reads
``fglocal.json`` through :func:`fglocal.config.load_config` (which never runs code) and lists the
code folder. Every file the config names is first checked with :func:`fglocal.safe_read.read_text`
(a regular file, under the size cap, UTF-8), so a FIFO or device named by a cloned repository is
reported as a config error instead of blocking the server; the caller runs all of this off the
request loop with a timeout (:mod:`server.language_server`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterable, List, Optional, Sequence, Tuple

from fglocal.config import (
    CONFIG_FILE_NAME,
    DEFAULT_HANDLER,
    DEFAULT_RUNTIME,
    RUNTIMES,
    ConfigError,
    load_config,
    split_entry,
)
from fglocal.contract import entry_files, runtime_version
from fglocal.safe_read import UnreadableFile, check_config_files, read_text
from server.analysis import config_checks
from server.analysis.entries import infer_entries
from server.analysis.model import ERROR, Finding, ModuleContext, Roles, Span
from server.settings import Settings

MAX_FILES = 5000
MAX_DEPTH = 4
MAX_SCANNED_MODULES = 200  # top-level modules read to infer the entry
MAX_MODULE_BYTES = 1_000_000
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})


def _walked(name: str) -> bool:
    """Whether the code-root listing goes into a folder of this name (not a dot folder, a venv, ...)."""
    return not name.startswith(".") and name not in _SKIP_DIRS


def listed_under(folders: Sequence[str]) -> bool:
    """Whether a file in the folder ``folders`` (the names below the code root) is one the listing sees."""
    return len(folders) <= MAX_DEPTH and all(_walked(name) for name in folders)


@dataclass(frozen=True)
class Project:
    """One function: where its code is and how it is configured."""

    folder: Path  # where fglocal.json is (or would be)
    code_root: Path
    config_file: Optional[Path]  # fglocal.json when there is one (readable or not: see config_text)
    handler: str
    initializer: Optional[str]
    runtime: str
    entries_from_file: Tuple[str, ...]  # which of handler/initializer the config file set
    config_error: Optional[ConfigError] = None
    folder_entries: Tuple[Tuple[str, bool], ...] = ()
    py_files: Tuple[str, ...] = field(default=(), repr=False)
    explicit_entries: Tuple[str, ...] = ()  # which of handler/initializer a config file or setting set
    shaped_entries: Tuple[str, ...] = ()  # handler-shaped functions of the top-level modules, best first
    config_text: Optional[str] = field(default=None, repr=False)  # None: no config, or unreadable
    listed: bool = True  # False when the folder could not be read in time (file checks are skipped)
    env_file: Optional[Path] = None  # the file fglocal.json's envFile names (real path), if any

    @property
    def candidates(self) -> Tuple[str, ...]:
        """The inferred handler entries, best first; none when a config file or setting names it."""
        return () if "handler" in self.explicit_entries else self.shaped_entries

    @property
    def runtime_version(self) -> Tuple[int, int]:
        """(major, minor) of the configured runtime."""
        return runtime_version(self.runtime)

    def module_name(self, path: Path, real: Optional[Path] = None) -> str:
        """The dotted module name of ``path`` (``real``: its real path) in the code root; "" when outside it."""
        try:
            relative = (real or path.resolve()).relative_to(self.code_root)
        except (ValueError, OSError, RuntimeError):
            return ""
        parts = list(relative.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    def _relative_file(self, path: Path, real: Optional[Path]) -> str:
        """``path`` relative to the code root, with ``/`` separators (as entry files are named)."""
        try:
            return (real or path.resolve()).relative_to(self.code_root).as_posix()
        except (ValueError, OSError, RuntimeError):
            return path.name

    def module_entry_findings(
        self, module: ModuleContext, first_line: str, enabled: Collection[str], open_files: Iterable[str] = ()
    ) -> List[Finding]:
        """Entries a setting names whose module file is missing, shown on a top-level module's first line.

        ``open_files``: the code root's modules open in the editor (relative paths), present whatever the disk says.
        """
        if not module.module_name or "." in module.module_name or "entry-not-found" not in enabled:
            return []
        if not self.listed:
            return []  # the folder was not read: nothing is known to be missing
        entries = [("handler", self.handler)] + (
            [("initializer", self.initializer)] if self.initializer else []
        )
        return config_checks.module_entry_findings(
            first_line,
            [(role, entry) for role, entry in entries if role in self.explicit_entries],
            self.entries_from_file,
            (*self.py_files, *open_files, module.module_file),  # the open document counts, saved or not
            str(self.code_root),
        )

    def unplaced_config_findings(self, first_line: str, enabled: Collection[str]) -> List[Finding]:
        """A config error with no fglocal.json text to show it in (the file is unreadable): on line 1."""
        if self.config_error is None or self.config_text is not None or "config-error" not in enabled:
            return []
        if self.config_file is None and self.listed:
            return []  # no config file: nothing the user wrote is wrong (the error is logged)
        message = "%s. The language server uses the defaults." % self.config_error
        return [Finding(Span(0, 0, 0, len(first_line)), ERROR, "config-error", message)]

    def module_context(self, path: Path, real: Optional[Path] = None) -> ModuleContext:
        """What the analysis needs to know about the module at ``path``.

        The function an entry names is checked in its module; in every other top-level module of the
        code folder, a top-level function with the entry's function name is checked the same way.
        ``real``: the real path of ``path``, when the caller has it (the server resolves each open
        document once): the disk is not looked at again.
        """
        if real is None:
            try:
                real = path.resolve()
            except (OSError, RuntimeError):
                real = path
        module = self.module_name(path, real)
        entry_roles: List[str] = []
        names: List[Optional[str]] = []
        for role, entry in (("handler", self.handler), ("initializer", self.initializer)):
            if not entry:
                names.append(None)
                continue
            entry_module, function = split_entry(entry)
            if module and module == entry_module:
                entry_roles.append(role)
                names.append(function)
            else:
                names.append(function if module and "." not in module else None)
        candidates = tuple(
            function
            for entry_module, function in (split_entry(c) for c in self.candidates)
            if module and entry_module == module
        )
        if candidates and "handler" not in entry_roles:
            entry_roles.insert(0, "handler")
        # The open file itself (a package's module is its __init__.py), relative to the code root.
        relative = self._relative_file(path, real) if module else path.name
        return ModuleContext(
            roles=Roles(names[0], names[1]),
            runtime=self.runtime_version,
            module_name=module,
            module_file=relative,
            folder_entries=self.folder_entries,
            handler_entry=self.handler,
            initializer_entry=self.initializer,
            entry_roles=tuple(entry_roles),
            required_roles=tuple(r for r in entry_roles if r in self.explicit_entries),
            candidates=candidates,
        )


def find_project(path: Path, roots: Iterable[Path], settings: Settings) -> Project:
    """The project of the document at ``path``.

    The nearest folder upwards (within its workspace folder) that has a fglocal.json; else the nearest
    that holds the handler's module (``index.py`` by default), so that a workspace of several function
    folders works without configs; else the nearest whose modules define a handler-shaped function
    (a function whose handler lives in ``startrds.py``); else the workspace folder (or the document's
    own folder).
    """
    path = path.resolve()
    start = path.parent
    root = next((r for r in sorted(roots, key=lambda r: -len(str(r))) if _is_within(start, r)), None)
    handler_file = entry_files(settings.handler or DEFAULT_HANDLER)[0]
    folder = with_handler = None
    chain = []
    for candidate in [start, *start.parents]:
        chain.append(candidate)
        if os.path.lexists(candidate / CONFIG_FILE_NAME):  # a FIFO or dangling link too: reported
            folder = candidate
            break
        if with_handler is None and (candidate / handler_file).is_file():
            with_handler = candidate
        if root is not None and candidate == root:
            break
    inferred: Optional[Tuple[Path, Tuple[str, ...]]] = None
    if folder is None and with_handler is None and not settings.handler:
        for candidate in chain:
            shaped = infer_entries(read_modules(candidate))
            if shaped:
                folder, inferred = candidate, (candidate, shaped)
                break
    if folder is None:
        folder = with_handler or (root if root is not None else start)
    return load_project(folder, settings, inferred)


def read_modules(code_root: Path) -> List[Tuple[str, str]]:
    """``(module name, text)`` of the top-level modules of ``code_root`` (regular files, size-capped)."""
    modules: List[Tuple[str, str]] = []
    try:
        with os.scandir(code_root) as it:
            names = sorted(e.name for e in it if e.name.endswith(".py") and e.is_file(follow_symlinks=False))
    except OSError:
        return modules
    for name in names[:MAX_SCANNED_MODULES]:
        module = name[:-3]
        if not module.isidentifier():
            continue
        try:
            with open(code_root / name, "rb") as handle:
                data = handle.read(MAX_MODULE_BYTES + 1)
        except OSError:
            continue
        if len(data) <= MAX_MODULE_BYTES:
            modules.append((module, data.decode("utf-8", "replace")))
    return modules


def load_project(
    folder: Path,
    settings: Settings,
    inferred: Optional[Tuple[Path, Tuple[str, ...]]] = None,
    config_text: Optional[str] = None,
) -> Project:
    """Read ``folder``'s config and file list; a broken config falls back to the defaults.

    ``inferred``: ``(code root, entries)`` that :func:`infer_entries` found already (not read twice).
    ``config_text``: the content of ``fglocal.json`` as the editor holds it (open, maybe unsaved),
    checked instead of the file's.
    """
    config_file = folder / CONFIG_FILE_NAME
    present = config_text is not None or os.path.lexists(config_file)
    error: Optional[ConfigError] = None
    handler, initializer, runtime = "index.handler", None, DEFAULT_RUNTIME
    code_root = folder
    from_file: List[str] = []
    text: Optional[str] = None
    try:
        if config_text is not None:
            text = config_text
            check_config_files(folder, config_text)
        elif present:
            text = read_text(config_file)
            check_config_files(folder)
        config = load_config(folder, environ={}, text=config_text)
        handler, initializer, runtime, code_root = (
            config.handler,
            config.initializer,
            config.runtime,
            config.code_root,
        )
        if config.config_file is not None and text is not None:
            from_file = [key for key in ("handler", "initializer") if ('"%s"' % key) in text]
    except UnreadableFile as exc:
        error = ConfigError("config file", str(exc))
    except ConfigError as exc:
        error = exc
    except Exception as exc:  # e.g. RecursionError on a deeply nested file: a diagnostic
        error = ConfigError("config file", "%s cannot be read (%s)" % (config_file, type(exc).__name__))
    explicit = list(from_file)
    if settings.handler:
        handler = settings.handler
        from_file = [k for k in from_file if k != "handler"]
        explicit.append("handler")
    if settings.initializer:
        initializer = settings.initializer
        from_file = [k for k in from_file if k != "initializer"]
        explicit.append("initializer")
    if settings.runtime in RUNTIMES:
        runtime = settings.runtime
    entries, py_files = list_folder(code_root)
    if inferred is not None and inferred[0] == Path(code_root):
        shaped = inferred[1]
    else:
        shaped = infer_entries(read_modules(Path(code_root)))
    if "handler" not in explicit:
        handler = shaped[0] if shaped else DEFAULT_HANDLER
    return Project(
        folder=folder,
        code_root=code_root,
        config_file=config_file if present else None,
        handler=handler,
        initializer=initializer,
        runtime=runtime,
        entries_from_file=tuple(from_file),
        config_error=error,
        folder_entries=entries,
        py_files=py_files,
        explicit_entries=tuple(sorted(set(explicit))),
        shaped_entries=shaped,
        config_text=text,
        env_file=_env_file(folder, text),
    )


def _env_file(folder: Path, text: Optional[str]) -> Optional[Path]:
    """The real path of the file ``envFile`` names in the config ``text`` (as check_config_files finds it)."""
    if text is None or '"envFile"' not in text:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    name = data.get("envFile") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        return None
    config_dir = os.path.dirname(os.path.realpath(folder / CONFIG_FILE_NAME))
    return Path(os.path.realpath(os.path.join(config_dir, name)))


def unread_project(path: Path, settings: Settings, error: ConfigError) -> Project:
    """The defaults for the document at ``path`` when its folder could not be read in time."""
    return Project(
        folder=path.parent,
        code_root=path.parent,
        config_file=None,
        handler=settings.handler or DEFAULT_HANDLER,
        initializer=settings.initializer,
        runtime=settings.runtime if settings.runtime in RUNTIMES else DEFAULT_RUNTIME,
        entries_from_file=(),
        config_error=error,
        listed=False,
    )


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def list_folder(code_root: Path) -> Tuple[Tuple[Tuple[str, bool], ...], Tuple[str, ...]]:
    """Top-level (name, is_dir) entries of the code root and the relative paths of its .py files."""
    entries: List[Tuple[str, bool]] = []
    files: List[str] = []
    try:
        with os.scandir(code_root) as it:
            entries = sorted((e.name, e.is_dir()) for e in it if not e.name.startswith("."))
    except OSError:
        return (), ()
    base = len(str(code_root)) + 1
    for current, dirs, names in os.walk(code_root):
        depth = current[base:].count(os.sep) + 1 if len(current) >= base else 0
        dirs[:] = [d for d in dirs if _walked(d) and depth < MAX_DEPTH]
        for name in names:
            if name.endswith(".py"):
                files.append(os.path.join(current, name)[base:].replace(os.sep, "/"))
        if len(files) > MAX_FILES:
            break
    return tuple(entries), tuple(sorted(files))
