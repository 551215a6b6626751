"""Files changed outside the editor, and closed documents, end to end over stdio (pytest-lsp).

The server registers file watchers with the client (``client/registerCapability``) for what its
analysis reads from disk; the client then sends ``workspace/didChangeWatchedFiles``, as VS Code does
for ``git checkout`` or a formatter run in a terminal. Each test changes files on disk, sends the
notification a real client would send, and waits for the diagnostics the server publishes (never
for a time). A closed document gives way to its disk content: ``fglocal.json`` shows the diagnostics
of the file, and a closed module no longer counts as present.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Tuple

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_config,
    close_document,
    codes,
    config_diagnostics_shown,
    function_folder,
    history,
    missing_modules,
    next_diagnostics,
    open_document,
    position_of,
    published,
    server_fixture,
    wait_registered,
    watchers,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

client = server_fixture("watched")

CREATED, CHANGED, DELETED = (
    types.FileChangeType.Created,
    types.FileChangeType.Changed,
    types.FileChangeType.Deleted,
)


def files_changed(client: LanguageClient, *changes: Tuple[Path, types.FileChangeType]) -> None:
    """What VS Code sends for files its watchers saw change."""
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]
        )
    )


async def test_the_server_registers_watchers_for_what_it_reads(client: LanguageClient):
    # An envFile has the user's name: the server watches that file itself once a config names it.
    fn = function_folder(
        client,
        "withenv",
        {"fglocal.json": '{"handler": "index.handler", "envFile": "conf/dev.env"}', "index.py": "X = 1\n"},
    )
    (fn / "conf" / "dev.env").parent.mkdir()
    (fn / "conf" / "dev.env").write_text("A=1\n")
    await open_document(client, fn / "index.py", "X = 1\n")
    env = os.path.realpath(fn / "conf" / "dev.env")

    def env_watched() -> bool:
        for watcher in watchers(client):
            pattern = watcher.glob_pattern
            if isinstance(pattern, str) and pattern == env:
                return True
            if isinstance(pattern, types.RelativePattern):
                base = pattern.base_uri if isinstance(pattern.base_uri, str) else pattern.base_uri.uri
                if base == Path(env).parent.as_uri() and pattern.pattern == Path(env).name:
                    return True
        return False

    await wait_registered(client, env_watched)
    globs = [w.glob_pattern for w in watchers(client)]  # registered at `initialized`
    for glob in ("**/*.py", "**/fglocal.json", "**/events/*.json"):
        assert glob in globs, globs
    await close_document(client, fn / "index.py")


async def test_an_env_file_deleted_and_restored_on_disk_changes_the_config_error(client: LanguageClient):
    fn = client.root / "withenv"  # type: ignore[attr-defined]
    config, env = fn / "fglocal.json", fn / "conf" / "dev.env"
    await open_document(client, fn / "index.py", "X = 1\n")
    assert codes(await config_diagnostics_shown(client, config)) == []
    before = published(client, config.as_uri())
    env.unlink()
    files_changed(client, (env, DELETED))
    shown = await next_diagnostics(client, config.as_uri(), before)
    assert codes(shown) == ["config-error"] and "dev.env" in shown[0].message
    before = published(client, config.as_uri())
    env.write_text("A=2\n")
    files_changed(client, (env, CREATED))
    assert await next_diagnostics(client, config.as_uri(), before) == []
    await close_document(client, fn / "index.py")


async def test_a_handler_module_restored_and_deleted_on_disk_changes_fglocal_json(client: LanguageClient):
    # `git checkout` brings the handler's module back, then another one takes it away again.
    fn = function_folder(
        client, "restored", {"fglocal.json": '{\n  "handler": "index.handler"\n}\n', "other.py": "X = 1\n"}
    )
    config, index = fn / "fglocal.json", fn / "index.py"
    await open_document(client, fn / "other.py", "X = 1\n")
    assert missing_modules(await config_diagnostics_shown(client, config)) == ["index.py"]

    before = published(client, config.as_uri())
    index.write_text("def handler(event, context):\n    return 1\n")
    files_changed(client, (index, CREATED))
    assert await next_diagnostics(client, config.as_uri(), before) == []

    # No module of the function open any more: fglocal.json's diagnostics still follow the disk.
    await close_document(client, fn / "other.py")
    before = published(client, config.as_uri())
    index.unlink()
    files_changed(client, (index, DELETED))
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == ["index.py"]


async def test_the_inferred_entry_follows_a_module_changed_on_disk(client: LanguageClient):
    # No config: the entry is app.main (inferred from app.py on disk), so other.py's `main` is checked
    # as a handler too. A formatter run in a terminal renames it in app.py: other.py is not checked so.
    fn = function_folder(
        client, "inferred", {"app.py": "def main(event, context):\n    return 1\n", "other.py": ""}
    )
    app, other = fn / "app.py", fn / "other.py"
    source = "def main(event):\n    return 1\n"
    assert codes(await open_document(client, other, source)) == ["handler-signature"]
    before = published(client, other.as_uri())
    app.write_text("def run(event, context):\n    return 1\n")
    files_changed(client, (app, CHANGED))
    assert await next_diagnostics(client, other.as_uri(), before) == []
    before = published(client, other.as_uri())
    app.write_text("def main(event, context):\n    return 1\n")
    files_changed(client, (app, CHANGED))
    assert codes(await next_diagnostics(client, other.as_uri(), before)) == ["handler-signature"]
    await close_document(client, other)


async def test_an_open_module_wins_over_disk_until_it_is_closed(client: LanguageClient):
    fn = function_folder(
        client,
        "openwins",
        {
            "fglocal.json": '{\n  "handler": "index.handler"\n}\n',
            "index.py": "def handler(event, context):\n    return 1\n",
        },
    )
    config, index = fn / "fglocal.json", fn / "index.py"
    text = index.read_text()
    assert await open_document(client, index, text) == []
    assert await config_diagnostics_shown(client, config) == []
    # Deleted on disk while open (the editor keeps the buffer), in the same batch as a config change
    # that adds a missing initializer: the publish that follows shows what the batch changed.
    before = published(client, config.as_uri())
    index.unlink()
    config.write_text('{\n  "handler": "index.handler",\n  "initializer": "setup.init"\n}\n')
    files_changed(client, (index, DELETED), (config, CHANGED))
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == [
        "setup.py"
    ]  # index.py is open
    # Edited, then closed without saving: the disk has no index.py, and fglocal.json says so now.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=index.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + "\nX = 1\n")],
        )
    )
    before = published(client, config.as_uri())
    await close_document(client, index)
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == [
        "index.py",
        "setup.py",
    ]


async def test_a_change_elsewhere_republishes_nothing_else(client: LanguageClient):
    # Two functions; a batch changes one of them (and a file outside both): only its documents are
    # published again. The untouched function's module sorts first, so a publish of it would come first.
    quiet = function_folder(client, "a_quiet", {"index.py": "def handler(event, context):\n    return 1\n"})
    busy = function_folder(
        client, "b_busy", {"app.py": "def main(event, context):\n    return 1\n", "other.py": ""}
    )
    unrelated = client.root / "notes.py"  # type: ignore[attr-defined]
    unrelated.write_text("X = 1\n")
    await open_document(client, quiet / "index.py", (quiet / "index.py").read_text())
    assert codes(await open_document(client, busy / "other.py", "def main(event):\n    return 1\n")) == [
        "handler-signature"
    ]
    quiet_before = published(client, (quiet / "index.py").as_uri())
    before = published(client, (busy / "other.py").as_uri())
    (busy / "app.py").write_text("def run(event, context):\n    return 1\n")
    files_changed(client, (unrelated, CHANGED), (busy / "app.py", CHANGED))
    assert await next_diagnostics(client, (busy / "other.py").as_uri(), before) == []
    assert published(client, (quiet / "index.py").as_uri()) == quiet_before
    await close_document(client, quiet / "index.py")
    await close_document(client, busy / "other.py")


async def test_closing_an_edited_fglocal_json_shows_the_disk_version(client: LanguageClient):
    fn = function_folder(
        client, "closeconfig", {"fglocal.json": '{\n  "handler": "gone.handler"\n}\n', "index.py": ""}
    )
    config = fn / "fglocal.json"
    uri = config.as_uri()
    shown = await open_document(client, config, config.read_text(), language="json")
    assert missing_modules(shown) == ["gone.py"]
    # Edited in the editor (the entry moved down two lines), then closed without saving.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="\n\n" + config.read_text())],
        )
    )
    disk = await close_config(client, config)
    assert (
        missing_modules(disk) == ["gone.py"] and disk[0].range.start.line == 1
    )  # where the file on disk has it
    assert history(client, uri)[-1][0] is None


async def test_a_test_event_is_not_checked_as_python(client: LanguageClient):
    fn = function_folder(client, "eventjson", {"index.py": "def handler(event, context):\n    return 1\n"})
    event = fn / "events" / "broken.json"
    event.parent.mkdir()
    event.write_text('{"a": 1,,}\n')  # not JSON, and not Python either
    assert await open_document(client, event, event.read_text(), language="json") == []
    await close_document(client, event)


async def test_an_edited_test_event_closed_without_saving_leaves_the_disk_keys(client: LanguageClient):
    # The keys after `event["` come from the files on disk: an open buffer's edits never count, so
    # closing it unsaved leaves what was offered before.
    fn = client.root / "eventjson"  # type: ignore[attr-defined]
    event = fn / "events" / "hello.json"
    event.write_text('{"diskKey": 1}\n')
    files_changed(client, (event, CREATED))
    module = fn / "index.py"
    text = 'def handler(event, context):\n    return event["'
    await open_document(client, module, text)

    async def keys() -> List[str]:
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=module.as_uri()),
                position=position_of(text, 'event["'),
            )
        )
        assert result is None or isinstance(result, types.CompletionList)
        return [item.label for item in result.items] if result else []

    assert await keys() == ["diskKey"]
    await open_document(client, event, event.read_text(), language="json")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=event.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text='{"bufferKey": 1}\n')],
        )
    )
    assert await keys() == ["diskKey"]
    await close_document(client, event)
    assert await keys() == ["diskKey"]
    await close_document(client, module)
