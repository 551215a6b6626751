"""Diagnostics for the function config file (fglocal.json) and for entries whose file is missing."""

from __future__ import annotations

import json
from typing import List, Optional, Sequence, Tuple

from server.analysis.entries import entry_title
from server.analysis.entry_checks import json_key_span, json_value_span, missing_entry_files
from server.analysis.model import ERROR, Edit, Finding, Fix, Span


def config_file_findings(
    text: str,
    error: Optional[Tuple[str, str]],
    entries: Sequence[Tuple[str, str]],
    entries_from_file: Sequence[str],
    py_files: Sequence[str],
    code_root: str,
    candidates: Sequence[str] = (),
) -> List[Finding]:
    """Findings placed in fglocal.json: its own error (field, message), and entries set there that name no file.

    A missing handler module gets a quick fix per ``candidates`` entry (handler-shaped functions of
    the folder's modules).
    """
    first_line = Span(0, 0, 0, len(text.split("\n", 1)[0]))
    findings = []
    if error is not None:
        field, message = error
        span = json_key_span(text, field) or first_line
        findings.append(
            Finding(span, ERROR, "config-error", "%s. The language server uses the defaults." % message)
        )
    for role, _entry, message in missing_entry_files(entries, py_files, code_root):
        if role in entries_from_file:
            value = json_value_span(text, role)
            fixes = tuple(
                Fix(entry_title(c), (Edit(value or first_line, json.dumps(c)),), i == 0)
                for i, c in enumerate(candidates if role == "handler" and value else ())
            )
            findings.append(Finding(value or first_line, ERROR, "entry-not-found", message, fixes))
    return findings


def module_entry_findings(
    first_line: str,
    entries: Sequence[Tuple[str, str]],
    entries_from_file: Sequence[str],
    py_files: Sequence[str],
    code_root: str,
) -> List[Finding]:
    """Missing entry files not set in fglocal.json (defaults or settings), shown on a module's first line."""
    span = Span(0, 0, 0, len(first_line))
    return [
        Finding(span, ERROR, "entry-not-found", message)
        for role, _entry, message in missing_entry_files(entries, py_files, code_root)
        if role not in entries_from_file
    ]
