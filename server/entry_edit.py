"""The workspace edit that sets an entry in a function's ``fglocal.json`` (created when missing)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from fglocal.safe_read import UnreadableFile, read_text
from server.analysis.entries import set_entry_edit
from server.lsp_convert import to_range

MAX_CONFIG_BYTES = 1_000_000


def config_edit(
    workspace: Workspace, config_file: Path, role: str, entry: str
) -> Optional[types.WorkspaceEdit]:
    """Set ``role`` to ``entry`` in ``config_file``: its open text first, else the file on disk.

    None when the file exists but cannot be read as a regular, reasonably small text file.
    """
    uri = config_file.as_uri()
    opened = workspace.text_documents.get(uri)
    text: Optional[str]
    if opened is not None:
        text = opened.source
    elif not os.path.lexists(config_file):
        text = None
    else:
        text = _read(config_file)
        if text is None:
            return None
    edit, create = set_entry_edit(text, role, entry)
    document = TextDocument(uri, source=text or "")
    changes: list[Union[types.TextDocumentEdit, types.CreateFile]] = []
    if create:
        changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)))
    changes.append(
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=to_range(document, edit.span), new_text=edit.new_text)],
        )
    )
    return types.WorkspaceEdit(document_changes=changes)


def _read(path: Path) -> Optional[str]:
    try:
        return read_text(path, MAX_CONFIG_BYTES)  # a regular UTF-8 file, bounded in size and time
    except UnreadableFile:
        return None
