"""Python 2's refusal of non-ASCII source without a coding line (PEP 263), for package and invoke.

Runs inside the function's process (under the ``python2.7`` runtime on a Python 3 interpreter, an
import hook makes the code folder's modules fail as Python 2 would) and in ``fglocal package`` (which
warns): one check for both. Written in the syntax Python 2.7 also accepts (type comments, no f-strings).

Python 2.7.18's tokenizer, as measured: a UTF-8 BOM declares the encoding; a ``coding[:=]`` comment on
line 1, or on line 2 when line 1 is blank or a comment, declares it from that line on; otherwise the
first byte over 127 is a SyntaxError whose message names the byte, the file and the line.
"""

from __future__ import absolute_import

import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Tuple

# PEP 263's declaration, and the lines after which line 2 may still declare it (compiled when needed:
# the instance imports this module on every cold start).
_CODING = b"^[ \t\f]*#.*?coding[:=][ \t]*[-\\w.]+"
_BLANK_OR_COMMENT = b"^[ \t\f]*(#|\r?$)"
PYTHON2_RUNTIME = "python2.7"


def undeclared_non_ascii(data):
    # type: (bytes) -> Optional[Tuple[int, int]]
    """The first non-ASCII byte and its line when Python 2 refuses source ``data``; else None."""
    try:
        data.decode("ascii")
        return None
    except UnicodeDecodeError as exc:
        position = exc.start
    if data.startswith(b"\xef\xbb\xbf"):
        return None
    line = data.count(b"\n", 0, position) + 1
    first_lines = data.split(b"\n", 2)[:2]
    declared_on = 0
    if first_lines and re.match(_CODING, first_lines[0]):
        declared_on = 1
    elif len(first_lines) > 1 and re.match(_BLANK_OR_COMMENT, first_lines[0]):
        if re.match(_CODING, first_lines[1]):
            declared_on = 2
    if declared_on and line >= declared_on:
        return None
    return bytearray(data[position : position + 1])[0], line


def python2_message(filename, byte, line):
    # type: (str, int, int) -> str
    """Python 2.7's own message for a non-ASCII byte in a file without a coding line."""
    return (
        "Non-ASCII character '\\x%02x' in file %.200s on line %d, but no encoding declared; "
        "see http://python.org/dev/peps/pep-0263/ for details" % (byte, filename, line)
    )


def check_source_file(path):
    # type: (str) -> None
    """Raise the SyntaxError Python 2 raises when it imports ``path``, if it would."""
    try:
        with open(path, "rb") as source:
            data = source.read()
    except (IOError, OSError):
        return  # the import itself reports an unreadable file
    found = undeclared_non_ascii(data)
    if found is not None:
        byte, line = found
        # Python 2 gives the file and line, offset 0 and no source text.
        raise SyntaxError(python2_message(path, byte, line), (path, line, 0, None))


class Python2SourceCheck(object):
    """A meta path finder that refuses the code folder's modules Python 2 could not import."""

    def __init__(self, code_root):
        # type: (str) -> None
        self.prefix = os.path.join(os.path.realpath(code_root), "")

    def find_spec(self, fullname, path=None, target=None):
        # type: (str, Any, Any) -> None
        """Check the source the ordinary path finder would load; never find anything itself."""
        if fullname in sys.builtin_module_names:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and os.path.realpath(origin).startswith(self.prefix):
            check_source_file(origin)
        return None


def install_import_check(code_root, runtime):
    # type: (str, str) -> None
    """Under the python2.7 runtime on Python 3, make the code folder's imports fail as on Python 2."""
    if runtime != PYTHON2_RUNTIME or sys.version_info[0] < 3:
        return  # Python 2 itself refuses such files
    if not any(isinstance(finder, Python2SourceCheck) for finder in sys.meta_path):
        sys.meta_path.insert(0, Python2SourceCheck(code_root))
