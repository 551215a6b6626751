"""The language server's state: settings, projects by folder, caches and debounced diagnostics.

:mod:`server.server` registers the LSP features on the one instance of this class.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import itertools
import logging
import os
import traceback
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from fglocal.config import CONFIG_FILE_NAME
from fglocal.contract import DEFAULT_RUNTIME, runtime_version
from fglocal.safe_read import READ_TIMEOUT, TimedOut, call_bounded
from server import __version__, watched_files
from server.analysis import config_checks, diagnostics
from server.analysis.context_inference import ScopeIndex
from server.analysis.model import Finding, ModuleContext, Roles
from server.analysis.text import split_lines
from server.lsp_convert import to_diagnostic
from server.project import ConfigError, Project, find_project, load_project, unread_project
from server.settings import Settings, parse_settings

MAX_TEXT = 2_000_000  # characters; bigger documents are not analysed (but never crash the server)
_T = TypeVar("_T")
log = logging.getLogger(__name__)


class FunctionGraphLanguageServer(LanguageServer):
    """The server's state: settings, projects by folder, pending (debounced) diagnostics."""

    def __init__(self) -> None:
        super().__init__(
            "functiongraph-language-server",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.settings = Settings()
        self._projects: Dict[Path, Project] = {}
        self._pending: Dict[str, asyncio.TimerHandle] = {}
        # The latest diagnostics run asked for, per document: only it may publish (see _publish).
        self._runs: Dict[str, int] = {}
        self._run_ids = itertools.count(1)
        # What each document's diagnostics on the client were computed with (see refresh_others), and
        # the project they were computed in (see files_changed).
        self._published_with: Dict[str, Tuple[Any, ...]] = {}
        self._shown_in: Dict[str, Optional[Project]] = {}
        self._config_projects: Dict[
            str, Project
        ] = {}  # the project each published config file was checked in
        self._closes = itertools.count(1)
        self._closed: Dict[str, int] = {}  # the latest close of each URI (see close_document)
        self._config_published: Dict[str, List[Tuple[Any, ...]]] = {}
        self._lines: Dict[str, Tuple[Optional[int], List[str]]] = {}
        self._scopes: Dict[str, Tuple[Optional[int], Roles, ScopeIndex]] = {}
        self._modules: Dict[str, Tuple[Optional[Project], ModuleContext]] = {}
        # Each open document's file as the client named it and resolved (os.path.realpath), once at its
        # open (see note_open), by the URI as pygls keys its documents (unquoted).
        self._real_paths: Dict[str, Tuple[str, str]] = {}
        self._open_in: Dict[str, Tuple[str, ...]] = {}  # code root -> its open modules (see _open_modules)
        # Whether a fglocal.json lies between a folder and a cached project's folder, per generation.
        self._nested_configs: Dict[Tuple[Path, Path], bool] = {}
        self._nested_generation = -1
        # The project as an open fglocal.json's unsaved text configures it: (generation, text, project).
        self._buffer_projects: Dict[str, Tuple[int, str, Project]] = {}
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fg-analysis")
        self._tasks: Set[asyncio.Future] = set()
        self._logged: Set[str] = set()
        self._analysis: Dict[str, Tuple[str, ModuleContext, FrozenSet[str], Tuple[Finding, ...]]] = {}
        self._generation = 0  # bumped by invalidate_projects: a load started before it is not cached
        self._watching = False  # the client watches the files the server registered (see watch_files)
        self._relative_patterns = False
        self._env_watched: Set[str] = set()
        self._env_registration: Optional[str] = None
        self._registrations = itertools.count(1)

    # -- logging -----------------------------------------------------------------------------------
    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """Send a line to the client's LSP log (never to stdout, which carries the protocol)."""
        log.info(message)
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # the transport may already be closed
            pass

    # -- settings ----------------------------------------------------------------------------------
    def apply_settings(self, raw: Any) -> None:
        """Take new settings from the client, logging every value that was ignored."""
        settings, warnings = parse_settings(raw)
        for warning in warnings:
            self.log("functiongraph settings: " + warning, types.MessageType.Warning)
        self.settings = settings
        self.invalidate_projects()

    # -- documents and projects -------------------------------------------------------------------
    def open_document(self, uri: str) -> Optional[TextDocument]:
        """The open document at ``uri``; None for one the client has not opened (never read from disk)."""
        return self.workspace.text_documents.get(unquote(uri))  # pygls keys documents by unquoted URI

    def python_document(self, uri: str) -> Optional[TextDocument]:
        """The open document at ``uri`` when it is a module (the Python features' own); None for JSON files."""
        document = self.open_document(uri)
        return None if document is None or unquote(uri).endswith(".json") else document

    def lines_of(self, document: TextDocument) -> List[str]:
        """The document's lines without line endings, cached per version."""
        cached = self._lines.get(document.uri)
        if cached is not None and cached[0] == document.version and document.version is not None:
            return cached[1]
        lines = split_lines(document.source)
        self._lines[document.uri] = (document.version, lines)
        return lines

    def forget_document(self, uri: str) -> None:
        """Drop per-document caches (on open and close: a reopened URI restarts at any version)."""
        self._lines.pop(uri, None)
        self._scopes.pop(uri, None)
        self._config_published.pop(uri, None)
        self._analysis.pop(uri, None)
        self._runs.pop(uri, None)  # a run under way for it publishes nothing (the close or the open does)
        self._published_with.pop(uri, None)
        self._shown_in.pop(uri, None)
        self._closed.pop(uri, None)
        self._buffer_projects.pop(uri, None)
        self.cancel_pending(uri)

    def note_open(self, uri: str) -> None:
        """Resolve an opened document's file once (a renamed or re-linked one is resolved at its next open).

        Read on a daemon thread with the read timeout, as projects are: a stuck file system leaves
        the path as the client gave it.
        """
        path = _fs_path(uri)
        if path is None:
            return
        try:
            real = call_bounded(os.path.realpath, READ_TIMEOUT, str(path))
        except TimedOut:
            real = str(path)
        self._real_paths[unquote(uri)] = (str(path), real)
        self._open_in.clear()

    def forget_path(self, uri: str) -> None:
        """Drop a closed document's resolved path."""
        if self._real_paths.pop(unquote(uri), None) is not None:
            self._open_in.clear()

    def _known_path(self, uri: str) -> Optional[Path]:
        """The real path an open document's file was resolved to at its open; None when not known."""
        known = self._real_paths.get(unquote(uri))
        return Path(known[1]) if known is not None else None

    def real_path(self, uri: str) -> Optional[Path]:
        """The real path of the file at ``uri`` (resolved at its open if open, else now); None if not a file."""
        known = self._known_path(uri)
        if known is not None:
            return known
        path = _fs_path(uri)
        return Path(os.path.realpath(path)) if path is not None else None

    def scope_index(self, document: TextDocument, roles: Roles) -> ScopeIndex:
        """The document's :class:`ScopeIndex`, kept while its version and roles stay the same."""
        cached = self._scopes.get(document.uri)
        if cached is not None and cached[0] == document.version and cached[1] == roles:
            return cached[2]
        index = ScopeIndex(self.lines_of(document), roles)
        self._scopes[document.uri] = (document.version, roles, index)
        return index

    def invalidate_projects(self) -> None:
        """Forget cached configs and file lists (after a save, open, or file change)."""
        self._generation += 1
        self._projects.clear()
        self._modules.clear()

    def project_of(self, uri: str) -> Optional[Project]:
        """The function project of a file URI (cached per folder), None for other URIs.

        A project not cached yet is read on a daemon thread (:func:`fglocal.safe_read.call_bounded`): a
        stuck file system costs at most ``READ_TIMEOUT`` once, then the defaults are used and said so.
        """
        path = self.real_path(uri)
        if path is None:
            return None
        cached = self._cached_project(path)
        if cached is not None:
            return cached
        generation = self._generation
        try:
            project = call_bounded(find_project, READ_TIMEOUT, path, self._roots(), self.settings)
        except TimedOut:
            project = self._timed_out(path)
        return self._store(project, generation)

    async def project_of_async(self, uri: str) -> Optional[Project]:
        """:meth:`project_of` without blocking the loop while the folder is read."""
        path = self._known_path(uri)
        loop = asyncio.get_running_loop()
        if path is None:  # not open (a closed config file): resolved off the loop
            lexical = _fs_path(uri)
            if lexical is None:
                return None
            path = Path(await loop.run_in_executor(None, os.path.realpath, lexical))
        cached = self._cached_project(path)
        if cached is not None:
            return cached
        generation, roots, settings = self._generation, self._roots(), self.settings
        try:
            project = await loop.run_in_executor(
                None, call_bounded, find_project, READ_TIMEOUT, path, roots, settings
            )
        except TimedOut:
            project = self._timed_out(path)
        return self._store(project, generation)

    def _cached_project(self, real: Path) -> Optional[Project]:
        """The cached project of the file at the real path ``real`` (the one :func:`find_project` finds)."""
        directory = real.parent
        for folder, project in self._projects.items():
            if _is_within(directory, folder) and not self._config_between(directory, folder):
                return project
        return None

    def _config_between(self, directory: Path, folder: Path) -> bool:
        """Whether a fglocal.json is in a folder from ``directory`` up to ``folder`` (looked at once a generation)."""
        if self._nested_generation != self._generation:
            self._nested_configs.clear()
            self._nested_generation = self._generation
        found = self._nested_configs.get((directory, folder))
        if found is None:
            found = any((p / CONFIG_FILE_NAME).is_file() for p in _between(directory, folder))
            self._nested_configs[(directory, folder)] = found
        return found

    def _roots(self) -> List[Path]:
        roots = [Path(p) for p in (to_fs_path(f.uri) for f in self.workspace.folders.values()) if p]
        if self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        return roots

    def _timed_out(self, path: Path) -> Project:
        message = "the function folder %s could not be read within %g s" % (path.parent, READ_TIMEOUT)
        return unread_project(path, self.settings, ConfigError("config file", message))

    def _store(self, project: Project, generation: int) -> Project:
        if generation == self._generation and project.listed:  # a timed-out read is retried next time
            self._projects[project.folder] = project
        if project.env_file is not None:
            self._watch_env_file(str(project.env_file))
        if project.config_error is not None and str(project.config_error) not in self._logged:
            self._logged.add(str(project.config_error))  # once per distinct error, not on every open
            self.log("functiongraph: %s" % project.config_error, types.MessageType.Warning)
        return project

    def module_of(self, uri: str) -> Tuple[Optional[Project], ModuleContext]:
        """The project of a document and what the analysis needs to know about the module (cached)."""
        cached = self._modules.get(uri)
        if cached is None:
            cached = self._modules[uri] = self._resolve_module(uri)
        return cached

    async def module_of_async(self, uri: str) -> Tuple[Optional[Project], ModuleContext]:
        """:meth:`module_of`, reading an uncached project off the loop."""
        cached = self._modules.get(uri)
        if cached is None:
            project = await self.project_of_async(uri)
            cached = self._resolve_module(uri, project)
            if project is None or project.listed:
                self._modules[uri] = cached
        return cached

    def _resolve_module(
        self, uri: str, project: Optional[Project] = None
    ) -> Tuple[Optional[Project], ModuleContext]:
        project = project or self.project_of(uri)
        if project is None:
            return None, ModuleContext(runtime=runtime_version(self.settings.runtime or DEFAULT_RUNTIME))
        path_text = to_fs_path(uri)
        return project, project.module_context(Path(path_text or "."), self.real_path(uri))

    # -- diagnostics -------------------------------------------------------------------------------
    def schedule_diagnostics(self, uri: str) -> None:
        """Publish diagnostics for ``uri`` once edits pause for the debounce delay."""
        self.cancel_pending(uri)
        delay = self.settings.diagnostics.debounce_ms / 1000
        loop = asyncio.get_event_loop()
        self._pending[uri] = loop.call_later(delay, self._run_pending, uri)

    def cancel_pending(self, uri: str) -> None:
        """Drop a scheduled diagnostics run."""
        handle = self._pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def _run_pending(self, uri: str) -> None:
        self._pending.pop(uri, None)
        if self.open_document(uri) is not None:  # closed meanwhile: publish nothing
            self.publish_diagnostics(uri)

    def publish_diagnostics(self, uri: str) -> None:
        """Analyse an open document and publish its diagnostics (and its config file's).

        The analysis runs on a worker thread, so requests (completion, hover) are answered meanwhile;
        its result is dropped when the document was edited, closed or reopened in the meantime, or
        when a newer run for it was asked for (a save, a settings or file change).
        """
        run = self._runs[uri] = next(self._run_ids)
        task = asyncio.ensure_future(self._publish(uri, run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _is_current(self, uri: str, run: int, document: TextDocument, version: Optional[int]) -> bool:
        """Whether run ``run`` may still publish: the latest one asked for, its document open, unedited."""
        return (
            self._runs.get(uri) == run and self.open_document(uri) is document and document.version == version
        )

    async def _publish(self, uri: str, run: int) -> None:
        # What the client sees for a URI must end with the diagnostics of its latest state, and nothing
        # may follow a close's `[]`. The checks after each await make sure of that:
        # * a newer run for the URI (a save or a settings or file change while this one was analysing)
        #   publishes instead: an older run finishing later would publish over it, with the same version
        #   but computed from the folder as it was (its config and entries read before the change);
        # * the document edited, closed or reopened meanwhile: the edit's run or the close publishes;
        # * the projects invalidated meanwhile (a save, open or file change anywhere): the project this
        #   run read may be outdated, and it would publish the config file's diagnostics from it after
        #   a fresher run did; it reads the folder again and re-analyses (cached when nothing changed).
        document: Optional[TextDocument] = None
        version: Optional[int] = None
        try:
            while True:
                document = self.open_document(uri)  # never read from disk: a client may name any path
                if document is None or self._runs.get(uri) != run:
                    return
                generation = self._generation
                version, source = document.version, document.source
                if uri.endswith("/fglocal.json"):
                    config_project = await self.project_of_async(uri)
                    if not self._is_current(uri, run, document, version):
                        return
                    if generation != self._generation:
                        continue
                    config_project = await self._as_edited(uri, config_project, source)
                    if not self._is_current(uri, run, document, version):
                        return
                    if generation != self._generation:
                        continue
                    self._publish_config(config_project)
                    return
                if uri.endswith(
                    ".json"
                ):  # a test event (or other JSON): not Python, nothing of ours to check
                    diagnostics_ = []
                    break
                project, module = await self.module_of_async(uri)
                enabled = self.settings.diagnostics.enabled_codes()
                findings: List[Finding] = []
                if len(source) > MAX_TEXT:
                    self.log("functiongraph: %s is too large to analyse (%d characters)" % (uri, len(source)))
                elif enabled:
                    loop = asyncio.get_running_loop()
                    findings = await loop.run_in_executor(
                        self._worker, self._analyze, uri, source, module, enabled
                    )
                if not self._is_current(uri, run, document, version):
                    return
                if generation != self._generation:
                    continue
                if project is not None and enabled:
                    self._publish_config(project)
                    findings += self._missing_entry_files(project, module, self.lines_of(document), enabled)
                    lines = self.lines_of(document)
                    findings += project.unplaced_config_findings(lines[0] if lines else "", enabled)
                diagnostics_ = [to_diagnostic(document, f) for f in findings]
                self._published_with[uri] = self._dependency_key(project, module)
                self._shown_in[uri] = project
                break
        except Exception:
            self.log(
                "functiongraph: diagnostics failed for %s:\n%s" % (uri, traceback.format_exc()),
                types.MessageType.Error,
            )
            if document is None or uri.endswith("/fglocal.json"):
                return
            if not self._is_current(uri, run, document, version):
                return
            # Nothing for this version: the previous version's diagnostics would point into old text.
            diagnostics_ = []
            self._published_with.pop(uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics_, version=version)
        )

    def _analyze(
        self, uri: str, source: str, module: ModuleContext, enabled: FrozenSet[str]
    ) -> List[Finding]:
        """Run on the worker thread: the analysis, or the cached one when the text did not change."""
        cached = self._analysis.get(uri)
        if cached is not None and cached[0] == source and cached[1] == module and cached[2] == enabled:
            return list(cached[3])  # a save without edits since the last analysis: nothing to redo
        findings = diagnostics.analyze(source, module, enabled)
        self._analysis[uri] = (source, module, enabled, tuple(findings))
        return findings

    def _missing_entry_files(
        self, project: Project, module: ModuleContext, lines: List[str], enabled: FrozenSet[str]
    ) -> List[Finding]:
        first = lines[0] if lines else ""
        return project.module_entry_findings(module, first, enabled, self._open_modules(project))

    def _open_modules(self, project: Project) -> Tuple[str, ...]:
        """The code root's ``.py`` files open in the editor (relative paths): present, whatever the disk says."""
        root = str(project.code_root) + "/"
        cached = self._open_in.get(root)
        if cached is not None:
            return cached
        found = []
        for uri, (path, real) in self._real_paths.items():  # resolved at their open: no disk access here
            if uri.endswith(".py"):
                text = path if path.startswith(root) else real
                if text.startswith(root):
                    found.append(text[len(root) :])
        cached = self._open_in[root] = tuple(sorted(found))
        return cached

    def _dependency_key(self, project: Optional[Project], module: ModuleContext) -> Tuple[Any, ...]:
        """What a module's diagnostics depend on besides its text: the project, and the open modules."""
        key = _context_key(project, module)
        if project is None:
            return key
        missing = project.module_entry_findings(module, "", ("entry-not-found",), self._open_modules(project))
        return (*key, tuple(f.message for f in missing))

    async def _as_edited(self, uri: str, project: Optional[Project], text: str) -> Optional[Project]:
        """``project`` as the open config file at ``uri`` with the text ``text`` configures it (maybe unsaved).

        The saved text gives ``project`` itself; another is read (its envFile, code root) off the loop,
        with the read timeout (then the saved config's project is used), and kept until the next edit.
        """
        if project is None or project.config_file is None or project.config_file.as_uri() != uri:
            return project  # not this function's config (a link to one, say): its own run publishes it
        if project.config_text == text:
            return project
        cached = self._buffer_projects.get(uri)
        if cached is not None and cached[0] == self._generation and cached[1] == text:
            return cached[2]
        generation, settings = self._generation, self.settings
        loop = asyncio.get_running_loop()
        try:
            edited = await loop.run_in_executor(
                None, call_bounded, load_project, READ_TIMEOUT, project.folder, settings, None, text
            )
        except TimedOut:
            return project
        if generation == self._generation:
            self._buffer_projects[uri] = (generation, text, edited)
        return edited

    def _publish_config(self, project: Optional[Project]) -> None:
        """Publish the diagnostics of ``project``'s config file: of its open text when open, else of its disk copy."""
        if project is None or project.config_file is None:
            return
        uri = project.config_file.as_uri()
        document = self.open_document(uri)
        if document is not None and project.config_text != document.source:
            # Open with other text than the project was read with (unsaved edits): the project as that
            # text configures it, when known; else the config's own run reads it (see _as_edited).
            cached = self._buffer_projects.get(uri)
            if cached is None or cached[0] != self._generation or cached[1] != document.source:
                if uri not in self._pending:
                    self.publish_diagnostics(uri)
                return
            project = cached[2]
        version = document.version if document is not None else None  # of the text checked
        text = document.source if document is not None else project.config_text
        if text is None:
            return  # unreadable (a FIFO, too big, not UTF-8): the error is shown on the module instead
        if document is None:
            document = TextDocument(uri, text)
        error = None
        if project.config_error is not None:
            error = (project.config_error.field, str(project.config_error))
        enabled = self.settings.diagnostics.enabled_codes()
        findings = config_checks.config_file_findings(
            text,
            error,
            _entries(project),
            project.entries_from_file,
            (*project.py_files, *self._open_modules(project)),
            str(project.code_root),
            project.shaped_entries,
        )
        findings = [f for f in findings if f.code in enabled]
        diagnostics_ = [to_diagnostic(document, f) for f in findings]
        key = [(d.range.start.line, d.range.start.character, d.code, d.message) for d in diagnostics_]
        self._config_projects[uri] = project
        if self._config_published.get(uri) == key:
            return
        self._config_published[uri] = key
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics_, version=version)
        )

    def published_elsewhere(self, uri: str) -> None:
        """Note that ``uri``'s diagnostics were published by server/fast_start.py (context unknown here)."""
        self._published_with[uri] = ("published before the server was ready",)  # never equal: re-checked

    def refresh_others(self, uri: str) -> None:
        """Re-publish the other open documents whose project or module context changed (after a save).

        A saved module can change what the rest of its folder is checked against: the inferred entry
        (another module's ``handler``-named functions are checked, or no longer), the file list (an
        entry's module now exists). Their diagnostics were computed with the folder as it was.
        """
        task = asyncio.ensure_future(self._refresh_others(uri))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh_others(self, skip: str) -> None:
        try:
            for uri in [document.uri for document in list(self.workspace.text_documents.values())]:
                shown_with = self._published_with.get(uri)
                if uri == skip or shown_with is None:
                    continue  # the saved one is published anyway; one without diagnostics yet will be
                project, module = await self.module_of_async(uri)
                if (
                    self.open_document(uri) is not None
                    and self._dependency_key(project, module) != shown_with
                ):
                    self.publish_diagnostics(uri)
        except Exception:
            self.log(
                "functiongraph: re-checking open documents failed:\n%s" % traceback.format_exc(),
                types.MessageType.Error,
            )

    # -- closed documents and files changed on disk ----------------------------------------------------
    def close_document(self, uri: str) -> None:
        """A document was closed: what was shown for its buffer gives way to what its file on disk gives.

        A module's own diagnostics are cleared (``[]``: modules are checked while open), and the
        documents that counted it as present while it was open (the config file's and the other
        modules' entry checks) are checked again. ``fglocal.json``, which is checked from disk when
        not open, gets the diagnostics of its disk content (``[]`` when it is gone or unreadable).
        """
        path = self._known_path(uri) or _fs_path(uri)  # where it was while open (a link may point elsewhere)
        self.forget_document(uri)
        self.forget_path(uri)
        close = self._closed[uri] = next(self._closes)
        if not uri.endswith("/fglocal.json"):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        if path is not None:
            self._spawn(self._after_close(uri, str(path), close))

    async def _after_close(self, uri: str, path: str, close: int) -> None:
        try:
            if uri.endswith("/fglocal.json"):
                await self._publish_closed_config(uri, close)
            await self._refresh_dependents([path], reload=False)
        except Exception:
            self.log(
                "functiongraph: re-checking after closing %s failed:\n%s" % (uri, traceback.format_exc()),
                types.MessageType.Error,
            )

    async def _publish_closed_config(self, uri: str, close: Optional[int]) -> None:
        """Publish the diagnostics of the config file at ``uri`` as it is on disk (it is not open).

        ``close``: its latest close when this was asked for; another open or close since publishes instead.
        """
        project = await self.project_of_async(uri)
        if self.open_document(uri) is not None or self._closed.get(uri) != close:
            return  # reopened (its open publishes), or closed again (that close publishes)
        present = project is not None and project.config_file is not None and project.config_text is not None
        if present and project is not None and project.config_file is not None:
            if project.config_file.as_uri() == uri:
                self._publish_config(project)  # only when it differs from what the client shows
                return
        # Gone, unreadable (its error is shown on the modules), or no longer a function's config.
        if self._config_published.get(uri) != []:
            self._config_published[uri] = []
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def files_changed(self, uris: Sequence[str]) -> None:
        """Files changed on disk (``workspace/didChangeWatchedFiles``): re-check exactly what depends on them.

        The projects whose folder, code root, config or env file a changed file is in are read again;
        each open document of theirs (or below a folder where a ``.py`` or ``fglocal.json`` changed)
        is published again when what its diagnostics depend on changed, and so is each config file
        whose diagnostics were published from disk. An open document's own text stays what the
        editor sent: the disk never replaces it.
        """
        paths = [str(p) for p in (_fs_path(uri) for uri in uris) if p is not None]
        if paths:
            self._spawn(self._files_changed(paths))

    async def _files_changed(self, paths: List[str]) -> None:
        try:
            await self._refresh_dependents(paths, reload=True)
        except Exception:
            self.log(
                "functiongraph: re-checking after file changes failed:\n%s" % traceback.format_exc(),
                types.MessageType.Error,
            )

    async def _refresh_dependents(self, changed: List[str], reload: bool) -> None:
        """Re-publish the documents and config files whose diagnostics ``changed`` files can change.

        ``reload``: the files changed on disk, so the projects they affect are read again (a close
        changes nothing on disk: only what the open documents counted as present).
        """
        documents = [
            (uri, real)
            for uri, real in ((u, self._known_path(u)) for u in list(self._published_with))
            if real is not None and self.open_document(uri) is not None
        ]
        loop = asyncio.get_running_loop()
        paths = await loop.run_in_executor(None, watched_files.resolve, changed)
        snapshot = self._project_paths()
        folders = watched_files.affected_projects(paths, snapshot)
        shown = {}
        for uri, real in documents:  # the folder its project was looked for from (find_project)
            project = self._shown_in.get(uri)
            shown[uri] = (str(real.parent), str(project.folder) if project is not None else None)
        affected = watched_files.affected_documents(paths, shown, folders)
        configs = [
            uri
            for uri, project in self._config_projects.items()
            if str(project.folder) in folders and uri in self._config_published
        ]
        if reload and (folders or affected):
            self._generation += 1  # a read under way may have seen the old files: not cached
            for folder in folders:
                self._projects.pop(Path(folder), None)
            for uri, (project, _module) in list(self._modules.items()):
                if uri in affected or (project is not None and str(project.folder) in folders):
                    self._modules.pop(uri, None)
        for uri in sorted(affected):
            shown_with = self._published_with.get(uri)
            if shown_with is None or self.open_document(uri) is None:
                continue
            project, module = await self.module_of_async(uri)
            if self.open_document(uri) is not None and self._dependency_key(project, module) != shown_with:
                self.publish_diagnostics(uri)
        for uri in configs:
            if self.open_document(uri) is not None:
                if reload:
                    self.publish_diagnostics(uri)  # its own run checks the open buffer
                continue
            await self._publish_closed_config(uri, self._closed.get(uri))

    def _project_paths(self) -> Dict[str, watched_files.ProjectPaths]:
        """The paths of every project something on the client was computed in, by folder."""
        projects: Dict[str, Project] = {}
        for project in [*self._projects.values(), *self._shown_in.values(), *self._config_projects.values()]:
            if project is not None:
                projects[str(project.folder)] = project
        return {
            folder: watched_files.paths_of(
                project.folder,
                project.code_root,
                project.config_file or project.folder / CONFIG_FILE_NAME,
                project.env_file,
            )
            for folder, project in projects.items()
        }

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- file watching -------------------------------------------------------------------------------
    def watch_files(self) -> None:
        """Ask the client to watch what the analysis reads from disk (when it can register watchers)."""
        workspace = self.client_capabilities.workspace
        capability = workspace.did_change_watched_files if workspace is not None else None
        if capability is None or not capability.dynamic_registration:
            return  # the client's own watchers, if any, are all the server hears of
        self._watching = True
        self._relative_patterns = bool(capability.relative_pattern_support)
        watchers = [types.FileSystemWatcher(glob_pattern=glob) for glob in watched_files.WATCHED_GLOBS]
        self._register(watched_files.REGISTRATION_ID, watchers)

    def _watch_env_file(self, path: str) -> None:
        """Watch an env file a config names too (its name is the user's: no glob of ours covers it)."""
        if not self._watching or path in self._env_watched:
            return
        self._env_watched.add(path)
        watchers = []
        for env in sorted(self._env_watched):
            folder, name = os.path.split(env)
            if self._relative_patterns:
                pattern: Any = types.RelativePattern(
                    base_uri=Path(folder).as_uri(), pattern=_glob_escape(name)
                )
            else:
                pattern = _glob_escape(env)
            watchers.append(types.FileSystemWatcher(glob_pattern=pattern))
        previous, self._env_registration = (
            self._env_registration,
            "%s-%d" % (watched_files.ENV_REGISTRATION_ID, next(self._registrations)),
        )
        if previous is not None:
            self._spawn(
                self._send(
                    self.client_unregister_capability_async(
                        types.UnregistrationParams(
                            unregisterations=[
                                types.Unregistration(
                                    id=previous, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES
                                )
                            ]
                        )
                    ),
                    "unregister the env file watchers",
                )
            )
        self._register(self._env_registration, watchers)

    def _register(self, registration: str, watchers: List[types.FileSystemWatcher]) -> None:
        params = types.RegistrationParams(
            registrations=[
                types.Registration(
                    id=registration,
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                )
            ]
        )
        self._spawn(self._send(self.client_register_capability_async(params), "register file watchers"))

    async def _send(self, request: Awaitable[None], what: str) -> None:
        try:
            await request
        except Exception as exc:  # the client refused or failed: files changed outside go unnoticed
            self.log("functiongraph: could not %s: %s" % (what, exc), types.MessageType.Warning)

    def republish_all(self) -> None:
        """Re-analyse every open document (after settings or files changed)."""
        self._config_published.clear()
        for uri in [document.uri for document in list(self.workspace.text_documents.values())]:
            self.publish_diagnostics(uri)


def _glob_escape(text: str) -> str:
    """``text`` as a glob matching only itself (VS Code's globs: ``[x]`` matches ``x``)."""
    return "".join("[%s]" % c if c in "*?[]{}" else c for c in text)


def _fs_path(uri: str) -> Optional[Path]:
    path_text = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path_text) if path_text else None


def _context_key(project: Optional[Project], module: ModuleContext) -> Tuple[Any, ...]:
    """What a module's diagnostics depend on besides its text (the config error by its message)."""
    if project is None:
        return (None, None, module)
    error = str(project.config_error) if project.config_error is not None else None
    return (dataclasses.replace(project, config_error=None), error, module)


def _entries(project: Project) -> List[Tuple[str, str]]:
    entries = [("handler", project.handler)]
    if project.initializer:
        entries.append(("initializer", project.initializer))
    return entries


def _is_within(path: Path, folder: Path) -> bool:
    """Whether the real path ``path`` is ``folder`` or below it."""
    return path == folder or folder in path.parents


def _between(path: Path, folder: Path) -> List[Path]:
    """Folders from the real path ``path`` up to (not including) ``folder``."""
    found = []
    current = path
    while current != folder and current != current.parent:
        found.append(current)
        current = current.parent
    return found


def guarded(default: Any) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Log any exception of a feature handler to the client and answer ``default`` instead."""

    def wrap(handler: Callable[..., _T]) -> Callable[..., _T]:
        @functools.wraps(handler)
        def run(ls: FunctionGraphLanguageServer, params: Any) -> Any:
            try:
                return handler(ls, params)
            except Exception:
                ls.log(
                    "functiongraph: %s failed:\n%s" % (handler.__name__, traceback.format_exc()),
                    types.MessageType.Error,
                )
                return default

        return run

    return wrap
