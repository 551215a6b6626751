"""The ``fglocal`` command line: ``invoke`` (the default), and the plug-in subcommands.

``fglocal invoke`` is the product's first impression, so its path imports as little as possible:
the other subcommands' modules are only imported when named.
"""

from __future__ import annotations

import json
import os

try:
    # The C module: the same functions and constants as `signal`, without building its IntEnums,
    # which costs the cold start ~0.7 ms.
    import _signal as signal
except ImportError:  # pragma: no cover - other Python implementations
    import signal  # type: ignore[no-redef]
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    import argparse
    from typing import Any, Dict, List, Optional

# Subcommands provided by other modules: each exposes register(subparsers) (see README.md).
PLUGIN_COMMANDS = {
    "event": "fglocal.event_templates",
    "serve": "fglocal.serve",
    "package": "fglocal.package",
    "python": "fglocal.interpreters",
    "deploy": "fglocal.commands.deploy",
    "events": "fglocal.commands.events",
}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in the command line or the configuration: exit code 2 with a clear message."""


# Options as data: (flag, dest, type, repeatable, metavar, help). The same table builds the argparse
# parser (help, errors, plug-ins) and the fast path of `invoke`, which skips argparse: building an
# argparse parser costs several milliseconds (gettext look-ups per help string), a third of fglocal's
# cold-start overhead.
FUNCTION_OPTIONS = (
    ("--code-dir", "code_dir", str, False, "DIR", "function folder (default: .)"),
    ("--config", "config", str, False, "FILE", "function config file (default: DIR/fglocal.json)"),
    ("--initializer", "initializer", str, False, "ENTRY", "initializer entry, e.g. index.initializer"),
    ("--timeout", "timeout", float, False, "S", "timeout in seconds (default 3)"),
    ("--memory", "memory", int, False, "MB", "memory size in MB (default 128)"),
    ("--runtime", "runtime", str, False, "NAME", "cloud runtime, e.g. python3.9"),
    ("--user-data", "user_data", str, True, "K=V", "user data (environment variable); repeatable"),
    ("--env-file", "env_file", str, False, "FILE", "dotenv file of user data (never packaged)"),
    ("--log-dir", "log_dir", str, False, "DIR", "where invocation logs are kept"),
)
# Which Python runs the function (see fglocal.interpreters): shared by invoke, serve, package, python.
INTERPRETER_OPTIONS = (
    (
        "--python",
        "python",
        str,
        False,
        "PATH",
        "the Python interpreter that runs the function (default: found from the runtime)",
    ),
)
INTERPRETER_FLAGS = (
    (
        "--any-python",
        "any_python",
        "run on fglocal's own Python when the runtime's is missing (with a warning)",
    ),
)
INVOKE_OPTIONS = (
    ("--event", "event", str, True, "FILE", "event JSON file ('-' for stdin); repeatable"),
    ("--event-json", "event_json", str, True, "JSON", "event given inline; repeatable"),
    ("--repeat", "repeat", int, False, "N", "run the events N times on one warm instance"),
    ("--result-file", "result_file", str, False, "PATH", "also append each JSON result as a line to PATH"),
    (
        "--region",
        "region",
        str,
        False,
        "R",
        "with --cloud: the region (default: fglocal.json, HUAWEICLOUD_SDK_REGION)",
    ),
)
INVOKE_FLAGS = (
    ("--json", "json", "print one JSON object per invocation"),
    ("--cloud", "cloud", "invoke the deployed function in FunctionGraph instead (see fglocal deploy)"),
)
DEFAULTS = {"code_dir": ".", "repeat": 1}


def add_options(parser: argparse.ArgumentParser, table: tuple) -> None:
    """Add the options of ``table`` to an argparse parser."""
    for flag, dest, kind, repeatable, metavar, text in table:
        default = [] if repeatable else DEFAULTS.get(dest)
        action = "append" if repeatable else "store"
        parser.add_argument(
            flag, dest=dest, type=kind, action=action, default=default, metavar=metavar, help=text
        )


def add_function_options(parser: argparse.ArgumentParser) -> None:
    """Options that describe the function (shared by invoke and the plug-in commands)."""
    add_options(parser, FUNCTION_OPTIONS)


def add_interpreter_options(parser: argparse.ArgumentParser) -> None:
    """``--python PATH`` and ``--any-python`` (commands that run the function's code)."""
    add_options(parser, INTERPRETER_OPTIONS)
    for flag, dest, text in INTERPRETER_FLAGS:
        parser.add_argument(flag, dest=dest, action="store_true", help=text)


def resolve_function_interpreter(args: Any, config: Any) -> Any:
    """The interpreter of ``config``'s runtime, honouring --python / --any-python; UsageError when missing."""
    from fglocal.interpreters import InterpreterError, resolve_interpreter

    try:
        return resolve_interpreter(config, getattr(args, "python", None), getattr(args, "any_python", False))
    except InterpreterError as exc:
        raise UsageError(str(exc)) from None


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The parser: invoke plus (unless ``plugins`` is False) whichever plug-in commands are installed."""
    parser = _parser_class()(
        prog="fglocal",
        description="Run Huawei Cloud FunctionGraph Python functions locally, as the platform does.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    invoke = subparsers.add_parser(
        "invoke",
        help="run the handler with test events and print return, summary and logs",
        description="Run the handler with one or more events on one warm instance.",
    )
    invoke.add_argument(
        "targets",
        nargs="*",
        metavar="ENTRY",
        help="handler entry such as index.handler (default from fglocal.json); '-' reads the event from stdin",
    )
    add_options(invoke, FUNCTION_OPTIONS + INTERPRETER_OPTIONS + INVOKE_OPTIONS)
    for flag, dest, text in INVOKE_FLAGS + INTERPRETER_FLAGS:
        invoke.add_argument(flag, dest=dest, action="store_true", help=text)
    invoke.set_defaults(run=run_invoke)
    for module_name in PLUGIN_COMMANDS.values() if plugins else ():
        try:
            module = __import__(module_name, fromlist=["register"])
        except ImportError:
            continue
        module.register(subparsers)
    return parser


def hide_values(text: str) -> str:
    """``text`` with what follows each ``=`` in it hidden: ``--user-data=KEY=...`` (it may be a secret)."""
    import re

    return re.sub(r"=[^\s,]*", "=...", text)


def _parser_class() -> type:
    import argparse

    class Parser(argparse.ArgumentParser):
        """argparse, whose errors never repeat the text after an '=' (``KEY=VALUE`` user data)."""

        def error(self, message: str) -> Any:
            super().error(hide_values(message))

    return Parser


def parse_invoke_fast(argv: List[str]) -> Optional[Any]:
    """Parse ``invoke ARGS`` without argparse; None when argparse must handle it (help, mistakes)."""
    options = {
        flag: (dest, kind, repeatable)
        for flag, dest, kind, repeatable, _, _ in FUNCTION_OPTIONS + INTERPRETER_OPTIONS + INVOKE_OPTIONS
    }
    flags = {flag: dest for flag, dest, _ in INVOKE_FLAGS + INTERPRETER_FLAGS}
    values: Dict[str, Any] = {
        dest: [] if repeatable else DEFAULTS.get(dest) for dest, _, repeatable in options.values()
    }
    values.update({dest: False for dest in flags.values()})
    values["targets"] = []
    items = iter(argv[1:])
    for item in items:
        if item.startswith("--") and item in flags:
            values[flags[item]] = True
            continue
        flag, eq, inline = item.partition("=")
        if item.startswith("--") and flag in options:
            dest, kind, repeatable = options[flag]
            raw = inline if eq else next(items, None)
            if raw is None:
                return None
            try:
                value = kind(raw)
            except ValueError:
                return None
            if repeatable:
                values[dest].append(value)
            else:
                values[dest] = value
        elif item == "-" or not item.startswith("-"):
            values["targets"].append(item)
        else:
            return None  # -h, --help, unknown flags: argparse explains
    from types import SimpleNamespace

    return SimpleNamespace(command="invoke", run=run_invoke, **values)


def load_function_config(args: Any, handler: Optional[str] = None) -> Any:
    """The function config from the config file and the command-line overrides."""
    from fglocal.config import ConfigError, load_config, read_env_file, user_data_key_problem

    try:
        config = load_config(args.code_dir, args.config)
        user_data = dict(config.user_data)
        if args.env_file:
            user_data.update(read_env_file(args.env_file, field_name="--env-file", regular_only=False))
        for number, item in enumerate(args.user_data, 1):
            # Messages say which --user-data is wrong, never what it holds (it may be a secret).
            key, sep, value = item.partition("=")
            if not sep:
                raise UsageError(f"--user-data #{number} expects KEY=VALUE and has no '='")
            problem = user_data_key_problem(key)
            if problem:
                raise UsageError(f"--user-data #{number}: the key {problem}")
            user_data[key] = value
        return config.with_overrides(
            handler=handler,
            initializer=args.initializer,
            timeout=args.timeout,
            memory_size=args.memory,
            runtime=args.runtime,
            user_data=user_data,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


# An event file is read only up to this size: events are at most 6 MB, and this leaves room for
# indentation and escapes; a larger file (or a device) is a mistake, refused before it fills memory.
MAX_EVENT_FILE_BYTES = 64 * 1024 * 1024


def _read_event_text(source: str) -> tuple:
    """(name, text) of an event file or stdin; a usage error naming the file for anything but UTF-8 text."""
    if source == "-":
        name, stream = "stdin", sys.stdin.buffer
        data = stream.read(MAX_EVENT_FILE_BYTES + 1)
    else:
        import stat

        name = f"event file {source}"
        try:
            info = os.stat(source)
            if stat.S_ISDIR(info.st_mode):
                raise UsageError(f"{name} is a folder, not a JSON file")
            if not stat.S_ISREG(info.st_mode) and not _is_open_descriptor(source):
                # A FIFO would block until something writes to it, a device may never end.
                raise UsageError(f"{name} is not a regular file (a FIFO, socket or device); give a JSON file")
            if info.st_size > MAX_EVENT_FILE_BYTES:
                raise UsageError(
                    f"{name} is {info.st_size:,} bytes; an event is at most 6 MB (give a smaller file)"
                )
            with open(source, "rb") as handle:
                data = handle.read(MAX_EVENT_FILE_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {name}: {exc.strerror}") from None
    if len(data) > MAX_EVENT_FILE_BYTES:
        raise UsageError(f"{name} is over {MAX_EVENT_FILE_BYTES:,} bytes; an event is at most 6 MB")
    try:
        # utf-8-sig: a byte order mark (Windows editors add one) is not part of the JSON.
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{name} is not UTF-8 text (line {line}: byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def _is_open_descriptor(path: str) -> bool:
    """``/dev/stdin``, ``/dev/fd/N``, ``/proc/self/fd/N``: a descriptor this process already holds.

    A pipe there has its writer (``--event <(make-event)``, ``--event /dev/stdin``), so reading it
    cannot block forever the way a named FIFO nobody writes to does.
    """
    if path == "/dev/stdin":
        return True
    head, _, number = path.rpartition("/")
    return head in ("/dev/fd", "/proc/self/fd") and number.isdigit()


def _parse_event(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageError(
            f"{name} is nested too deeply (JSON nesting of more than about {sys.getrecursionlimit() - 50} "
            "levels cannot be decoded); flatten the event"
        ) from None


def collect_events(args: Any) -> List[Any]:
    """Events in the order given (files, stdin, inline JSON); ``{}`` when none is given.

    An event over the 6 MB synchronous request limit (measured as the platform does: the bytes of
    its UTF-8 JSON) is a usage error: nothing runs.
    """
    from fglocal.instance import EventTooLarge, event_size
    from fglocal.result import MAX_BODY_BYTES

    sources = list(args.event) + ["-" for t in args.targets if t == "-"]
    named = [(name, _parse_event(name, text)) for name, text in map(_read_event_text, sources)]
    named += [("--event-json", _parse_event("--event-json", text)) for text in args.event_json]
    for name, event in named:
        try:
            size = event_size(event)
        except RecursionError:
            raise UsageError(
                f"{name} is nested too deeply to be sent to the function; flatten the event"
            ) from None
        if size > MAX_BODY_BYTES:
            raise UsageError(f"{name}: {EventTooLarge(size)}")
    return [event for _, event in named] or [{}]


def _open_result_file(path: str) -> Any:
    """Open ``--result-file`` for appending before anything runs; a usage error when it cannot be written."""
    if os.path.isdir(path):
        raise UsageError(f"--result-file {path} is a folder; name a file (JSON lines are appended to it)")
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --result-file {path}: {exc.strerror}") from None


def run_invoke(args: Any) -> int:
    """``fglocal invoke``: run the events on one warm instance and print each result."""
    entries = [t for t in args.targets if t != "-"]
    if len(entries) > 1:
        raise UsageError("give one handler entry, got {}".format(hide_values(", ".join(entries))))
    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    config = load_function_config(args, entries[0] if entries else None)
    if args.cloud:
        from fglocal.commands.invoke_cloud import run_cloud_invoke

        return run_cloud_invoke(args, config, collect_events(args))
    interpreter = resolve_function_interpreter(args, config)
    events = collect_events(args)
    result_file = _open_result_file(args.result_file) if args.result_file else None

    from fglocal.instance import Instance

    try:
        instance = Instance(config, log_dir=args.log_dir, interpreter=interpreter)
    except BaseException:
        if result_file is not None:
            result_file.close()
        raise
    # A debugger pauses the invocation clock with SIGUSR1 and resumes it with SIGUSR2, so that the
    # timeout does not fire while the user looks at a breakpoint.
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda *_: instance.pause_clock())
        signal.signal(signal.SIGUSR2, lambda *_: instance.resume_clock())
    failed = False
    try:
        for _ in range(args.repeat):
            for event in events:
                result = instance.invoke(event)
                failed = failed or not result.ok
                if result_file is not None:
                    try:
                        result_file.write(json.dumps(result.to_json()) + "\n")
                        result_file.flush()
                    except OSError as exc:  # the disk filled up, the file system went away
                        raise UsageError(
                            f"cannot write --result-file {args.result_file}: {exc.strerror}"
                        ) from None
                if args.json:
                    sys.stdout.write(json.dumps(result.to_json()) + "\n")
                else:
                    from fglocal.render import render

                    render(result, sys.stdout)
                sys.stdout.flush()
    finally:
        _ignore_stop_signals()  # impatient Ctrl+C presses must not cut the cleanup short
        instance.close()  # the instance and every process it started
        if result_file is not None:
            try:
                result_file.close()
            except OSError:  # what it could not flush was reported above
                pass
    return EXIT_FAILED if failed else EXIT_OK


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


def main(argv: Optional[List[str]] = None) -> None:
    """Run the command line and exit with its code (0 ok, 1 function failed, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
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
    args = parse_invoke_fast(argv) if argv[0] == "invoke" else None
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
    _exit(code)


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


def _ignore_stop_signals() -> None:
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to ignore there
        pass


def _exit_on_signal(signum: int, frame: Any) -> None:
    # Unwind through the finally blocks, which stop the instance process and its children.
    raise KeyboardInterrupt
