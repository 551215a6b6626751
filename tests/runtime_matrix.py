"""The FunctionGraph runtimes this machine can run, found as fglocal finds them; missing ones are reported.

The project's machines (and CI) have all five runtimes' interpreters (pyenv), so a missing one fails
its tests; set FGLOCAL_TEST_ALLOW_MISSING_RUNTIMES=1 elsewhere to skip them instead. Either way the
terminal summary (tests/conftest.py) lists which runtimes were covered and which were missing.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Dict, Optional

import pytest

from fglocal.config import FunctionConfig
from fglocal.contract import RUNTIMES
from fglocal.interpreters import Interpreter, InterpreterError, resolve_interpreter

COVERED: Dict[str, str] = {}  # runtime -> "3.6.15 (/path)" for runtimes whose tests ran
MISSING: Dict[str, str] = {}  # runtime -> why


@lru_cache(maxsize=None)
def interpreter_for(runtime: str) -> Optional[Interpreter]:
    """The interpreter fglocal resolves for ``runtime`` (discovery only), or None."""
    config = FunctionConfig(code_root=os.getcwd(), runtime=runtime)
    try:
        return resolve_interpreter(
            config, environ={k: v for k, v in os.environ.items() if k != "FGLOCAL_PYTHON"}
        )
    except InterpreterError as exc:
        MISSING[runtime] = str(exc)
        return None


def require(runtime: str) -> Interpreter:
    """The runtime's interpreter; fails (or, when allowed, skips) the test when it is missing."""
    interpreter = interpreter_for(runtime)
    if interpreter is None:
        message = "runtime %s has no interpreter on this machine: %s" % (runtime, MISSING[runtime])
        if os.environ.get("FGLOCAL_TEST_ALLOW_MISSING_RUNTIMES") == "1":
            pytest.skip(message)
        pytest.fail(message)
    COVERED[runtime] = "%s (%s)" % (interpreter.version_text, interpreter.path)
    return interpreter


ALL_RUNTIMES = list(RUNTIMES)
