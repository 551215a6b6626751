"""Which function is the handler when nothing configures it, and the edit that configures one.

On FunctionGraph the entry (``index.handler``) is set in the console, so a folder without
``fglocal.json`` and without ``index.py`` is normal. The rules (documented in server/README.md):
``index.handler`` when ``index.py`` defines ``handler``; else every top-level function of the folder's
modules that has the handler shape (see :func:`context_inference.is_handler_like`) is a candidate
entry, the first one (by module name) the one used.
"""

from __future__ import annotations

import json
import re
from typing import Iterable, List, Optional, Sequence, Tuple

from server.analysis.context_inference import ScopeIndex, is_handler_like, parse_header
from server.analysis.entry_checks import json_value_span
from server.analysis.model import Edit, ModuleContext, Span

DEFAULT_MODULE = "index"
DEFAULT_FUNCTION = "handler"
_TOP_DEF_RE = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def top_level_functions(text: str) -> List[Tuple[str, bool]]:
    """``(name, handler-shaped)`` of each top-level ``def`` of a module's text (which may not parse)."""
    if "def" not in text:
        return []
    lines: Optional[List[str]] = None
    found = []
    line, counted = 0, 0  # line numbers counted incrementally: one pass over the text, not one per def
    for match in _TOP_DEF_RE.finditer(text):
        if lines is None:
            lines = text.split("\n")
        line += text.count("\n", counted, match.start())
        counted = match.start()
        header = parse_header(lines, line)
        if header is not None:
            found.append((header.name, is_handler_like(header)))
    return found


def _defines_default_handler(text: str) -> bool:
    """Whether the text has a top-level ``def handler`` (what :func:`top_level_functions` would list)."""
    return any(m.group(1) == DEFAULT_FUNCTION for m in _TOP_DEF_RE.finditer(text))


def infer_entries(modules: Iterable[Tuple[str, str]]) -> Tuple[str, ...]:
    """The candidate entries of a folder from ``(module name, text)`` of its modules, best first.

    ``("index.handler",)`` when ``index`` defines ``handler``; else ``module.function`` for every
    handler-shaped top-level function, a ``handler`` of each module before its other functions.
    """
    modules = list(modules)
    # Looked for first, by name only: every top-level ``def`` match is listed by top_level_functions
    # (parse_header always accepts it), so no header needs parsing to know that index.handler wins.
    if any(m == DEFAULT_MODULE and _defines_default_handler(t) for m, t in modules):
        return ("%s.%s" % (DEFAULT_MODULE, DEFAULT_FUNCTION),)
    candidates: List[Tuple[int, str, int, str]] = []
    for module, text in modules:
        for name, shaped in top_level_functions(text):
            if shaped:
                candidates.append((module != DEFAULT_MODULE, module, name != DEFAULT_FUNCTION, name))
    return tuple("%s.%s" % (module, name) for _, module, _, name in sorted(set(candidates)))


def set_entry_edit(config_text: Optional[str], role: str, entry: str) -> Tuple[Edit, bool]:
    """The edit that makes ``fglocal.json`` (its text, None when it does not exist) set ``role`` to ``entry``.

    Returns the edit and whether the file must be created first. An existing value is replaced; a
    missing key is added after the opening brace; text that is not a JSON object is replaced whole.
    """
    value = json.dumps(entry)
    if config_text is None or not config_text.strip():
        body = '{\n  "%s": %s\n}\n' % (role, value)
        end = _end_of(config_text or "")
        return Edit(Span(0, 0, end[0], end[1]), body), config_text is None
    try:
        data = json.loads(config_text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        end = _end_of(config_text)
        return Edit(Span(0, 0, end[0], end[1]), '{\n  "%s": %s\n}\n' % (role, value)), False
    existing = json_value_span(config_text, role) if role in data else None
    if existing is not None:
        return Edit(existing, value), False
    brace = config_text.index("{") + 1
    rest = config_text[brace:].strip()
    separator = "," if rest and not rest.startswith("}") else ""
    line = config_text.count("\n", 0, brace)
    col = brace - (config_text.rfind("\n", 0, brace) + 1)
    return Edit(Span.point(line, col), '\n  "%s": %s%s' % (role, value, separator)), False


def _end_of(text: str) -> Tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


def entry_title(entry: str) -> str:
    """The quick fix's title."""
    return "Set `%s` as this function's entry" % entry


def handler_functions(lines: Sequence[str], index: Optional[ScopeIndex] = None) -> List[Tuple[str, int, int]]:
    """``(name, line, name column)`` of each top-level handler-shaped function of a module.

    ``index``: a :class:`ScopeIndex` of the same lines kept between requests (headers parsed once).
    """
    found = []
    for number, text in enumerate(lines):
        if not text.startswith(("def ", "async ")):
            continue
        header = index.header(number) if index is not None else parse_header(lines, number)
        if header is not None and is_handler_like(header):
            found.append((header.name, number, header.name_col))
    return found


def entry_choices(
    lines: Sequence[str],
    module: ModuleContext,
    first_line: int,
    last_line: int,
    everywhere: bool,
    index: Optional[ScopeIndex] = None,
) -> List[str]:
    """Entries to offer as "Set ... as this function's entry" for a code action request.

    The handler-shaped top-level functions whose ``def`` is on the requested lines (all of the
    module's when ``everywhere``: an entry-not-found diagnostic is in the request), except the one a
    config already names.
    """
    if not module.module_name:
        return []
    found = []
    for name, line, _col in handler_functions(lines, index):
        if not everywhere and not first_line <= line <= last_line:
            continue
        entry = module.entry_for("handler", name)
        configured = "handler" in module.required_roles and entry == module.handler_entry
        if not configured and entry not in found:
            found.append(entry)
    return found
