"""Shared pytest hooks: Ctrl+C reaches the processes the tests start; the summary lists the runtimes covered."""

from __future__ import annotations

import signal


def pytest_configure(config) -> None:
    # A test run started in the background by a non-interactive shell (`make test &`, some CI runners)
    # inherits SIGINT ignored, and so would every process the tests start: `fglocal serve` and
    # `fglocal invoke` rightly obey an ignored Ctrl+C, and the tests that press it would hang. A Python
    # handler here is reset to the default in children at exec, so they get a working Ctrl+C.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    import sys

    matrix = sys.modules.get("runtime_matrix")
    if matrix is None:
        return  # no cross-runtime test was collected
    terminalreporter.section("FunctionGraph runtimes")
    for runtime in matrix.ALL_RUNTIMES:
        if runtime in matrix.COVERED:
            terminalreporter.write_line("covered  %-11s Python %s" % (runtime, matrix.COVERED[runtime]))
        elif runtime in matrix.MISSING:
            terminalreporter.write_line("MISSING  %-11s %s" % (runtime, matrix.MISSING[runtime]), red=True)
        else:
            terminalreporter.write_line("not run  %-11s (no cross-runtime test of it was selected)" % runtime)
