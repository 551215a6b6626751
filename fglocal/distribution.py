"""The kit's distribution: its name, and what to do when a part cannot run here (from pip or the extension)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: fglocal modules avoid importing typing
if TYPE_CHECKING:
    from typing import Any, Optional, Tuple

DISTRIBUTION = "functiongraph-devkit"
TOOLS_EXTRA = "tools"  # pyproject.toml: pygls, lsprotocol, parso (the server) and debugpy (the adapter)
TOOLS_INSTALL = "pip install '%s[%s]'" % (DISTRIBUTION, TOOLS_EXTRA)
CLOUD_EXTRA = "cloud"  # pyproject.toml: the Huawei Cloud SDK, for fglocal deploy / invoke --cloud / events
# The tools extra's dependencies are marked python_version >= '3.10' in pyproject.toml (a test checks).
MIN_TOOLS_PYTHON = (3, 10)
# The kit's own packages: one of them missing is a broken install, not a missing extra.
OWN_PACKAGES = ("fglocal", "server", "debug_adapter")


# The extension's setting that names the Python running the tools (vscode-extension/package.json).
EXTENSION_PYTHON_SETTING = "functiongraph.python"
REINSTALL_EXTENSION = (
    "reinstall the FunctionGraph extension (uninstall it in the Extensions view, then install it "
    "again); its Python packages are bundled with it, nothing needs pip"
)


def missing_advice(needs: str, extra: str, module: Optional[str], environ: Any = None) -> Tuple[str, str]:
    """(what is wrong, what to do) when ``module``, a dependency of the ``extra`` extra, cannot be imported.

    ``needs`` says who needs what ("the cloud commands need the Huawei Cloud SDK"). The advice
    depends on where this fglocal runs: from the VS Code extension's bundle a missing package is a
    damaged extension (reinstall it), elsewhere a missing pip extra (install it).
    """
    missing = " (no module %s)" % module if module else ""
    bundle = extension_bundle(environ)
    if bundle is not None:
        problem = "%s, bundled with the FunctionGraph extension, which this Python cannot import%s: " % (
            needs,
            missing,
        )
        return problem + "the extension's files in %s are incomplete or damaged" % bundle, REINSTALL_EXTENSION
    problem = "%s, which the %r extra installs and this Python cannot import%s" % (needs, extra, missing)
    return problem, "pip install '%s[%s]' into the Python that runs it (%s)" % (
        DISTRIBUTION,
        extra,
        sys.executable,
    )


def python_advice(environ: Any = None) -> str:
    """What to do when this Python is older than the tools need, for where this fglocal runs."""
    needed = "%d.%d" % MIN_TOOLS_PYTHON
    if extension_bundle(environ) is not None:
        return (
            "set %r in VS Code's settings to a Python %s or newer (now %s; the extension bundles the rest)"
            % (
                EXTENSION_PYTHON_SETTING,
                needed,
                sys.executable,
            )
        )
    return "%s in a Python %s+ environment" % (TOOLS_INSTALL, needed)


def python_too_old(tool: str, environ: Any = None) -> Optional[str]:
    """The message for ``tool`` (e.g. 'The language server') on a Python older than the tools need."""
    if sys.version_info[:2] >= MIN_TOOLS_PYTHON:
        return None
    return "%s needs Python %d.%d or newer (this is %d.%d): %s" % (
        tool,
        MIN_TOOLS_PYTHON[0],
        MIN_TOOLS_PYTHON[1],
        sys.version_info[0],
        sys.version_info[1],
        python_advice(environ),
    )


def missing_tools(tool: str, module: str, environ: Any = None) -> str:
    """The message for ``tool`` when ``module`` (a dependency of the tools extra) cannot be imported."""
    too_old = python_too_old(tool, environ)
    if too_old is not None:
        return too_old
    problem, advice = missing_advice(
        "%s needs the Python package %r" % (tool, module), TOOLS_EXTRA, module, environ
    )
    return "%s: %s" % (problem, advice)


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
