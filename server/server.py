"""The FunctionGraph language server: registers LSP features and wires them to :mod:`server.analysis`.

Every handler fetches the document, calls a pure analysis function and converts the result; any
error is logged to the client's LSP log (``window/logMessage``) and answered with "no result", so a
bug in one check never takes the server down.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from server import __version__
from server.analysis import codelens, completion, config_checks, diagnostics, hover, signature_help
from server.analysis.model import Finding, ModuleContext
from server.analysis.text import split_lines
from server.lsp_convert import quick_fixes, to_completion_item, to_diagnostic, to_range
from server.project import Project, find_project
from server.settings import SECTION, Settings, parse_settings

RUN_COMMAND = "functiongraph.runHandler"
DEBUG_COMMAND = "functiongraph.debugHandler"
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
        self._config_published: Dict[str, List[Tuple[Any, ...]]] = {}
        self._lines: Dict[str, Tuple[Optional[int], List[str]]] = {}

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
        self._projects.clear()

    # -- documents and projects -------------------------------------------------------------------
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
        self.cancel_pending(uri)

    def invalidate_projects(self) -> None:
        """Forget cached configs and file lists (after a save, open, or file change)."""
        self._projects.clear()

    def project_of(self, uri: str) -> Optional[Project]:
        """The function project of a file URI (cached per folder), None for other URIs."""
        path_text = to_fs_path(uri) if uri.startswith("file:") else None
        if not path_text:
            return None
        path = Path(path_text)
        for folder, project in self._projects.items():
            if _is_within(path.parent, folder) and _is_within(path.parent, project.folder):
                if all(not (p / "fglocal.json").is_file() for p in _between(path.parent, folder)):
                    return project
        roots = [Path(p) for p in (to_fs_path(f.uri) for f in self.workspace.folders.values()) if p]
        if self.workspace.root_path:
            roots.append(Path(self.workspace.root_path))
        project = find_project(path, roots, self.settings)
        self._projects[project.folder] = project
        if project.config_error is not None:
            self.log("functiongraph: %s" % project.config_error, types.MessageType.Warning)
        return project

    def module_of(self, uri: str) -> Tuple[Optional[Project], ModuleContext]:
        """The project of a document and what the analysis needs to know about the module."""
        project = self.project_of(uri)
        if project is None:
            runtime = self.settings.runtime or "python3.9"
            major, minor = runtime[len("python") :].split(".")
            return None, ModuleContext(runtime=(int(major), int(minor)))
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
        if uri in self.workspace.text_documents:  # closed meanwhile: publish nothing
            self.publish_diagnostics(uri)

    def publish_diagnostics(self, uri: str) -> None:
        """Analyse an open document now and publish its diagnostics (and its config file's)."""
        try:
            document = self.workspace.get_text_document(uri)
            if uri.endswith("/fglocal.json"):
                self._publish_config(self.project_of(uri))
                return
            findings = self._findings(document)
            diagnostics_ = [to_diagnostic(document, f) for f in findings]
        except Exception:
            self.log(
                "functiongraph: diagnostics failed for %s:\n%s" % (uri, traceback.format_exc()),
                types.MessageType.Error,
            )
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics_, version=document.version)
        )

    def _findings(self, document: TextDocument) -> List[Finding]:
        enabled = self.settings.diagnostics.enabled_codes()
        if not enabled:
            return []
        source = document.source
        if len(source) > MAX_TEXT:
            self.log(
                "functiongraph: %s is too large to analyse (%d characters)" % (document.uri, len(source))
            )
            return []
        project, module = self.module_of(document.uri)
        lines = self.lines_of(document)
        findings = diagnostics.analyze(source, module, enabled)
        if project is not None:
            self._publish_config(project)
            if module.module_name and "." not in module.module_name and "entry-not-found" in enabled:
                findings += config_checks.module_entry_findings(
                    lines[0] if lines else "",
                    _entries(project),
                    project.entries_from_file,
                    (*project.py_files, module.module_file),  # the open document counts, saved or not
                    str(project.code_root),
                )
        return findings

    def _publish_config(self, project: Optional[Project]) -> None:
        if project is None or project.config_file is None:
            return
        uri = project.config_file.as_uri()
        document = self.workspace.get_text_document(uri)
        try:
            text = document.source
        except OSError:
            return
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
        )
        findings = [f for f in findings if f.code in enabled]
        diagnostics_ = [to_diagnostic(document, f) for f in findings]
        key = [(d.range.start.line, d.range.start.character, d.code, d.message) for d in diagnostics_]
        if self._config_published.get(uri) == key:
            return
        self._config_published[uri] = key
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics_)
        )

    def republish_all(self) -> None:
        """Re-analyse every open document (after settings or files changed)."""
        self._config_published.clear()
        for uri in list(self.workspace.text_documents):
            self.publish_diagnostics(uri)


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


SERVER = FunctionGraphLanguageServer()


@SERVER.feature(types.INITIALIZE)
@guarded(None)
def initialize(ls: FunctionGraphLanguageServer, params: types.InitializeParams) -> None:
    """Read settings from ``initializationOptions``."""
    ls.apply_settings(params.initialization_options)


@SERVER.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded(None)
def did_open(ls: FunctionGraphLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """Publish diagnostics at once for a newly opened document."""
    ls.forget_document(params.text_document.uri)
    ls.invalidate_projects()
    ls.publish_diagnostics(params.text_document.uri)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded(None)
def did_change(ls: FunctionGraphLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Publish diagnostics when the user pauses typing."""
    ls.schedule_diagnostics(params.text_document.uri)


@SERVER.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded(None)
def did_save(ls: FunctionGraphLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    """Publish diagnostics at once on save (the folder may have changed too)."""
    ls.cancel_pending(params.text_document.uri)
    ls.invalidate_projects()
    ls.publish_diagnostics(params.text_document.uri)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded(None)
def did_close(ls: FunctionGraphLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """Clear a closed document's diagnostics."""
    uri = params.text_document.uri
    ls.forget_document(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@SERVER.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: FunctionGraphLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    """Take new settings (pushed, or pulled with ``workspace/configuration``) and re-check open documents."""
    try:
        raw = params.settings
        if not raw:
            pulled = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
            )
            raw = pulled[0] if pulled else None
        ls.apply_settings(raw)
        ls.republish_all()
    except Exception:
        ls.log(
            "functiongraph: configuration change failed:\n%s" % traceback.format_exc(),
            types.MessageType.Error,
        )


@SERVER.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded(None)
def did_change_watched_files(
    ls: FunctionGraphLanguageServer, params: types.DidChangeWatchedFilesParams
) -> None:
    """Files were created, changed or deleted: config and file lists may differ now."""
    ls.invalidate_projects()
    ls.republish_all()


@SERVER.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
@guarded(None)
def complete(
    ls: FunctionGraphLanguageServer, params: types.CompletionParams
) -> Optional[types.CompletionList]:
    """Context / logger methods after ``context.``; handler snippets in an empty file."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    position = document.position_from_client_units(params.position)
    _project, module = ls.module_of(document.uri)
    snippets = _client_snippets(ls)
    items = completion.complete(
        ls.lines_of(document), position.line, position.character, module.roles, snippets
    )
    if not items:
        return None
    return types.CompletionList(is_incomplete=False, items=[to_completion_item(i) for i in items])


def _client_snippets(ls: FunctionGraphLanguageServer) -> bool:
    caps = ls.client_capabilities.text_document
    item = caps.completion.completion_item if caps and caps.completion else None
    return bool(item and item.snippet_support)


@SERVER.feature(types.TEXT_DOCUMENT_HOVER)
@guarded(None)
def on_hover(ls: FunctionGraphLanguageServer, params: types.HoverParams) -> Optional[types.Hover]:
    """Signature and docs of a Context/logger method, or of the Context type."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    position = document.position_from_client_units(params.position)
    _project, module = ls.module_of(document.uri)
    found = hover.hover(ls.lines_of(document), position.line, position.character, module.roles)
    if found is None:
        return None
    markdown, span = found
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=to_range(document, span),
    )


@SERVER.feature(
    types.TEXT_DOCUMENT_SIGNATURE_HELP,
    types.SignatureHelpOptions(trigger_characters=["(", ","], retrigger_characters=[","]),
)
@guarded(None)
def on_signature_help(
    ls: FunctionGraphLanguageServer, params: types.SignatureHelpParams
) -> Optional[types.SignatureHelp]:
    """The signature of the Context/logger call around the cursor."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    position = document.position_from_client_units(params.position)
    _project, module = ls.module_of(document.uri)
    found = signature_help.signature_help(
        ls.lines_of(document), position.line, position.character, module.roles
    )
    if found is None:
        return None
    parameters = [types.ParameterInformation(label=(start, end)) for start, end in found.parameters]
    signature = types.SignatureInformation(
        label=found.label,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.documentation),
        parameters=parameters,
        active_parameter=found.active_parameter,
    )
    return types.SignatureHelp(
        signatures=[signature], active_signature=0, active_parameter=found.active_parameter
    )


@SERVER.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
@guarded(None)
def on_code_action(
    ls: FunctionGraphLanguageServer, params: types.CodeActionParams
) -> Optional[List[types.CodeAction]]:
    """Quick fixes carried by our diagnostics in the requested range."""
    actions = quick_fixes(params.text_document.uri, list(params.context.diagnostics))
    return actions or None


@SERVER.feature(types.TEXT_DOCUMENT_CODE_LENS)
@guarded(None)
def on_code_lens(
    ls: FunctionGraphLanguageServer, params: types.CodeLensParams
) -> Optional[List[types.CodeLens]]:
    """Lenses "Run locally" and "Debug" above each handler and initializer."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    project, module = ls.module_of(document.uri)
    if project is None:
        return None
    lenses = []
    for target in codelens.lens_targets(ls.lines_of(document), module):
        argument = {
            "uri": document.uri,
            "entry": target.entry,
            "initializer": target.initializer,
            "role": target.role,
            "codeDir": str(project.folder),
            "codeRoot": str(project.code_root),
            "configFile": str(project.config_file) if project.config_file else None,
            "runtime": project.runtime,
        }
        rng = to_range(document, target.span)
        for title, command in (("▶ Run locally", RUN_COMMAND), ("Debug", DEBUG_COMMAND)):
            lenses.append(
                types.CodeLens(
                    range=rng, command=types.Command(title=title, command=command, arguments=[argument])
                )
            )
    return lenses or None


def main(argv: Optional[List[str]] = None) -> None:
    """Run the server over stdio (``python -m server``); ``--version`` prints the version."""
    args = sys.argv[1:] if argv is None else argv
    if "--version" in args:
        print("functiongraph-language-server", __version__)
        return
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    SERVER.start_io()


__all__ = ["DEBUG_COMMAND", "RUN_COMMAND", "SERVER", "FunctionGraphLanguageServer", "main"]
