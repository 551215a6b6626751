"""Find and import a handler or initializer the way FunctionGraph does, with errors users can act on.

Runs inside the instance process. The entry ``pkg.sub.file.function`` names ``pkg/sub/file.py`` under
the code root, which is first on ``sys.path``; the module is imported with the ordinary import system,
so the user's own modules beside it import as they would on the platform.
"""

from __future__ import annotations

import os
import sys

from fglocal.result import ENTRY_ERROR, error_object
from fglocal.stdlib import shadowing_in_folder

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional

FGLOCAL_DIR = os.path.dirname(os.path.abspath(__file__))


class LoadError(Exception):
    """A handler or initializer could not be loaded; ``error`` is the platform's error object."""

    def __init__(self, error: Dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def display_path(filename: str, code_root: str) -> str:
    """A user file as the platform shows it (``./index.py``); other files keep their full path."""
    try:
        rel = os.path.relpath(filename, code_root)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else "./" + rel.replace(os.sep, "/")


def user_stack_trace(tb: Any, code_root: str) -> List[str]:
    """Frames of a traceback that belong to the user (not fglocal), as platform stackTrace strings.

    Each frame gives two strings, like the platform's: ``File "./index.py", line 5, in handler``
    and the source line.
    """
    import traceback

    lines: List[str] = []
    for frame in traceback.extract_tb(tb):
        if os.path.abspath(frame.filename).startswith(FGLOCAL_DIR + os.sep):
            continue
        if frame.filename.startswith("<frozen importlib"):
            continue  # the import system's own frames (Python 2's import is C code and shows none)
        lines.append(
            f'File "{display_path(frame.filename, code_root)}", line {frame.lineno}, in {frame.name}'
        )
        if frame.line:
            lines.append("    " + frame.line.strip())
    return lines


def _module_file(code_root: str, module: str) -> Optional[str]:
    base = os.path.join(code_root, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py"), base + ".pyc"):
        if os.path.isfile(candidate):
            return candidate
    return None


def _did_you_mean(name: str, candidates: List[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"; did you mean '{close[0]}'?" if close else ""


def _syntax_error(module: str, exc: SyntaxError, code_root: str) -> Dict[str, Any]:
    filename = exc.filename or "?"
    # The platform's wording (2020 runtime): Syntax error in module 'index'(invalid syntax (index.py, line 5))
    message = (
        f"Syntax error in module '{module}'({exc.msg} ({os.path.basename(filename)}, line {exc.lineno}))"
    )
    trace = [f'File "{display_path(filename, code_root)}", line {exc.lineno}']
    if exc.text:
        trace.append(exc.text.rstrip("\n"))
    return error_object(message, type(exc).__name__, trace)


def check_code_root(code_root: str) -> None:
    """Refuse a code root holding a module that shadows the standard library (the import would fail)."""
    shadowing = shadowing_in_folder(code_root)
    if shadowing:
        entry, module = shadowing[0]
        message = (
            f"{ENTRY_ERROR}'{entry}' in the code folder has the name of the standard library module '{module}', so FunctionGraph "
            f"cannot load modules correctly; rename it (e.g. to 'my_{module}')"
        )
        raise LoadError(error_object(message, "ImportError"))


def load_entry(entry: str, code_root: str, role: str = "handler") -> Callable[..., Any]:
    """Import the module of ``entry`` and return its function, checking it takes the right parameters.

    ``role`` is ``handler`` (called with ``event, context``) or ``initializer`` (called with
    ``context``). Raises :class:`LoadError` carrying the platform's error object.
    """
    module_name, _, func_name = entry.rpartition(".")
    path = _module_file(code_root, module_name)
    if path is None:
        expected = os.path.join(*module_name.split(".")) + ".py"
        message = f"{ENTRY_ERROR}file '{expected}' for the {role} '{entry}' was not found in the code folder {code_root}"
        raise LoadError(error_object(message, "ModuleNotFoundError"))
    try:
        __import__(module_name)
        module = sys.modules[module_name]
    except SyntaxError as exc:
        raise LoadError(_syntax_error(module_name, exc, code_root)) from None
    except BaseException as exc:
        # An import error in user code (or any exception at module level): report where it happened.
        message = f"{ENTRY_ERROR}cannot import module '{module_name}': {type(exc).__name__}: {exc}"
        trace = user_stack_trace(exc.__traceback__, code_root)
        raise LoadError(error_object(message, type(exc).__name__, trace)) from None
    func = getattr(module, func_name, None)
    if func is None:
        names = [n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])]
        message = f"{ENTRY_ERROR}{role} '{func_name}' not found in module '{module_name}' ({display_path(path, code_root)}){_did_you_mean(func_name, names)}"
        raise LoadError(error_object(message, "AttributeError"))
    check_signature(func, entry, role)
    return func


def check_signature(func: Any, entry: str, role: str) -> None:
    """Raise :class:`LoadError` unless ``func`` can be called as FunctionGraph calls a ``role``."""
    wanted = 2 if role == "handler" else 1
    params = "(event, context)" if role == "handler" else "(context)"
    if not callable(func):
        message = "{}{} '{}' is a {}, not a function; define def {}{}".format(
            ENTRY_ERROR,
            role,
            entry,
            type(func).__name__,
            entry.rpartition(".")[2],
            params,
        )
        raise LoadError(error_object(message, "TypeError"))
    code = getattr(func, "__code__", None)
    if code is not None and code.co_flags & 0x180:  # CO_COROUTINE | CO_ITERABLE_COROUTINE
        message = (
            f"{ENTRY_ERROR}{role} '{entry}' is 'async def'; FunctionGraph calls it synchronously and cannot await it: make it a "
            "plain def that runs asyncio.run(...)"
        )
        raise LoadError(error_object(message, "TypeError"))
    if code is None or not hasattr(func, "__defaults__"):
        return  # a callable object or builtin: let the call itself fail if it is wrong
    positional = code.co_argcount
    required = positional - len(func.__defaults__ or ())
    has_varargs = bool(code.co_flags & 0x04)
    if hasattr(func, "__self__"):  # bound method: self is already given
        positional -= 1
        required -= 1
    if required > wanted or (positional < wanted and not has_varargs):
        message = "%s%s '%s' takes %d required parameter%s, but FunctionGraph calls it with %d %s" % (
            ENTRY_ERROR,
            role,
            entry,
            required,
            "" if required == 1 else "s",
            wanted,
            params,
        )
        raise LoadError(error_object(message, "TypeError"))
