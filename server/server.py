"""The FunctionGraph language server: registers LSP features and wires them to :mod:`server.analysis`.

Every handler fetches the document, calls a pure analysis function and converts the result; any
error is logged to the client's LSP log (``window/logMessage``) and answered with "no result", so a
bug in one check never takes the server down. State lives in
:class:`server.language_server.FunctionGraphLanguageServer`.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from typing import Any, Awaitable, BinaryIO, Callable, List, Optional, TypeVar

from lsprotocol import types

from fglocal.config import CONFIG_FILE_NAME
from server import __version__, fast_start, watched_files
from server.analysis import codelens, completion, entries, event_keys, hover, signature_help
from server.analysis.event_keys import NO_EVENTS, FunctionEvents
from server.entry_edit import config_edit
from server.event_store import EventStore
from server.language_server import FunctionGraphLanguageServer, guarded
from server.lsp_convert import from_client_position, quick_fixes, to_completion_items, to_range
from server.project import Project
from server.settings import SECTION
from server.transport import serve
from server.warmup import warm_up

RUN_COMMAND = "functiongraph.runHandler"
DEBUG_COMMAND = "functiongraph.debugHandler"

SERVER = FunctionGraphLanguageServer()
EVENTS = EventStore()
_T = TypeVar("_T")


@SERVER.feature(types.INITIALIZE)
@guarded(None)
def initialize(ls: FunctionGraphLanguageServer, params: types.InitializeParams) -> None:
    """Read settings from ``initializationOptions``."""
    ls.apply_settings(params.initialization_options)


@SERVER.feature(types.INITIALIZED)
@guarded(None)
def initialized(ls: FunctionGraphLanguageServer, params: types.InitializedParams) -> None:
    """Ask the client to watch the files the analysis reads; warm the converters and the analysis up."""
    ls.watch_files()
    warm_up(ls.protocol._converter)


@SERVER.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded(None)
def did_open(ls: FunctionGraphLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """Publish diagnostics at once for a newly opened document."""
    uri = params.text_document.uri
    ls.forget_document(uri)
    ls.note_open(uri)  # its file resolved once, for as long as it is open
    ls.invalidate_projects()
    project = ls.project_of(uri)
    if project is not None:
        EVENTS.prefetch(project.folder)  # its test events, read now off the loop: `event["` is then instant
    if fast_start.published_early(uri, params.text_document.version):
        # Analysed and published before pygls was ready (server/fast_start.py): only the config's.
        ls.published_elsewhere(uri)
        ls._publish_config(project)
        return
    ls.publish_diagnostics(uri)


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
    if params.text_document.uri.endswith(".json"):
        EVENTS.clear()  # a test event may have been saved
    ls.invalidate_projects()
    ls.publish_diagnostics(params.text_document.uri)
    ls.refresh_others(params.text_document.uri)  # the saved file may change how the others are checked


@SERVER.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded(None)
def did_close(ls: FunctionGraphLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """Clear a closed module's diagnostics; a closed fglocal.json shows its disk content's (see close_document)."""
    ls.close_document(params.text_document.uri)


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
    """Files were created, changed or deleted: re-check what depends on them (see files_changed)."""
    uris = [change.uri for change in params.changes]
    if any(watched_files.is_test_event(uri) for uri in uris):
        EVENTS.clear()
    ls.files_changed(uris)


def guarded_async(
    handler: Callable[[FunctionGraphLanguageServer, Any], Awaitable[_T]],
) -> Callable[[FunctionGraphLanguageServer, Any], Awaitable[Optional[_T]]]:
    """Like :func:`guarded` (answer None on an error, logged) for a coroutine feature handler."""

    @functools.wraps(handler)
    async def run(ls: FunctionGraphLanguageServer, params: Any) -> Optional[_T]:
        try:
            return await handler(ls, params)
        except Exception:
            ls.log(
                "functiongraph: %s failed:\n%s" % (handler.__name__, traceback.format_exc()),
                types.MessageType.Error,
            )
            return None

    return run


async def _test_events(ls: FunctionGraphLanguageServer, project: Optional[Project]) -> FunctionEvents:
    """The function's test events and the selected one (read on a worker thread, then cached)."""
    if project is None:
        return NO_EVENTS
    return await EVENTS.events(project.folder, ls.settings.test_events)


@SERVER.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", '"', "'"]))
@guarded_async
async def complete(
    ls: FunctionGraphLanguageServer, params: types.CompletionParams
) -> Optional[types.CompletionList]:
    """Context / logger methods after ``context.``; event keys after ``event["``; snippets."""
    document = ls.python_document(params.text_document.uri)
    if document is None:
        return None
    position = from_client_position(document, params.position)
    project, module = ls.module_of(document.uri)
    snippets = _client_snippets(ls)
    lines = ls.lines_of(document)
    index = ls.scope_index(document, module.roles)
    events = NO_EVENTS
    line, col = position.line, position.character
    if event_keys.open_access(lines[line][:col] if line < len(lines) else "") is not None:
        events = await _test_events(ls, project)
        if ls.open_document(params.text_document.uri) is not document:
            return None  # closed while the events were read
    items = completion.complete(lines, line, col, module.roles, snippets, index, events)
    if not items:
        return None
    converted = to_completion_items(items, document, (line, col))
    return types.CompletionList(is_incomplete=False, items=converted)


def _client_snippets(ls: FunctionGraphLanguageServer) -> bool:
    caps = ls.client_capabilities.text_document
    item = caps.completion.completion_item if caps and caps.completion else None
    return bool(item and item.snippet_support)


@SERVER.feature(types.TEXT_DOCUMENT_HOVER)
@guarded_async
async def on_hover(ls: FunctionGraphLanguageServer, params: types.HoverParams) -> Optional[types.Hover]:
    """Signature and docs of a Context/logger method, of the Context type, or an event key's value."""
    document = ls.python_document(params.text_document.uri)
    if document is None:
        return None
    position = from_client_position(document, params.position)
    project, module = ls.module_of(document.uri)
    index = ls.scope_index(document, module.roles)
    lines = ls.lines_of(document)
    text = lines[position.line] if position.line < len(lines) else ""
    events = NO_EVENTS
    if event_keys.access_at(text, position.character) is not None:
        events = await _test_events(ls, project)
    found = hover.hover(lines, position.line, position.character, module.roles, index, events)
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
    document = ls.python_document(params.text_document.uri)
    if document is None:
        return None
    position = from_client_position(document, params.position)
    _project, module = ls.module_of(document.uri)
    index = ls.scope_index(document, module.roles)
    found = signature_help.signature_help(
        ls.lines_of(document), position.line, position.character, module.roles, index
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
    """Quick fixes of our diagnostics in the range, and "Set ... as this function's entry".

    The latter on a handler-shaped function (or with an entry-not-found diagnostic); it writes
    fglocal.json, creating it when missing.
    """
    actions = quick_fixes(params.text_document.uri, list(params.context.diagnostics))
    actions += _entry_actions(ls, params)
    return actions or None


def _entry_actions(ls: FunctionGraphLanguageServer, params: types.CodeActionParams) -> List[types.CodeAction]:
    document = ls.python_document(params.text_document.uri)
    if document is None:
        return []
    project, module = ls.module_of(document.uri)
    if project is None:
        return []
    missing = [d for d in params.context.diagnostics if d.code == "entry-not-found"]
    choices = entries.entry_choices(
        ls.lines_of(document),
        module,
        params.range.start.line,
        params.range.end.line,
        bool(missing),
        ls.scope_index(document, module.roles),
    )
    config_file = project.config_file or project.folder / CONFIG_FILE_NAME
    actions = []
    for number, entry in enumerate(choices):
        edit = config_edit(ls.workspace, config_file, "handler", entry)
        if edit is None:
            continue
        actions.append(
            types.CodeAction(
                title=entries.entry_title(entry),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=missing or None,
                edit=edit,
                is_preferred=(bool(missing) and number == 0) or None,
            )
        )
    return actions


@SERVER.feature(types.TEXT_DOCUMENT_CODE_LENS)
@guarded(None)
def on_code_lens(
    ls: FunctionGraphLanguageServer, params: types.CodeLensParams
) -> Optional[List[types.CodeLens]]:
    """Lenses "Run locally" and "Debug" above each handler and initializer."""
    document = ls.python_document(params.text_document.uri)
    if document is None:
        return None
    project, module = ls.module_of(document.uri)
    if project is None:
        return None
    lenses = []
    index = ls.scope_index(document, module.roles)
    for target in codelens.lens_targets(ls.lines_of(document), module, index):
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
    """Run the server over stdio (``python -m server``); ``--version`` prints the version.

    Exits with the code :func:`server.transport.serve` returns: 0 after shutdown/exit, 1 otherwise.
    """
    args = sys.argv[1:] if argv is None else argv
    if "--version" in args:
        print("functiongraph-language-server", __version__)
        return
    run_stdio()


def run_stdio(prefix: bytes = b"", stdout: Optional[BinaryIO] = None) -> None:
    """Serve LSP on stdin/stdout until the client leaves; ``prefix``: bytes already read from stdin."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    code = serve(SERVER, sys.stdin.buffer, stdout or sys.stdout.buffer, prefix)
    # Leave without the interpreter's finalization: it joins the analysis worker thread
    # (concurrent.futures does at exit), so an analysis that never ends (a pathological input) would
    # keep the process alive after 'exit'. The server only reads code: nothing is left to save.
    for stream in (stdout or sys.stdout.buffer, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)


__all__ = ["DEBUG_COMMAND", "RUN_COMMAND", "SERVER", "FunctionGraphLanguageServer", "main", "run_stdio"]
