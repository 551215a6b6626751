"""One pass over a module's ``ast``: the nodes each check needs, grouped, with their enclosing scope.

Walking a 3,000-line module costs milliseconds in Python; doing it once instead of once per check
keeps diagnostics within their budget (see bench/RESULTS.md).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import DefaultDict, Dict, List, Tuple, Union

Scope = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Nodes the Python 2.7 check looks at (syntax Python 2 does not have).
PYTHON3_ONLY = (
    ast.JoinedStr,
    ast.AnnAssign,
    ast.arg,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Nonlocal,
    ast.YieldFrom,
    ast.Await,
    ast.AsyncFor,
    ast.AsyncWith,
    ast.NamedExpr,
    ast.Raise,
    ast.arguments,
    ast.Starred,
)


# Shared singleton nodes (Load, Add, ...) that carry nothing a check needs.
_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


class TreeIndex:
    """Nodes of one module by kind; ``scope_nodes[scope]`` lists each scope's own nodes, outer first.

    Names and constants (half the nodes of usual code, and no check looks them up here) are not
    listed in ``scope_nodes``; they are still reached through their parents.
    """

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.functions: List[Union[ast.FunctionDef, ast.AsyncFunctionDef]] = []
        self.attributes: List[ast.Attribute] = []
        self.calls: List[ast.Call] = []
        self.imports: List[Union[ast.Import, ast.ImportFrom]] = []
        self.python3_only: List[ast.AST] = []
        self.scope_nodes: DefaultDict[Scope, List[ast.AST]] = defaultdict(list)
        self._walk()

    def _walk(self) -> None:
        ast_type, leaves, fields_of = ast.AST, _LEAF_TYPES, _CHILD_FIELDS
        attribute, call, import_, import_from = ast.Attribute, ast.Call, ast.Import, ast.ImportFrom
        attributes, calls, imports, python3_only, functions = (
            self.attributes,
            self.calls,
            self.imports,
            self.python3_only,
            self.functions,
        )
        scope_nodes = self.scope_nodes
        module_nodes = scope_nodes[self.tree]
        # (node, its scope's node list): nodes come off the stack in source order (pre-order).
        stack: List[Tuple[ast.AST, List[ast.AST]]] = [
            (child, module_nodes) for child in reversed(self.tree.body) if type(child) not in leaves
        ]
        pop, push = stack.pop, stack.append
        while stack:
            node, own = pop()
            own.append(node)
            kind = type(node)
            if kind is attribute:
                attributes.append(node)  # type: ignore[arg-type]
            elif kind is call:
                calls.append(node)  # type: ignore[arg-type]
            elif kind is import_ or kind is import_from:
                imports.append(node)  # type: ignore[arg-type]
            if kind in _PYTHON3_ONLY_TYPES:
                python3_only.append(node)
            if kind in _SCOPE_TYPES:
                own = scope_nodes[node]  # type: ignore[index]
                if kind is not ast.Lambda:
                    functions.append(node)  # type: ignore[arg-type]
            fields = fields_of.get(kind)
            if fields is None:
                fields = fields_of[kind] = tuple(f for f in kind._fields if f not in _NEVER_CHILDREN)
            # Fields and list items are pushed last first, so that they come off in source order.
            for name in reversed(fields):
                value = getattr(node, name, None)
                if type(value) is list:
                    for item in reversed(value):
                        if type(item) not in leaves and isinstance(item, ast_type):
                            push((item, own))
                elif type(value) not in leaves and isinstance(value, ast_type):
                    push((value, own))


# Fields that never hold child nodes a check needs (names, operators, contexts, flags).
_NEVER_CHILDREN = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "id",
        "attr",
        "arg",
        "kind",
        "conversion",
        "is_async",
        "type_comment",
        "level",
        "module",
        "name",
        "asname",
    }
)
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {ast.Constant: (), ast.Name: ()}
_SCOPE_TYPES = frozenset(_SCOPES)
# Nodes without child nodes that no list of the index holds: not walked at all.
_LEAF_TYPES = frozenset({ast.Name, ast.Constant})
_PYTHON3_ONLY_TYPES = frozenset(PYTHON3_ONLY)
