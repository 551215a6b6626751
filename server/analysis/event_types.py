"""The trigger event types of :mod:`fglocal.events` as the editor needs them: keys, types, docs.

Read from the TypedDicts themselves (``typing.get_type_hints``), imported the first time a handler's
``event`` is annotated with one, so the shape the editor completes is the one mypy checks.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple, Union

Segment = Union[str, int]  # a key, or a list index


@dataclass(frozen=True)
class KeyInfo:
    """One key of a typed event (or of a nested object)."""

    name: str
    type_text: str  # e.g. "str", "Dict[str, str]", "List[OBSRecord]"
    doc: str  # the nested type's docstring, "" for scalars


def annotation_type(annotation: str) -> Optional[str]:
    """The fglocal.events type an annotation names (``APIGEvent``, ``events.APIGEvent``), or None."""
    name = annotation.strip().strip("'\"").rsplit(".", 1)[-1]
    return name if name in _typed_dicts() else None


@functools.lru_cache(maxsize=1)
def _typed_dicts() -> Dict[str, Any]:
    from fglocal import events  # the typing module: cheap, and only once a handler is annotated

    return {
        name: value
        for name, value in vars(events).items()
        if isinstance(value, type) and issubclass(value, dict) and hasattr(value, "__annotations__")
    }


@functools.lru_cache(maxsize=256)
def keys_at(type_name: str, path: Tuple[Segment, ...]) -> Optional[Tuple[KeyInfo, ...]]:
    """The keys of the object at ``path`` inside an event of ``type_name``; None when it has no fixed keys.

    None for an unknown path too, and for a map whose keys are the caller's (``headers``).
    """
    tp = resolve(type_name, path)
    if tp is None or not _is_typed_dict(tp):
        return None
    return tuple(
        KeyInfo(key, type_text(field), _doc(field)) for key, field in typing.get_type_hints(tp).items()
    )


def resolve(type_name: str, path: Sequence[Segment]) -> Any:
    """The type at ``path`` inside ``type_name`` (None when the path leaves the type)."""
    tp: Any = _typed_dicts().get(type_name)
    for segment in path:
        tp = _strip_optional(tp)
        if tp is None:
            return None
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if _is_typed_dict(tp):
            tp = typing.get_type_hints(tp).get(segment) if isinstance(segment, str) else None
        elif origin is list and isinstance(segment, int):
            tp = args[0]
        elif origin is dict and isinstance(segment, str):
            tp = args[1]
        else:
            return None
    return _strip_optional(tp)


def has_fixed_keys(type_name: str, path: Sequence[Segment]) -> bool:
    """Whether the object at ``path`` is a TypedDict (so an unknown key there is a mistake)."""
    return _is_typed_dict(resolve(type_name, path))


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) is Union:
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return options[0] if len(options) == 1 else None
    return tp


def _is_typed_dict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__")


def type_text(tp: Any) -> str:
    """A type as Python source text, short: ``List[OBSRecord]``, ``Optional[Dict[str, Any]]``."""
    if isinstance(tp, type):
        return tp.__name__
    text = str(tp).replace("typing.", "")
    for name in _typed_dicts():
        text = text.replace("fglocal.events." + name, name)
    return text


def _doc(tp: Any) -> str:
    tp = _strip_optional(tp)
    if typing.get_origin(tp) is list:
        tp = typing.get_args(tp)[0]
    return (tp.__doc__ or "").strip() if _is_typed_dict(tp) else ""
