"""The kit's distribution: its name, and the one-line answer when the tools cannot run here."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: fglocal modules avoid importing typing
if TYPE_CHECKING:
    from typing import Any, Optional

DISTRIBUTION = "functiongraph-devkit"
TOOLS_EXTRA = "tools"  # pyproject.toml: pygls, lsprotocol, parso (the server) and debugpy (the adapter)
TOOLS_INSTALL = "pip install '%s[%s]'" % (DISTRIBUTION, TOOLS_EXTRA)
CLOUD_EXTRA = "cloud"  # pyproject.toml: the Huawei Cloud SDK, for fglocal deploy / invoke --cloud / events
CLOUD_INSTALL = "pip install '%s[%s]'" % (DISTRIBUTION, CLOUD_EXTRA)
# The tools extra's dependencies are marked python_version >= '3.10' in pyproject.toml (a test checks).
MIN_TOOLS_PYTHON = (3, 10)
# The kit's own packages: one of them missing is a broken install, not a missing extra.
OWN_PACKAGES = ("fglocal", "server", "debug_adapter")


def python_too_old(tool: str) -> Optional[str]:
    """The message for ``tool`` (e.g. 'The language server') on a Python older than the tools need."""
    if sys.version_info[:2] >= MIN_TOOLS_PYTHON:
        return None
    needed = "%d.%d" % MIN_TOOLS_PYTHON
    return "%s needs Python %s or newer (this is %d.%d): %s in a Python %s+ environment" % (
        tool,
        needed,
        sys.version_info[0],
        sys.version_info[1],
        TOOLS_INSTALL,
        needed,
    )


def missing_tools(tool: str, module: str) -> str:
    """The message for ``tool`` when ``module`` (a dependency of the tools extra) cannot be imported."""
    return python_too_old(tool) or "%s needs the Python package %r, which the %r extra installs: %s" % (
        tool,
        module,
        TOOLS_EXTRA,
        TOOLS_INSTALL,
    )


def missing_dependency(tool: str, error: ImportError) -> Optional[str]:
    """The :func:`missing_tools` message for ``error``, or None when what is missing is the kit's own."""
    name = (getattr(error, "name", None) or "").partition(".")[0]
    if not name or name in OWN_PACKAGES:
        return None
    return missing_tools(tool, name)


def extension_bundle(environ: Any = None) -> Optional[str]:
    """The VS Code extension's ``bundled/`` folder when this fglocal runs from it, else None.

    The extension runs its own copy, ``bundled/tool/fglocal``, with ``bundled/tool`` and
    ``bundled/libs`` (the pinned dependencies, the SDK among them) on ``PYTHONPATH``
    (vscode-extension/src/bundle.ts, ``toolEnvironment``): both together say where we run. There a
    missing dependency means a damaged install of the extension, not a missing pip extra.
    """
    environ = os.environ if environ is None else environ

    def real(path: str) -> str:
        return os.path.normcase(os.path.realpath(path))

    tool = os.path.dirname(os.path.dirname(real(__file__)))  # .../tool/fglocal/distribution.py
    if os.path.basename(tool) != "tool":
        return None
    bundle = os.path.dirname(tool)
    entries = {real(p) for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    return bundle if os.path.join(bundle, "libs") in entries else None
