"""The ``fglocal`` command line: parses and dispatches to the subcommands of ``fglocal.commands``.

``fglocal invoke`` is the product's first impression, so its path imports as little as possible:
the other subcommands' modules are only imported when named.
"""

import os
import sys

# Nothing else at the top: with FGLOCAL_RUNTIME_SERVER set, main() first asks the runtime server's
# warm supervisor to run the command (fglocal.thin_client) and imports the rest only when it must
# run here. Not even `from __future__ import annotations` (here and in fglocal/__init__.py, the thin
# client's path): it imports the __future__ module; the annotations are quoted instead.

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    import argparse
    from typing import Any, List, Optional

# The subcommands besides invoke: each module exposes register(subparsers).
PLUGIN_COMMANDS = {
    "event": "fglocal.commands.event",
    "serve": "fglocal.commands.serve",
    "package": "fglocal.commands.package",
    "python": "fglocal.commands.python",
    "deploy": "fglocal.commands.deploy",
    "events": "fglocal.commands.events",
    "runtime-server": "fglocal.commands.runtime_server",
}


def build_parser(plugins: bool = True) -> "argparse.ArgumentParser":
    """The parser: invoke plus (unless ``plugins`` is False) whichever plug-in commands are installed."""
    from fglocal.commands import invoke as invoke_command

    parser = _parser_class()(
        prog="fglocal",
        description="Run Huawei Cloud FunctionGraph Python functions locally, as the platform does.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    invoke_command.register(subparsers)
    for module_name in PLUGIN_COMMANDS.values() if plugins else ():
        try:
            module = __import__(module_name, fromlist=["register"])
        except ImportError:
            continue
        module.register(subparsers)
    return parser


def _parser_class() -> type:
    import argparse

    from fglocal.commands.options import hide_values

    class Parser(argparse.ArgumentParser):
        """argparse, whose errors never repeat the text after an '=' (``KEY=VALUE`` user data)."""

        def error(self, message: str) -> "Any":
            super().error(hide_values(message))

    return Parser


def _never_fail_to_print() -> None:
    """Let every command's output escape what the terminal's encoding cannot show, never crash on it.

    A path, a function's output or an event may hold text the terminal cannot encode (LANG=C,
    PYTHONIOENCODING=ascii, a lone surrogate); print() would raise UnicodeEncodeError mid-output.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream: nothing to print to anyway
                pass


def main(argv: "Optional[List[str]]" = None) -> None:
    """Run the command line and exit with its code (0 ok, 1 function failed, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("FGLOCAL_RUNTIME_SERVER"):
        from fglocal import thin_client

        thin_client.run_remotely(argv)  # exits with the command's code, or returns: run it here
    _exit(run(argv))


def run(argv: "List[str]") -> int:
    """Run the command line ``argv`` (without the program name); its exit code.

    The one implementation of the command line: ``main`` runs it here, a warm supervisor of the
    runtime server (fglocal.warm_supervisor) runs it for a thin client.
    """
    try:
        # The C module: the same functions and constants as `signal`, without building its
        # IntEnums, which costs the cold start ~0.7 ms.
        import _signal as signal
    except ImportError:  # pragma: no cover - other Python implementations
        import signal  # type: ignore[no-redef]

    from fglocal.commands import invoke as invoke_command
    from fglocal.commands.options import EXIT_OK, EXIT_USAGE, UsageError

    _never_fail_to_print()
    # `fglocal index.handler --event e.json` means `fglocal invoke ...`.
    if not argv or (
        argv[0] not in PLUGIN_COMMANDS and argv[0] not in ("invoke", "-h", "--help", "--version")
    ):
        argv.insert(0, "invoke")
    if argv[0] == "--version":
        from fglocal import __version__

        print(f"fglocal {__version__}")
        sys.exit(EXIT_OK)
    args = invoke_command.parse_invoke_fast(argv) if argv[0] == "invoke" else None
    if args is None:
        # Parsing `invoke` needs no plug-in modules: do not import them.
        parser = build_parser(plugins=argv[0] != "invoke")
        args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        build_parser().print_help()
        sys.exit(EXIT_USAGE)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        code = args.run(args)
    except UsageError as exc:
        _print_error(str(exc))
        code = EXIT_USAGE
    except ValueError as exc:
        from fglocal.instance import LogDirError  # imported already when it was raised

        if not isinstance(exc, LogDirError):
            raise
        _print_error(str(exc))
        code = EXIT_USAGE
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_OK
    return code


def _print_error(message: str) -> None:
    """``fglocal: error: MESSAGE`` on stderr, whatever the terminal's encoding can show (the rest escaped)."""
    from fglocal.render import encodable

    sys.stderr.write(encodable(f"fglocal: error: {message}\n", sys.stderr))


def _exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.gettrace() is None and "debugpy" not in sys.modules and "coverage" not in sys.modules:
        # Nothing is left to clean up (the instance is closed), so skip interpreter finalization:
        # it is a measurable part of a cold `fglocal invoke`. Debuggers and coverage need their
        # exit hooks, so they get the ordinary exit.
        os._exit(code)
    sys.exit(code)


def _exit_on_signal(signum: int, frame: "Any") -> None:
    # Unwind through the finally blocks, which stop the instance process and its children.
    raise KeyboardInterrupt
