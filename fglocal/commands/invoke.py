"""``fglocal invoke`` (the default command): run the handler with events on one warm instance."""

from __future__ import annotations

import json
import os
import sys

try:
    # The C module: the same functions and constants as `signal`, without building its IntEnums,
    # which costs the cold start ~0.7 ms.
    import _signal as signal
except ImportError:  # pragma: no cover - other Python implementations
    import signal  # type: ignore[no-redef]
from fglocal.commands.options import (
    DEFAULTS,
    EXIT_FAILED,
    EXIT_OK,
    FUNCTION_OPTIONS,
    INTERPRETER_FLAGS,
    INTERPRETER_OPTIONS,
    UsageError,
    add_options,
    hide_values,
    load_function_config,
    resolve_function_interpreter,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional


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


def open_result_file(path: str) -> Any:
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
    result_file = open_result_file(args.result_file) if args.result_file else None

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


def _ignore_stop_signals() -> None:
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to ignore there
        pass


def register(subparsers: Any) -> None:
    """Add ``fglocal invoke`` to the CLI."""
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
