"""The kit's distribution: its name, and the one-line answer when an optional dependency is missing."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: fglocal modules avoid importing typing
if TYPE_CHECKING:
    from typing import Optional

DISTRIBUTION = "functiongraph-devkit"
TOOLS_EXTRA = "tools"  # pyproject.toml: pygls, lsprotocol, parso (the server) and debugpy (the adapter)
TOOLS_INSTALL = "pip install '%s[%s]'" % (DISTRIBUTION, TOOLS_EXTRA)
# The kit's own packages: one of them missing is a broken install, not a missing extra.
OWN_PACKAGES = ("fglocal", "server", "debug_adapter")


def missing_tools(tool: str, module: str) -> str:
    """The message for ``tool`` (e.g. 'the language server') when ``module`` cannot be imported."""
    return "%s needs the Python package %r, which the %r extra installs: %s" % (
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
