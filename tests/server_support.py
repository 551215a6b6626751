"""Helpers for the language-server tests: a real client over stdio (pytest-lsp) and fixture projects."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "server"
SERVER_COMMAND = [sys.executable, "-m", "server"]


def _record_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    counts = client.__dict__.setdefault("publish_counts", {})
    counts[params.uri] = counts.get(params.uri, 0) + 1
    client.__dict__.setdefault("publish_versions", {})[params.uri] = params.version
    history = client.__dict__.setdefault("publish_history", {}).setdefault(params.uri, [])
    history.append((params.version, list(params.diagnostics)))


def _register(client: LanguageClient, params: types.RegistrationParams) -> None:
    """Accept a registration, as VS Code does (file watchers: see :func:`watchers`)."""
    found = client.__dict__.setdefault("registrations", {})
    for registration in params.registrations:
        found[registration.id] = registration


def _unregister(client: LanguageClient, params: types.UnregistrationParams) -> None:
    for registration in params.unregisterations:
        client.__dict__.setdefault("registrations", {}).pop(registration.id, None)


def make_client() -> LanguageClient:
    """pytest-lsp's test client, also counting diagnostics notifications per URI and keeping registrations."""
    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record_diagnostics,
            types.CLIENT_REGISTER_CAPABILITY: _register,
            types.CLIENT_UNREGISTER_CAPABILITY: _unregister,
        },
    )
    return client


async def wait_registered(client: LanguageClient, done: Callable[[], bool]) -> None:
    """Wait until ``done()`` holds for the registrations the client has received (checked as they come)."""

    async def wait() -> None:
        while not done():  # registrations are requests the client answers: no notification to wait for
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), WAIT_LIMIT)


def watchers(client: LanguageClient) -> List[types.FileSystemWatcher]:
    """The file watchers the server has registered with the client (and not unregistered)."""
    found: List[types.FileSystemWatcher] = []
    for registration in client.__dict__.get("registrations", {}).values():
        if registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES:
            options = client.protocol._converter.structure(
                registration.register_options, types.DidChangeWatchedFilesRegistrationOptions
            )
            found += options.watchers
    return found


CONFIG = ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_client)
WAIT_LIMIT = 60  # seconds: a safety net against a hung server, not a timing assertion


def copy_projects(target: Path) -> Path:
    """Copy tests/fixtures/server/projects into ``target`` and return the copy."""
    destination = target / "projects"
    shutil.copytree(FIXTURES / "projects", destination)
    return destination


def server_fixture(
    name: str, options: Optional[Dict[str, Any]] = None, configuration: Optional[Dict[str, Any]] = None
):
    """A module-scoped pytest-lsp fixture: a real ``python -m server`` over stdio, initialised on a copy
    of the fixture projects (``client.root``), with ``options`` as initializationOptions and
    ``configuration`` answered to workspace/configuration."""

    @pytest_lsp.fixture(config=CONFIG, scope="module")
    async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
        root = copy_projects(tmp_path_factory.mktemp(name))
        lsp_client.root = root  # type: ignore[attr-defined]
        if configuration is not None:
            lsp_client.set_configuration(configuration)
        await start(lsp_client, root, options)
        yield
        await lsp_client.shutdown_session()

    return client


async def start(client: LanguageClient, root: Path, options: Optional[Dict[str, Any]] = None) -> None:
    """Send initialize/initialized like VS Code would, with ``root`` as the workspace folder."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )


def published(client: LanguageClient, uri: str) -> int:
    """How many diagnostics notifications ``uri`` has had so far (take this before an action)."""
    return client.__dict__.get("publish_counts", {}).get(uri, 0)


def history(client: LanguageClient, uri: str) -> List[Tuple[Optional[int], List[types.Diagnostic]]]:
    """Every diagnostics notification ``uri`` has had, in order: ``(version, diagnostics)``."""
    return client.__dict__.get("publish_history", {}).get(uri, [])


async def wait_until(client: LanguageClient, done: Callable[[], bool]) -> None:
    """Wait until ``done()`` holds, checking it again after each diagnostics notification.

    ``done`` must look at the client's state as it is when it runs (:func:`history`, ``published``),
    never at a value taken earlier: more notifications may have been handled between the wake-up and
    the caller's next step (see :func:`close_document`).
    """

    async def wait() -> None:
        while not done():
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(wait(), WAIT_LIMIT)


async def next_diagnostics(client: LanguageClient, uri: str, before: int) -> List[types.Diagnostic]:
    """The first diagnostics of ``uri`` published after ``before`` = :func:`published` was taken."""
    await wait_until(client, lambda: published(client, uri) > before)
    return list(history(client, uri)[before][1])


async def diagnostics_of_version(client: LanguageClient, uri: str, version: int) -> List[types.Diagnostic]:
    """Wait until the latest diagnostics of ``uri`` are for ``version`` and return them.

    The version and the diagnostics are read together from the latest notification, when the wait ends.
    """
    await wait_until(client, lambda: client.__dict__.get("publish_versions", {}).get(uri) == version)
    return list(client.diagnostics[uri])


async def open_document(
    client: LanguageClient, path: Path, text: str, version: int = 1, language: str = "python"
) -> List[types.Diagnostic]:
    """Open ``path`` with ``text`` and return the diagnostics the server publishes for it."""
    uri = path.as_uri()
    before = published(client, uri)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
        )
    )
    return await next_diagnostics(client, uri, before)


async def close_document(client: LanguageClient, path: Path) -> None:
    """Close a document, wait for the server's ``[]`` for it and check that nothing came after it.

    Diagnostics the server sent before it read the close may still arrive first (an analysis for the
    last version that was under way): skipped. The close's own notification has no version and no
    diagnostics; once it is here, any later notification for the URI would be stale (the document is
    closed), so none may follow it. The wait checks the whole history each time it wakes: the old loop
    (take the next notification, then count again) lost the ``[]`` when it arrived in the same read
    as the notification before it, and then waited forever.
    """
    uri = path.as_uri()
    before = published(client, uri)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    def cleared_at() -> Optional[int]:
        for index, (version, diagnostics) in enumerate(history(client, uri)[before:], before):
            if version is None and diagnostics == []:
                return index
        return None

    await wait_until(client, lambda: cleared_at() is not None)
    index = cleared_at()
    assert index is not None
    late = history(client, uri)[index + 1 :]
    assert late == [], "diagnostics published after the close: %r" % (late,)


async def close_config(client: LanguageClient, path: Path) -> List[types.Diagnostic]:
    """Close a config file (``fglocal.json``) and return the diagnostics of its content on disk.

    A config file is checked from disk when it is not open: the close's own notification has no
    version (what was published for the open buffer had one, and may still arrive before it), and
    nothing for the buffer may follow it.
    """
    uri = path.as_uri()
    before = published(client, uri)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    def disk_at() -> Optional[int]:
        for index, (version, _diagnostics) in enumerate(history(client, uri)[before:], before):
            if version is None:
                return index
        return None

    await wait_until(client, lambda: disk_at() is not None)
    index = disk_at()
    assert index is not None
    late = [version for version, _ in history(client, uri)[index + 1 :] if version is not None]
    assert late == [], "the open buffer's diagnostics published after the close: %r" % (late,)
    return list(history(client, uri)[index][1])


async def diagnose(client: LanguageClient, path: Path, text: str) -> List[types.Diagnostic]:
    """Open, collect diagnostics, close: the diagnostics of ``text`` as the module at ``path``."""
    try:
        return await open_document(client, path, text)
    finally:
        await close_document(client, path)


def codes(diagnostics: Sequence[types.Diagnostic]) -> List[str]:
    """The codes of the diagnostics, in order."""
    return [str(d.code) for d in diagnostics]


def position_of(text: str, marker: str, offset: int = 0) -> types.Position:
    """The position just after the first ``marker`` in ``text`` (plus ``offset`` characters).

    Columns are UTF-16 code units, like a real client's.
    """
    index = text.index(marker) + len(marker) + offset
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    column = len(text[start:index].encode("utf-16-le")) // 2
    return types.Position(line=line, character=column)


def function_folder(client: LanguageClient, name: str, files: Dict[str, str]) -> Path:
    """A new function folder ``name`` under the workspace with ``files`` (name → text), by its real path."""
    path = Path(os.path.realpath(client.root)) / name  # type: ignore[attr-defined]
    path.mkdir()
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
    return path


def missing_modules(diagnostics: Sequence[types.Diagnostic]) -> List[str]:
    """The module files fglocal.json's entry-not-found diagnostics say are missing."""
    return sorted(
        d.message.split(" names ", 1)[1].split(",", 1)[0] for d in diagnostics if d.code == "entry-not-found"
    )


async def config_diagnostics_shown(client: LanguageClient, config: Path) -> List[types.Diagnostic]:
    """The diagnostics of ``config`` once the server has published them at least once."""
    await wait_until(client, lambda: published(client, config.as_uri()) > 0)
    return list(client.diagnostics[config.as_uri()])
