"""``fglocal python``: which interpreter runs the function (fglocal.interpreters resolves it)."""

from __future__ import annotations

import json
import sys

from fglocal.interpreters import InterpreterError, resolve_interpreter

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    import argparse
    from typing import Any


def register(subparsers: Any) -> None:
    """Add ``fglocal python``: which interpreter runs the function, for people and tools."""
    from fglocal.commands.options import add_function_options, add_interpreter_options

    parser = subparsers.add_parser(
        "python",
        help="show which Python interpreter runs the function (its runtime's version)",
        description="Resolve the function's interpreter as invoke, serve and package do, and print it. "
        "Exit 2 with the refusal when the runtime's Python is missing.",
    )
    add_function_options(parser)
    add_interpreter_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run_python)


def run_python(args: argparse.Namespace) -> int:
    """``fglocal python``: print the runtime, the interpreter (path, version) and where it came from."""
    from fglocal.commands.options import EXIT_OK, EXIT_USAGE, load_function_config

    config = load_function_config(args)
    try:
        interpreter = resolve_interpreter(config, args.python, args.any_python)
    except InterpreterError as exc:
        if args.json:
            print(
                json.dumps(
                    {
                        "runtime": config.runtime,
                        "python": None,
                        "source": None,
                        "error": str(exc),
                        "searched": exc.searched,
                    }
                )
            )
        sys.stderr.write("fglocal: error: %s\n" % exc)
        return EXIT_USAGE
    if args.json:
        print(
            json.dumps(
                {
                    "runtime": config.runtime,
                    "python": interpreter.to_json(),
                    "source": interpreter.source,
                    "warnings": [interpreter.warning] if interpreter.warning else [],
                }
            )
        )
    else:
        print("%s: %s" % (config.runtime, interpreter.describe()))
        if interpreter.warning:
            print("warning: " + interpreter.warning)
    return EXIT_OK
