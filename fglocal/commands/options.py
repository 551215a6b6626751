"""Options and helpers the subcommands share: the function's options, the config they give, usage errors."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    import argparse
    from typing import Any, Optional


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


def hide_values(text: str) -> str:
    """``text`` with what follows each ``=`` in it hidden: ``--user-data=KEY=...`` (it may be a secret)."""
    import re

    return re.sub(r"=[^\s,]*", "=...", text)


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


def add_optional_value_option(
    parser: argparse.ArgumentParser, flag: str, dest: str, metavar: str, text: str
) -> None:
    """``FLAG [VALUE]`` on a command that takes an optional ENTRY (checked by :func:`check_optional_values`).

    argparse gives ``FLAG index.handler`` to FLAG, never to ENTRY; the check refuses that reading
    when it would silently drop the entry the user meant.
    """
    parser.add_argument(
        flag,
        dest=dest,
        nargs="?",
        const="",
        metavar=metavar,
        help=f"{text}; give ENTRY before {flag} ({flag} ENTRY reads ENTRY as the {metavar} and is refused)",
    )
    known = parser.get_default("optional_values") or ()
    parser.set_defaults(optional_values=(*known, (parser.prog, flag, dest, metavar)))


def check_optional_values(args: Any, code_root: Any) -> None:
    """UsageError when no ENTRY was given and an optional value names a handler of ``code_root``.

    ``fglocal deploy --publish index.handler`` means the entry: argparse reads it as the description
    and the config's handler would be deployed instead. The value counts as an entry when it is
    spelled like one and its module file exists in the code root.
    """
    from fglocal.config import ConfigError, check_entry
    from fglocal.contract import find_entry_file

    if getattr(args, "entry", None):
        return
    for prog, flag, dest, metavar in getattr(args, "optional_values", ()):
        value = getattr(args, dest, None)
        if not value:
            continue
        try:
            check_entry(value)
        except ConfigError:
            continue
        if find_entry_file(str(code_root), value) is None:
            continue
        raise UsageError(
            f"{flag} {value}: {value} is read as the {metavar} (no ENTRY was given), and it names a handler "
            f"in {code_root}. Write `{prog} {value} {flag}` to use that entry, or give the entry as well "
            f"(`{prog} ENTRY {flag} {value}`, or `{flag}={value}` after ENTRY) if it is the {metavar}"
        )
