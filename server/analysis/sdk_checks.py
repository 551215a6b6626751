"""Checks of Context / logger use: unknown methods, argument counts, deprecation, logged secrets."""

from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Sequence, Set

from server.analysis import sdk
from server.analysis.context_inference import CONTEXT, LOGGER, ScopeIndex
from server.analysis.model import ERROR, WARNING, Edit, Finding, Fix, Span
from server.analysis.parsing import node_span
from server.analysis.tree_index import TreeIndex

_LOG_LEVELS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
_LOGGER_NAMES = frozenset({"log", "logger", "LOG", "LOGGER", "_log", "_logger", "LOGGER_", "logging"})
_SENSITIVE = frozenset(m.name for m in sdk.methods(CONTEXT) if m.sensitive)
_SAFE_FUNCTIONS = frozenset({"bool", "len", "hash", "isinstance", "type", "id", "callable"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class SdkChecker:
    """Walks a module once and reports misuse of the Context and its logger."""

    def __init__(self, tree: TreeIndex, lines: Sequence[str], index: ScopeIndex) -> None:
        self.tree = tree
        self.lines = lines
        self.index = index
        self.findings: List[Finding] = []

    def run(self) -> List[Finding]:
        """All findings of the module."""
        for node in self.tree.attributes:
            self._check_attribute(node)
        for nodes in self.tree.scope_nodes.values():
            self._check_scope(nodes)
        return self.findings

    def receiver_kind(self, node: ast.AST) -> Optional[str]:
        """``CONTEXT``/``LOGGER`` when ``node`` evaluates to the Context or a logger."""
        if isinstance(node, ast.Name):
            return self.index.kind_of(node.id, node.lineno - 1)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
            return sdk.returned_kind(self.receiver_kind(node.func.value), node.func.attr)
        return None

    def _attr_span(self, node: ast.Attribute) -> Span:
        whole = node_span(self.lines, node)
        return Span(whole.end_line, max(whole.end_col - len(node.attr), 0), whole.end_line, whole.end_col)

    def _check_attribute(self, node: ast.Attribute) -> None:
        kind = self.receiver_kind(node.value)
        if kind is None or node.attr.startswith("__"):
            return
        span = self._attr_span(node)
        info = sdk.method(kind, node.attr)
        if info is None:
            close = sdk.suggestions(kind, node.attr)
            hint = " Did you mean %s?" % " or ".join("'%s'" % c for c in close) if close else ""
            fixes = tuple(Fix("Change to '%s'" % c, (Edit(span, c),), i == 0) for i, c in enumerate(close))
            self.findings.append(
                Finding(
                    span,
                    ERROR,
                    "unknown-method",
                    "%s has no method '%s'.%s" % (sdk.type_name(kind), node.attr, hint),
                    fixes,
                )
            )
            return
        if info.deprecated_by:
            self.findings.append(
                Finding(
                    span,
                    WARNING,
                    "deprecated-method",
                    "%s() is deprecated: FunctionGraph no longer maintains it and it cannot return temporary "
                    "credentials. Use %s() (needs an agency on the function)."
                    % (info.name, info.deprecated_by),
                    (Fix("Replace with '%s'" % info.deprecated_by, (Edit(span, info.deprecated_by),), True),),
                    deprecated=True,
                )
            )

    def _check_call_arguments(self, call: ast.Call, kind: str, name: str) -> None:
        info = sdk.method(kind, name)
        if info is None or any(isinstance(a, ast.Starred) for a in call.args):
            return
        if any(k.arg is None for k in call.keywords):
            return
        names = [p.name for p in info.parameters if not p.name.startswith("*")]
        unknown = [k.arg for k in call.keywords if k.arg not in names]
        bound = len(call.args) + sum(1 for k in call.keywords if k.arg in names[len(call.args) :])
        maximum = info.max_args
        problem = ""
        if unknown:
            problem = "has no parameter '%s'" % unknown[0]
        elif maximum is not None and len(call.args) > maximum:
            problem = "takes at most %d argument%s, got %d" % (
                maximum,
                "" if maximum == 1 else "s",
                len(call.args),
            )
        elif bound < info.required_args:
            problem = "needs %d argument%s, got %d" % (
                info.required_args,
                "" if info.required_args == 1 else "s",
                bound,
            )
        if problem:
            self.findings.append(
                Finding(
                    node_span(self.lines, call),
                    ERROR,
                    "wrong-arguments",
                    "%s() %s. Call it as %s." % (name, problem, info.signature),
                )
            )

    def _check_scope(self, nodes: List[ast.AST]) -> None:
        """Argument counts and logged secrets inside one function (or the module), not nested ones."""
        calls = [n for n in nodes if type(n) is ast.Call]
        for call in calls:
            func = call.func
            if isinstance(func, ast.Attribute):
                kind = self.receiver_kind(func.value)
                if kind:
                    self._check_call_arguments(call, kind, func.attr)
        # Secrets can only flow where a sensitive method is called: most scopes stop here.
        if not any(isinstance(c.func, ast.Attribute) and c.func.attr in _SENSITIVE for c in calls):
            return
        secret_names: Set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Assign) and self._secret_in(node.value, secret_names):
                secret_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif (
                isinstance(node, ast.AnnAssign)
                and node.value is not None
                and isinstance(node.target, ast.Name)
            ):
                if self._secret_in(node.value, secret_names):
                    secret_names.add(node.target.id)
        for call in calls:
            if self._is_log_sink(call):
                for argument in [*call.args, *(k.value for k in call.keywords)]:
                    for secret in self._secrets(argument, secret_names):
                        self.findings.append(
                            Finding(
                                node_span(self.lines, secret),
                                WARNING,
                                "sensitive-logged",
                                "A credential (%s) reaches the log here: anyone who can read the function's "
                                "logs gets it. Log that it is set, never its value." % self._describe(secret),
                            )
                        )

    def _describe(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return "'%s' holds one" % node.id
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return "%s()" % node.func.attr
        return "a secret"

    def _is_sensitive_call(self, node: ast.AST) -> bool:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return False
        if self.receiver_kind(node.func.value) != CONTEXT:
            return False
        info = sdk.method(CONTEXT, node.func.attr)
        return bool(info and info.sensitive)

    def _secrets(self, node: ast.AST, names: Set[str]) -> Iterator[ast.AST]:
        """Sensitive sub-expressions whose value (not just a fact about it) reaches ``node``'s result."""
        stack = [node]
        while stack:
            child = stack.pop()
            if self._is_sensitive_call(child):
                yield child
            elif isinstance(child, ast.Name) and child.id in names and isinstance(child.ctx, ast.Load):
                yield child
            elif not _reveals_nothing(child):
                stack.extend(ast.iter_child_nodes(child))

    def _secret_in(self, node: ast.AST, names: Set[str]) -> bool:
        return any(True for _ in self._secrets(node, names))

    def _is_log_sink(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Name):
            return func.id == "print"
        if not isinstance(func, ast.Attribute):
            return False
        receiver = func.value
        if (
            func.attr == "write"
            and isinstance(receiver, ast.Attribute)
            and receiver.attr in ("stdout", "stderr")
        ):
            return True
        if func.attr not in _LOG_LEVELS:
            return False
        if self.receiver_kind(receiver) == LOGGER:
            return True
        if isinstance(receiver, ast.Name):
            return receiver.id in _LOGGER_NAMES or receiver.id.lower().endswith("logger")
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
            return receiver.func.attr == "getLogger"  # logging.getLogger(...).info(...)
        return isinstance(receiver, ast.Attribute) and receiver.attr.lower() in ("log", "logger")


def _reveals_nothing(node: ast.AST) -> bool:
    """Expressions that use a secret without exposing it.

    ``bool(ak)``, ``len(ak)``, ``ak == ""``, ``not ak``; and objects built from one: a class called
    with it (``BasicCredentials(ak, sk)``) or a builder step (``.with_credentials(credentials)``), whose
    value is a client or a credentials object, not the secret's text.
    """
    if isinstance(node, (ast.Compare, ast.Lambda)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return True
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if isinstance(func, ast.Name) and name in _SAFE_FUNCTIONS:
        return True
    return bool(name) and (name[0].isupper() or name.startswith("with_"))


def check_sdk_use(tree: TreeIndex, lines: Sequence[str], index: ScopeIndex) -> List[Finding]:
    """Findings for unknown/deprecated methods, wrong arguments and logged credentials."""
    return SdkChecker(tree, lines, index).run()
