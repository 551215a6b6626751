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
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Set, Tuple, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from fglocal.contract import DEFAULT_RUNTIME, runtime_version
from fglocal.safe_read import READ_TIMEOUT, TimedOut, call_bounded
from server import __version__
from server.analysis import config_checks, diagnostics
from server.analysis.context_inference import ScopeIndex
from server.analysis.model import Finding, ModuleContext, Roles
from server.analysis.text import split_lines
from server.lsp_convert import to_diagnostic
from server.project import ConfigError, Project, find_project, unread_project
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
        # What each document's diagnostics on the client were computed with (see refresh_others).
        self._published_with: Dict[str, Tuple[Any, ...]] = {}
        self._config_published: Dict[str, List[Tuple[Any, ...]]] = {}
        self._lines: Dict[str, Tuple[Optional[int], List[str]]] = {}
        self._scopes: Dict[str, Tuple[Optional[int], Roles, ScopeIndex]] = {}
        self._modules: Dict[str, Tuple[Optional[Project], ModuleContext]] = {}
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fg-analysis")
        self._tasks: Set[asyncio.Future] = set()
        self._logged: Set[str] = set()
        self._analysis: Dict[str, Tuple[str, ModuleContext, FrozenSet[str], Tuple[Finding, ...]]] = {}
        self._generation = 0  # bumped by invalidate_projects: a load started before it is not cached

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
        self.cancel_pending(uri)

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
        path = _fs_path(uri)
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
        path = _fs_path(uri)
        if path is None:
            return None
        cached = self._cached_project(path)
        if cached is not None:
            return cached
        generation, roots, settings = self._generation, self._roots(), self.settings
        loop = asyncio.get_running_loop()
        try:
            project = await loop.run_in_executor(
                None, call_bounded, find_project, READ_TIMEOUT, path, roots, settings
            )
        except TimedOut:
            project = self._timed_out(path)
        return self._store(project, generation)

    def _cached_project(self, path: Path) -> Optional[Project]:
        for folder, project in self._projects.items():
            if _is_within(path.parent, folder) and _is_within(path.parent, project.folder):
                if all(not (p / "fglocal.json").is_file() for p in _between(path.parent, folder)):
                    return project
        return None

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
        return project, project.module_context(Path(path_text or "."))

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
                    self._publish_config(config_project)
                    return
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
                self._published_with[uri] = _context_key(project, module)
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
        return project.module_entry_findings(module, lines[0] if lines else "", enabled)

    def _publish_config(self, project: Optional[Project]) -> None:
        if project is None or project.config_file is None:
            return
        uri = project.config_file.as_uri()
        document = self.open_document(uri)
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
            project.py_files,
            str(project.code_root),
            project.shaped_entries,
        )
        findings = [f for f in findings if f.code in enabled]
        diagnostics_ = [to_diagnostic(document, f) for f in findings]
        key = [(d.range.start.line, d.range.start.character, d.code, d.message) for d in diagnostics_]
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
                if self.open_document(uri) is not None and _context_key(project, module) != shown_with:
                    self.publish_diagnostics(uri)
        except Exception:
            self.log(
                "functiongraph: re-checking open documents failed:\n%s" % traceback.format_exc(),
                types.MessageType.Error,
            )

    def republish_all(self) -> None:
        """Re-analyse every open document (after settings or files changed)."""
        self._config_published.clear()
        for uri in [document.uri for document in list(self.workspace.text_documents.values())]:
            self.publish_diagnostics(uri)


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
    try:
        path.resolve().relative_to(folder)
        return True
    except (ValueError, OSError):
        return False


def _between(path: Path, folder: Path) -> List[Path]:
    """Folders from ``path`` up to (not including) ``folder``."""
    found = []
    current = path.resolve()
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
