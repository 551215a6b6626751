"""Names a user's module must not take: defined once in :mod:`fglocal._instance.fgruntime.stdlib`.

The runtime (inside the function's process), the packager and the language server share it.
"""

from __future__ import annotations

from fglocal._instance.fgruntime.stdlib import (
    RESERVED_MODULES,
    STDLIB_MODULES,
    find_shadowing_modules,
    module_name_of,
    shadowing_in_folder,
)

__all__ = [
    "RESERVED_MODULES",
    "STDLIB_MODULES",
    "find_shadowing_modules",
    "module_name_of",
    "shadowing_in_folder",
]
