"""Find and import a handler or initializer the way FunctionGraph does, with errors users can act on.

Runs inside the instance process (Python 2.7 and 3.6+). The entry ``pkg.sub.file.function`` names
``pkg/sub/file.py`` under the code root, which is first on ``sys.path``; the module is imported with
the ordinary import system, so the user's own modules beside it import as they would on the platform.
The files an entry may live in come from the supervisor (``fglocal.contract.entry_files``).
"""

from __future__ import absolute_import

import os
import sys

from .compat import native, to_text
from .result import ENTRY_ERROR, error_object
from .stdlib import shadowing_in_folder

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Sequence

# The tool's own frames are left out of stack traces: the instance package, and the rest of fglocal
# when the instance is forked from the tool.
FGLOCAL_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LoadError(Exception):
    """A handler or initializer could not be loaded; ``error`` is the platform's error object."""

    def __init__(self, error):  # type: (Dict[str, Any]) -> None
        super(LoadError, self).__init__(error["errorMessage"])
        self.error = error


def display_path(filename, code_root):  # type: (str, str) -> str
    """A user file as the platform shows it (``./index.py``); other files keep their full path."""
    try:
        rel = os.path.relpath(filename, code_root)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else "./" + rel.replace(os.sep, "/")


def user_stack_trace(tb, code_root):  # type: (Any, str) -> List[str]
    """Frames of a traceback that belong to the user (not fglocal), as platform stackTrace strings.

    Each frame gives two strings, like the platform's: ``File "./index.py", line 5, in handler``
    and the source line.
    """
    import traceback

    lines = []  # type: List[str]
    for filename, lineno, name, line in traceback.extract_tb(tb):
        if os.path.abspath(filename).startswith(FGLOCAL_DIR + os.sep):
            continue
        if filename.startswith("<frozen importlib"):
            continue  # the import system's own frames (Python 2's import is C code and shows none)
        lines.append(to_text('File "%s", line %d, in %s' % (display_path(filename, code_root), lineno, name)))
        if line:
            lines.append(to_text("    " + line.strip()))
    return lines


def _module_file(code_root, candidates):  # type: (str, Sequence[str]) -> Optional[str]
    for relative in candidates:
        candidate = os.path.join(code_root, *relative.split("/"))
        if os.path.isfile(candidate):
            return candidate
    return None


def _did_you_mean(name, candidates):  # type: (str, List[str]) -> str
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = dict((c.lower(), c) for c in candidates)
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return "; did you mean '%s'?" % close[0] if close else ""


def _syntax_error(module, exc, code_root):  # type: (str, SyntaxError, str) -> Dict[str, Any]
    filename = exc.filename or "?"
    # The platform's wording (2020 runtime): Syntax error in module 'index'(invalid syntax (index.py, line 5))
    message = "Syntax error in module '%s'(%s (%s, line %s))" % (
        module,
        to_text(exc.msg),
        os.path.basename(filename),
        exc.lineno,
    )
    trace = ['File "%s", line %s' % (display_path(filename, code_root), exc.lineno)]
    if exc.text:
        trace.append(to_text(exc.text).rstrip("\n"))
    return error_object(message, type(exc).__name__, trace)


def check_code_root(code_root):  # type: (str) -> None
    """Refuse a code root holding a module that shadows the standard library (the import would fail)."""
    shadowing = shadowing_in_folder(code_root)
    if shadowing:
        entry, module = shadowing[0]
        message = (
            "%s'%s' in the code folder has the name of the standard library module '%s', so FunctionGraph "
            "cannot load modules correctly; rename it (e.g. to 'my_%s')"
            % (ENTRY_ERROR, entry, module, module)
        )
        raise LoadError(error_object(message, "ImportError"))


def load_entry(entry, code_root, role, candidates):
    # type: (str, str, str, Sequence[str]) -> Callable[..., Any]
    """Import the module of ``entry`` and return its function, checking it takes the right parameters.

    ``role`` is ``handler`` (called with ``event, context``) or ``initializer`` (called with
    ``context``); ``candidates`` are the files (relative to the code root) that may hold the module.
    Raises :class:`LoadError` carrying the platform's error object.
    """
    entry = native(entry)
    module_name, _, func_name = entry.rpartition(".")
    path = _module_file(code_root, candidates)
    if path is None:
        message = "%sfile '%s' for the %s '%s' was not found in the code folder %s" % (
            ENTRY_ERROR,
            candidates[0],
            role,
            entry,
            code_root,
        )
        # ModuleNotFoundError is 3.6+; 2.7 raises ImportError for a missing module.
        missing = "ModuleNotFoundError" if sys.version_info >= (3, 6) else "ImportError"
        raise LoadError(error_object(message, missing))
    try:
        __import__(module_name)
        module = sys.modules[module_name]
    except SyntaxError as exc:
        raise LoadError(_syntax_error(module_name, exc, code_root))
    except BaseException as exc:
        # An import error in user code (or any exception at module level): report where it happened.
        message = "%scannot import module '%s': %s: %s" % (
            ENTRY_ERROR,
            module_name,
            type(exc).__name__,
            to_text(exc),
        )
        trace = user_stack_trace(sys.exc_info()[2], code_root)
        raise LoadError(error_object(message, type(exc).__name__, trace))
    func = getattr(module, func_name, None)
    if func is None:
        names = [n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])]
        message = "%s%s '%s' not found in module '%s' (%s)%s" % (
            ENTRY_ERROR,
            role,
            func_name,
            module_name,
            display_path(path, code_root),
            _did_you_mean(func_name, names),
        )
        raise LoadError(error_object(message, "AttributeError"))
    check_signature(func, entry, role)
    return func  # type: ignore[no-any-return]


def check_signature(func, entry, role):  # type: (Any, str, str) -> None
    """Raise :class:`LoadError` unless ``func`` can be called as FunctionGraph calls a ``role``."""
    wanted = 2 if role == "handler" else 1
    params = "(event, context)" if role == "handler" else "(context)"
    if not callable(func):
        message = "%s%s '%s' is a %s, not a function; define def %s%s" % (
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
            "%s%s '%s' is 'async def'; FunctionGraph calls it synchronously and cannot await it: make it a "
            "plain def that runs asyncio.run(...)" % (ENTRY_ERROR, role, entry)
        )
        raise LoadError(error_object(message, "TypeError"))
    if code is None or not hasattr(func, "__defaults__"):
        return  # a callable object or builtin: let the call itself fail if it is wrong
    positional = code.co_argcount
    required = positional - len(func.__defaults__ or ())
    has_varargs = bool(code.co_flags & 0x04)
    if getattr(func, "__self__", None) is not None:  # bound method: self is already given
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
