"""Modules and packages of the function folder that shadow the standard library."""

from __future__ import annotations

import ast
from typing import Dict, List, Sequence, Tuple

from fglocal.stdlib import RESERVED_MODULES, find_shadowing_modules
from server.analysis.model import ERROR, Finding, Span
from server.analysis.parsing import node_span


def check_shadowing(
    imports: Sequence[ast.Import | ast.ImportFrom],
    lines: Sequence[str],
    module_name: str,
    folder_entries: Sequence[Tuple[str, bool]],
    is_entry_module: bool,
) -> List[Finding]:
    """Report the module shadowing the standard library, imports of shadowed names, and others in entry modules."""
    findings: List[Finding] = []
    first_line = Span(0, 0, 0, len(lines[0]) if lines else 0)
    top = module_name.split(".", 1)[0]
    if top in RESERVED_MODULES:
        findings.append(
            Finding(
                first_line,
                ERROR,
                "stdlib-shadowing",
                "This module's name '%s' shadows the standard library module of that name: FunctionGraph "
                "fails to load the function. Rename %s (e.g. %s_utils)."
                % (top, _entry_label(top, folder_entries), top),
            )
        )
    shadowed: Dict[str, str] = {module: entry for entry, module in find_shadowing_modules(folder_entries)}
    if not shadowed:
        return findings
    imported = set()
    for node in imports:
        names: List[Tuple[str, ast.AST]] = []
        if isinstance(node, ast.Import):
            names = [(alias.name.split(".")[0], alias) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [(node.module.split(".")[0], node)]
        for name, where in names:
            if name in shadowed and name != top:
                imported.add(name)
                span = node_span(lines, where) if hasattr(where, "lineno") else node_span(lines, node)
                findings.append(
                    Finding(
                        span,
                        ERROR,
                        "stdlib-shadowing",
                        "'%s' here imports the function folder's %s, not the standard library's %s (and "
                        "FunctionGraph's own imports of %s break too). Rename %s."
                        % (name, shadowed[name], name, name, shadowed[name]),
                    )
                )
    rest = sorted(set(shadowed) - imported - {top})
    if is_entry_module and rest:
        listed = ", ".join(shadowed[name] for name in rest)
        findings.append(
            Finding(
                first_line,
                ERROR,
                "stdlib-shadowing",
                "The function folder has %s, which shadow%s the standard library: FunctionGraph fails to load "
                "the function. Rename %s."
                % (listed, "s" if len(rest) == 1 else "", "it" if len(rest) == 1 else "them"),
            )
        )
    return findings


def _entry_label(module: str, entries: Sequence[Tuple[str, bool]]) -> str:
    for name, is_dir in entries:
        if is_dir and name == module:
            return "the package %s/" % name
    return "%s.py" % module
