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
    """Nodes of one module by kind; ``scope_nodes[scope]`` lists each scope's own nodes, outer first."""

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
        ast_type = ast.AST
        attributes, calls, imports, python3_only = (
            self.attributes,
            self.calls,
            self.imports,
            self.python3_only,
        )
        scope_nodes = self.scope_nodes
        stack: List[Tuple[ast.AST, Scope]] = [(child, self.tree) for child in reversed(self.tree.body)]
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            scope_nodes[scope].append(node)
            if kind is ast.Attribute:
                attributes.append(node)  # type: ignore[arg-type]
            elif kind is ast.Call:
                calls.append(node)  # type: ignore[arg-type]
            elif kind is ast.Import or kind is ast.ImportFrom:
                imports.append(node)  # type: ignore[arg-type]
            if kind in _PYTHON3_ONLY_TYPES:
                python3_only.append(node)
            inner = scope
            if kind in _SCOPE_TYPES:
                inner = node  # type: ignore[assignment]
                if kind is not ast.Lambda:
                    self.functions.append(node)  # type: ignore[arg-type]
            fields = _CHILD_FIELDS.get(kind)
            if fields is None:
                fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _NEVER_CHILDREN)
            children: List[ast.AST] = []
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    children.extend(v for v in value if isinstance(v, ast_type))
                elif isinstance(value, ast_type):
                    children.append(value)
            # Reversed onto the stack, so nodes come off it (and into the lists) in source order.
            stack.extend([(child, inner) for child in reversed(children)])


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
_PYTHON3_ONLY_TYPES = frozenset(PYTHON3_ONLY)
