"""Shared pytest hooks: the terminal summary says which FunctionGraph runtimes the run covered."""

from __future__ import annotations


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
