"""Which debugpy release debugs a function's interpreter, and where that release's files are.

debugpy 1.8 (the one installed with the tools) debugs Python 3.8+. The tools pin 1.8.21, the last
release whose wheel declares Python 3.8+ (Requires-Python; 1.8.22 declares 3.10+), so the python3.9
runtime is debugged by a release that declares it (tests/test_debugpy_releases.py checks the installed
release's metadata against every runtime). For older FunctionGraph runtimes
(Python 2.7 and 3.6) the adapter uses debugpy 1.5.1, the last release that declares Python 2.7 and
3.5-3.9 (its wheel's classifiers; the 1.6 line needs 3.7+). A debuggee and the debugpy adapter it
talks to must come from the same release, and two releases cannot be pip-installed into one
environment, so 1.5.1 lives in a folder of its own (a ``pip install --target`` folder holding the
``debugpy`` package), found by :func:`find_legacy`. Standard library only.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

LEGACY_VERSION = "1.5.1"
LEGACY_ENV = "FGLOCAL_DEBUGPY_LEGACY"  # a folder holding debugpy 1.5.1's ``debugpy`` package
LEGACY_FOLDER = "debugpy-" + LEGACY_VERSION  # its folder's name beside the tools (venv, .vsix)
CURRENT_MIN_PYTHON = (3, 8)  # what the pinned 1.8.21 declares (Requires-Python >=3.8)


class Release(NamedTuple):
    """One debugpy release: its version and the ``sys.path`` folder that holds its package."""

    version: str
    folder: str

    @property
    def legacy(self) -> bool:
        """True for the release kept for Python 2.7/3.6 (its debuggee announces itself)."""
        return self.version == LEGACY_VERSION


class ReleaseError(Exception):
    """No debugpy release for the function's interpreter is available; the message says the fix."""


def legacy_supports(version: Tuple[int, int]) -> bool:
    """Whether debugpy 1.5.1 declares support for Python ``version`` (2.7, 3.5-3.9)."""
    return version == (2, 7) or (3, 5) <= version <= (3, 9)


def release_for(python_version: Tuple[int, int]) -> Release:
    """The release that debugs a function running on Python ``python_version`` (major, minor)."""
    if python_version >= CURRENT_MIN_PYTHON:
        return current_release()
    if legacy_supports(python_version):
        return find_legacy(python_version)
    raise ReleaseError(
        "no debugpy release debugs Python %d.%d (debugpy 1.8 needs 3.8+, %s supports 2.7 and 3.5-3.9)"
        % (*python_version, LEGACY_VERSION)
    )


def current_release() -> Release:
    """The debugpy installed with the tools (on this process's path)."""
    spec = importlib.util.find_spec("debugpy")
    if spec is None or not spec.origin:
        raise ReleaseError("debugpy is not installed beside the debug adapter (pip install debugpy)")
    folder = os.path.dirname(os.path.dirname(os.path.realpath(spec.origin)))
    return Release(read_version(folder) or "unknown", folder)


def read_version(folder: str) -> Optional[str]:
    """The version of the ``debugpy`` package in ``folder``, from its ``_version.py``, without importing it."""
    try:
        text = Path(folder, "debugpy", "_version.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(r'"version":\s*"([^"]+)"', text)
    return match.group(1) if match else None


def legacy_candidates() -> List[Path]:
    """Where debugpy 1.5.1 is looked for, in order (only there when the environment variable names a folder)."""
    if os.environ.get(LEGACY_ENV):  # named on purpose: that folder, or the fix for it
        return [Path(os.path.expanduser(os.environ[LEGACY_ENV]))]
    candidates = []
    # Beside the tools' environment (`make venv` puts it in .venv/), and in a .vsix beside the
    # bundled tool folder (bundled/debugpy-1.5.1 next to bundled/tool/debug_adapter).
    candidates.append(Path(sys.prefix) / LEGACY_FOLDER)
    candidates.append(Path(__file__).resolve().parent.parent.parent / LEGACY_FOLDER)
    return candidates


def install_hint() -> str:
    """How to provide debugpy 1.5.1 (one command, for this environment)."""
    return 'pip install --target "%s" debugpy==%s (or set %s to a folder holding it)' % (
        Path(sys.prefix) / LEGACY_FOLDER,
        LEGACY_VERSION,
        LEGACY_ENV,
    )


def find_legacy(python_version: Tuple[int, int] = (2, 7)) -> Release:
    """Find debugpy 1.5.1 in the first candidate folder that holds it; :class:`ReleaseError` if none does."""
    looked = []
    for folder in legacy_candidates():
        version = read_version(str(folder))
        if version == LEGACY_VERSION:
            return Release(version, str(folder))
        looked.append("%s (%s)" % (folder, "debugpy %s" % version if version else "no debugpy"))
    raise ReleaseError(
        "debugging a Python %d.%d function needs debugpy %s in a folder of its own: %s; looked in %s"
        % (*python_version, LEGACY_VERSION, install_hint(), ", ".join(looked))
    )
