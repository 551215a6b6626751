"""Open documents' paths, resolved once at their open, end to end over stdio (pytest-lsp).

The server resolves each open document's file (symbolic links followed) when it is opened and keeps
that until it is closed: a publish looks at no document's path on disk. These tests check that the
diagnostics stay right with several documents open, some through a symbolically linked folder or as
a linked file, and that a link pointed elsewhere counts where it pointed while the document was open,
and where it points now once it is reopened.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    codes,
    config_diagnostics_shown,
    function_folder,
    missing_modules,
    next_diagnostics,
    open_document,
    published,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

client = server_fixture("openpaths", {"diagnostics": {"debounceMs": 0}})

APP = "def handler(event):\n    return 1\n"  # the entry, with one parameter too few: handler-signature
SETUP = "def init(context):\n    pass\n"


async def test_open_modules_count_through_a_linked_folder_until_closed(client: LanguageClient):
    real = function_folder(
        client,
        "real_fn",
        {"fglocal.json": '{"handler": "app.handler", "initializer": "setup.init"}\n', "other.py": "X = 1\n"},
    )
    linked = real.parent / "linked fn"  # a space: its URI is quoted, pygls keys documents unquoted
    linked.symlink_to(real, target_is_directory=True)
    config = real / "fglocal.json"
    elsewhere = function_folder(
        client, "elsewhere", {"index.py": "def handler(event, context):\n    return 1\n"}
    )
    assert await open_document(client, elsewhere / "index.py", (elsewhere / "index.py").read_text()) == []
    await open_document(client, real / "other.py", "X = 1\n")
    assert missing_modules(await config_diagnostics_shown(client, config)) == ["app.py", "setup.py"]

    # Unsaved modules opened through the link: the entry's module (checked as the entry) and the initializer's.
    before = published(client, config.as_uri())
    assert codes(await open_document(client, linked / "app.py", APP)) == ["handler-signature"]
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == ["setup.py"]
    before = published(client, config.as_uri())
    assert codes(await open_document(client, linked / "setup.py", SETUP)) == []
    assert await next_diagnostics(client, config.as_uri(), before) == []

    before = published(client, config.as_uri())
    await close_document(client, linked / "app.py")
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == ["app.py"]


async def test_a_link_pointed_elsewhere_counts_where_it_pointed_until_reopened(client: LanguageClient):
    real = Path(os.path.realpath(client.root)) / "real_fn"  # type: ignore[attr-defined]
    linked = real.parent / "linked fn"  # still open: linked fn/setup.py
    config = real / "fglocal.json"
    second = function_folder(
        client, "second_fn", {"fglocal.json": '{"handler": "app.handler"}\n', "other.py": "X = 1\n"}
    )
    second_config = second / "fglocal.json"
    await open_document(client, second / "other.py", "X = 1\n")
    assert missing_modules(await config_diagnostics_shown(client, second_config)) == ["app.py"]

    linked.unlink()
    linked.symlink_to(second, target_is_directory=True)
    # Closing the document opened through the link: it was real_fn's setup.py, which is missing again.
    before = published(client, config.as_uri())
    await close_document(client, linked / "setup.py")
    assert missing_modules(await next_diagnostics(client, config.as_uri(), before)) == ["app.py", "setup.py"]
    # Opened again, the link's module is the second function's.
    before = published(client, second_config.as_uri())
    assert codes(await open_document(client, linked / "app.py", APP)) == ["handler-signature"]
    assert await next_diagnostics(client, second_config.as_uri(), before) == []
    assert missing_modules(client.diagnostics[config.as_uri()]) == ["app.py", "setup.py"]
    await close_document(client, linked / "app.py")


async def test_a_linked_module_file_is_checked_in_its_targets_function_after_a_change(client: LanguageClient):
    """A module file that is a link belongs to its target's function, whatever other function is cached."""
    target = function_folder(
        client,
        "target_fn",
        {
            "fglocal.json": '{"handler": "index.other"}\n',
            "index.py": "def main(event):\n    return 1\n\n\ndef other(event, context):\n    return 1\n",
        },
    )
    holder = function_folder(
        client,
        "holder_fn",
        {
            "fglocal.json": '{"handler": "app.handler"}\n',
            "app.py": "def handler(event, context):\n    return 1\n",
        },
    )
    (holder / "index.py").symlink_to(target / "index.py")
    index = holder / "index.py"
    assert await open_document(client, index, index.read_text()) == []
    assert await open_document(client, holder / "app.py", (holder / "app.py").read_text()) == []
    # The target function's entry becomes index.main (one parameter too few) on disk.
    (target / "fglocal.json").write_text('{"handler": "index.main"}\n')
    before = published(client, index.as_uri())
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=(target / "fglocal.json").as_uri(), type=types.FileChangeType.Changed)
            ]
        )
    )
    assert codes(await next_diagnostics(client, index.as_uri(), before)) == ["handler-signature"]
    await close_document(client, holder / "app.py")
    await close_document(client, index)
