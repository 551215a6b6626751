"""All diagnostics of one module: the single entry point the server calls."""

from __future__ import annotations

import ast
import contextlib
import gc
from typing import Collection, Iterator, List, Optional

from server.analysis import entry_checks, runtime_checks
from server.analysis.context_inference import ScopeIndex, handler_shaped
from server.analysis.event_keys import check_event_keys
from server.analysis.model import Finding, ModuleContext
from server.analysis.parsing import parse_module
from server.analysis.return_checks import check_handler_returns
from server.analysis.sdk_checks import check_sdk_use
from server.analysis.shadowing import check_shadowing
from server.analysis.text import split_lines
from server.analysis.tree_index import TreeIndex

# Every code the server can report (documented in server/README.md).
CODES = (
    "syntax-error",
    "python2-syntax",
    "runtime-syntax",
    "missing-coding",
    "reload-sys",
    "background-command",
    "entry-not-found",
    "config-error",
    "handler-signature",
    "initializer-signature",
    "unknown-method",
    "wrong-arguments",
    "deprecated-method",
    "sensitive-logged",
    "return-not-json",
    "apig-response",
    "stdlib-shadowing",
    "unknown-event-key",
)
MAX_FINDINGS = 500


def analyze(text: str, module: ModuleContext, enabled: Optional[Collection[str]] = None) -> List[Finding]:
    """Diagnostics of a Python module, sorted by position; only ``enabled`` codes when given."""
    with _no_cycle_collection():
        return _analyze(text, module, enabled)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector meanwhile.

    The analysis allocates tens of thousands of ``ast`` nodes that form no reference cycles (they are
    freed by reference counting); each collection they trigger would only traverse the server's heap
    (~10% of the analysis of a 3,000-line module). Another thread pausing it too is harmless: whoever
    found it enabled turns it back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyze(text: str, module: ModuleContext, enabled: Optional[Collection[str]]) -> List[Finding]:
    lines = split_lines(text)
    parsed = parse_module(text, lines, module.runtime)
    findings: List[Finding] = list(parsed.findings)
    findings += runtime_checks.check_coding_declaration(lines, module.runtime)
    tree = parsed.tree
    imports: List[ast.Import | ast.ImportFrom] = []
    if tree is not None:
        nodes = TreeIndex(tree)
        imports = nodes.imports
        index = ScopeIndex.from_tree(lines, module.roles, nodes.functions)
        findings += runtime_checks.check_tree(nodes, lines, module.runtime)
        findings += check_sdk_use(nodes, lines, index)
        findings += _entry_findings(tree, lines, module, complete=not parsed.repaired)
        findings += _return_findings(nodes, lines, module)
        findings += check_event_keys(nodes.functions, lines, module.roles)
    findings += check_shadowing(
        imports, lines, module.module_name, module.folder_entries, module.is_entry_module
    )
    if enabled is not None:
        findings = [f for f in findings if f.code in enabled]
    unique = {(f.span, f.code, f.message): f for f in findings}
    ordered = sorted(unique.values(), key=lambda f: (f.span.line, f.span.col, f.code))
    return ordered[:MAX_FINDINGS]


def _entry_findings(
    tree: ast.Module, lines: List[str], module: ModuleContext, complete: bool
) -> List[Finding]:
    findings: List[Finding] = []
    roles = [
        (entry_checks.HANDLER, module.roles.handler, module.handler_entry),
        (entry_checks.INITIALIZER, module.roles.initializer, module.initializer_entry or ""),
    ]
    roles += [
        (entry_checks.HANDLER, name, module.entry_for(entry_checks.HANDLER, name))
        for name in module.candidates
        if name != module.roles.handler
    ]
    for role, name, entry in roles:
        if not name:
            continue
        found = entry_checks.check_entry_function(
            tree, lines, role, name, entry, module.module_file or "this module"
        )
        # Only an entry a config names explicitly must exist; a module that did not parse whole may
        # define the function in the part that was skipped.
        required = complete and role in module.required_roles
        findings += [f for f in found if required or f.code != "entry-not-found"]
    return findings


def _return_findings(nodes: TreeIndex, lines: List[str], module: ModuleContext) -> List[Finding]:
    json_imported = any(
        isinstance(node, ast.Import) and any(a.name == "json" and not a.asname for a in node.names)
        for node in nodes.tree.body
    )
    findings: List[Finding] = []
    for node in nodes.tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        positional = list(node.args.posonlyargs) + list(node.args.args)
        if node.name == module.roles.handler or handler_shaped(node.name, [a.arg for a in positional]):
            findings += check_handler_returns(node, nodes.scope_nodes[node], lines, json_imported)
    return findings
