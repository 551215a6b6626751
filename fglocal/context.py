"""The Context API, as the tool imports it: defined once in :mod:`fglocal._instance.fgruntime.context`.

That module runs inside the function's process on every runtime (Python 2.7 included); this one
re-exports it for the tools and for type hints in users' code (``from fglocal.context import Context``).
"""

from __future__ import annotations

from fglocal._instance.fgruntime import context as _definition
from fglocal._instance.fgruntime.context import (
    Context,
    Credentials,
    Logger,
    cpu_millicores,
    deprecated,
    sensitive,
)

DEFINITION_FILE: str = _definition.__file__
__all__ = ["DEFINITION_FILE", "Context", "Credentials", "Logger", "cpu_millicores", "deprecated", "sensitive"]
