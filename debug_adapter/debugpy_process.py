"""Starting debugpy's adapter process (standard library only: it starts before anything else loads)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Optional

from fglocal.distribution import missing_tools, python_too_old

TOOL = "The FunctionGraph debug adapter"


def debugpy_missing() -> Optional[str]:
    """The one-line message when this Python cannot run debugpy's adapter (too old, no debugpy), else None."""
    too_old = python_too_old(TOOL)
    if too_old is not None or importlib.util.find_spec("debugpy") is not None:
        return too_old
    return missing_tools(TOOL, "debugpy")


def start_debugpy_adapter() -> subprocess.Popen[bytes]:
    """Start debugpy's adapter speaking DAP on its stdio (its sockets on 127.0.0.1)."""
    # The child finds this package and debugpy where this process found them (an editor may bundle
    # them in a folder that is on sys.path but not on PYTHONPATH). find_spec does not import them.
    folders = set()
    for name in ("debugpy", "debug_adapter"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            folders.add(os.path.dirname(os.path.dirname(os.path.realpath(spec.origin))))
    env = dict(os.environ)
    inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
    env["PYTHONPATH"] = os.pathsep.join(sorted(folders) + inherited)
    return subprocess.Popen(
        [sys.executable, "-m", "debug_adapter.debugpy_adapter", "--host", "127.0.0.1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
