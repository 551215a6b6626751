"""A plain-data description of the Context API, derived from :mod:`fglocal.context`.

The language server reads this instead of keeping its own list: add a method to ``Context`` and it
appears in completion, hover, signature help and the "unknown method" diagnostic. The definition
runs on Python 2.7 too, so its types are PEP 484 type comments: they are read here from its source.
"""

from __future__ import annotations

import ast
import inspect
from typing import Dict, List, NamedTuple, Optional, Tuple

from fglocal.context import DEFINITION_FILE, Context, Logger


class Parameter(NamedTuple):
    """One parameter of an SDK method."""

    name: str
    annotation: str
    default: Optional[str]  # source text of the default, None when required


class MethodInfo(NamedTuple):
    """One public method of ``Context`` or ``Logger``."""

    name: str
    parameters: Tuple[Parameter, ...]
    returns: str
    doc: str
    deprecated_by: Optional[str]  # the successor's name when the platform deprecated the method
    sensitive: bool  # returns a credential that must never be logged

    @property
    def signature(self) -> str:
        """The call signature, e.g. ``getUserData(key: str, default: Optional[str] = None) -> Optional[str]``."""
        params = []
        for p in self.parameters:
            text = f"{p.name}: {p.annotation}" if p.annotation else p.name
            if p.default is not None and not p.name.startswith("*"):
                text += f" = {p.default}"
            params.append(text)
        return "{}({}) -> {}".format(self.name, ", ".join(params), self.returns)

    @property
    def required_args(self) -> int:
        """How many positional arguments a call must pass."""
        return sum(1 for p in self.parameters if p.default is None and not p.name.startswith("*"))

    @property
    def max_args(self) -> Optional[int]:
        """How many positional arguments a call may pass; None when unbounded (``*args``)."""
        if any(p.name.startswith("*") for p in self.parameters):
            return None
        return len(self.parameters)


def _split_top_level(text: str) -> List[str]:
    """Split ``a, Dict[b, c], d`` at the commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[(" and 1) or ((char in "])" and -1) or 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _type_comments(cls: type) -> Dict[str, Tuple[List[str], str]]:
    """Method name -> (argument types without self, return type), from the class's type comments."""
    with open(DEFINITION_FILE, encoding="utf-8") as source:
        tree = ast.parse(source.read(), DEFINITION_FILE, type_comments=True)
    found: Dict[str, Tuple[List[str], str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.type_comment:
                    args, _, returns = item.type_comment.rpartition("->")
                    inner = args.strip()[1:-1]
                    found[item.name] = ([t.lstrip("*") for t in _split_top_level(inner)], returns.strip())
    return found


def _describe(cls: type) -> List[MethodInfo]:
    methods = []
    comments = _type_comments(cls)
    for name, func in cls.__dict__.items():
        if name.startswith("_") or not callable(func):
            continue
        sig = inspect.signature(func)
        arg_types, returns = comments.get(name, ([], ""))
        params = []
        for index, p in enumerate(list(sig.parameters.values())[1:]):  # skip self
            prefix = "*" if p.kind is inspect.Parameter.VAR_POSITIONAL else ""
            default = None if p.default is inspect.Parameter.empty else repr(p.default)
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                default = "()"
            annotation = arg_types[index] if index < len(arg_types) else ""
            params.append(Parameter(prefix + p.name, annotation, default))
        methods.append(
            MethodInfo(
                name=name,
                parameters=tuple(params),
                returns=returns or "None",
                doc=inspect.cleandoc(func.__doc__ or ""),
                deprecated_by=getattr(func, "__fg_deprecated__", None),
                sensitive=bool(getattr(func, "__fg_sensitive__", False)),
            )
        )
    return methods


CONTEXT_METHODS: Tuple[MethodInfo, ...] = tuple(_describe(Context))
LOGGER_METHODS: Tuple[MethodInfo, ...] = tuple(_describe(Logger))
CONTEXT_DOC: str = inspect.cleandoc(Context.__doc__ or "")
LOGGER_DOC: str = inspect.cleandoc(Logger.__doc__ or "")


def context_method(name: str) -> Optional[MethodInfo]:
    """The Context method called ``name``, or None."""
    for method in CONTEXT_METHODS:
        if method.name == name:
            return method
    return None
