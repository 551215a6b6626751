"""Python 2's refusal of non-ASCII source without a coding line: defined once in the instance package.

:mod:`fglocal._instance.fgruntime.py2source` runs inside the function's process; ``fglocal package``
uses the same check from here.
"""

from __future__ import annotations

from fglocal._instance.fgruntime.py2source import (
    PYTHON2_RUNTIME,
    check_source_file,
    install_import_check,
    python2_message,
    undeclared_non_ascii,
)

__all__ = [
    "PYTHON2_RUNTIME",
    "check_source_file",
    "install_import_check",
    "python2_message",
    "undeclared_non_ascii",
]
