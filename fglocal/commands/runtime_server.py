"""``fglocal runtime-server``: pre-started per-runtime instance servers (see fglocal.runtime_server).

Runs in the foreground and owns everything it starts: Ctrl+C, SIGTERM or (with
``--until-stdin-closes``, for an editor that starts it) the end of its stdin stops it, and every
zygote and every instance they forked ends with it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    import argparse
    from typing import Any, List


def register(subparsers: Any) -> None:
    """Add ``fglocal runtime-server``."""
    parser = subparsers.add_parser(
        "runtime-server",
        help="keep one pre-started process per runtime that forks fresh instances (faster cold starts)",
        description="Start one server per runtime's interpreter that has loaded fglocal's instance side and "
        "forks a fresh instance for every cold start (the function's code is still imported anew each "
        "time). Prints FGLOCAL_RUNTIME_SERVER=FOLDER: invoke, serve and the debug adapter use the servers "
        "while that variable is set, and start instances themselves otherwise. Then, unless --no-launcher, "
        "FGLOCAL_LAUNCHER=PATH: a native `fglocal` (compiled with $CC or cc) that hands an invoke to the "
        "server without a Python start-up. Runs until Ctrl+C or "
        "SIGTERM (or the end of stdin with --until-stdin-closes); nothing it started outlives it.",
    )
    parser.add_argument(
        "--runtime",
        dest="runtimes",
        action="append",
        default=[],
        metavar="RUNTIME",
        help="a runtime to serve, e.g. python3.9 (repeatable; default: every runtime whose Python is found)",
    )
    parser.add_argument(
        "--until-stdin-closes",
        dest="until_stdin_closes",
        action="store_true",
        help="also stop when stdin reaches its end (for a parent process that holds a pipe to it)",
    )
    parser.add_argument(
        "--no-launcher",
        dest="launcher",
        action="store_false",
        help="do not build the native launcher (by default it is compiled with $CC or cc into the server's "
        "folder and printed as FGLOCAL_LAUNCHER=PATH: `fglocal invoke` without a Python start-up)",
    )
    parser.set_defaults(run=run_runtime_server)


def _interpreters(runtimes: List[str]) -> List[Any]:
    from types import SimpleNamespace

    from fglocal.commands.options import UsageError
    from fglocal.contract import RUNTIMES, runtime_version
    from fglocal.interpreters import InterpreterError, resolve_interpreter

    unknown = [r for r in runtimes if r not in RUNTIMES]
    if unknown:
        raise UsageError(
            "unknown runtime %s; the runtimes are %s" % (", ".join(unknown), ", ".join(RUNTIMES))
        )
    found = []
    seen = set()
    for runtime in runtimes or RUNTIMES:
        config = SimpleNamespace(runtime=runtime, python=None, config_file=None, code_dir=os.getcwd())
        try:
            interpreter = resolve_interpreter(config)
        except InterpreterError as exc:
            if runtimes:
                raise UsageError(str(exc)) from None
            sys.stderr.write(
                "fglocal runtime-server: %s: not served (no Python %d.%d found)\n"
                % (runtime, *runtime_version(runtime))
            )
            continue
        key = os.path.realpath(interpreter.path)
        if key not in seen:
            seen.add(key)
            found.append(interpreter)
    if not found:
        raise UsageError("no runtime's Python was found; nothing to serve")
    return found


def run_runtime_server(args: argparse.Namespace) -> int:
    """Start the zygotes, print where they listen, wait until told to stop, then stop them all."""
    import select
    import shutil
    import signal

    from fglocal.commands.options import EXIT_OK, UsageError
    from fglocal.instance import instance_process_environment
    from fglocal.launcher import ENV_VARIABLE as LAUNCHER_VARIABLE
    from fglocal.launcher import Build
    from fglocal.runtime_server import (
        ENV_VARIABLE,
        available,
        server_folder,
        start_warm_supervisor,
        start_zygotes,
    )

    if not available():
        raise UsageError(
            "the runtime server needs Linux with pidfd (kernel 5.3+) and fglocal on Python 3.9+, so that "
            "an instance that is not the supervisor's child can be signalled safely"
        )
    folder = server_folder()
    zygotes: List[Any] = []
    status = EXIT_OK
    build = None
    try:
        build = Build(folder) if args.launcher else None  # compiles while the zygotes start
        interpreters = _interpreters(args.runtimes)
        zygotes = start_zygotes(folder, interpreters, instance_process_environment(os.environ))
        supervisor = start_warm_supervisor(folder)
        if supervisor is None:
            sys.stderr.write(
                "fglocal runtime-server: the warm supervisor did not start; invoke runs in full\n"
            )
        else:
            zygotes.append(supervisor)
        # The launcher carries the token the warm supervisor accepts (its own, not this process's).
        token = supervisor.token if supervisor is not None and supervisor.token else None
        launcher, why = build.finish(token=token) if build is not None else (None, "--no-launcher")
        if launcher is not None and supervisor is None:
            launcher, why = None, "the warm supervisor did not start"
        print("%s=%s" % (ENV_VARIABLE, folder))
        if launcher is not None:
            print("%s=%s" % (LAUNCHER_VARIABLE, launcher))
        else:
            sys.stderr.write("fglocal runtime-server: the native launcher is off: %s\n" % why)
        for zygote in zygotes:
            print(
                "serving %s: Python %s (%s), pid %d"
                % (zygote.runtime, zygote.version, zygote.python, zygote.pid)
            )
        print("set %s=%s for fglocal to use it; Ctrl+C stops it" % (ENV_VARIABLE, folder))
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        watched = [sys.stdin.fileno()] if args.until_stdin_closes else []
        while True:
            if select.select(watched, [], [], 0.5)[0] and not os.read(watched[0], 65536):
                break
            ended = [z for z in zygotes if _ended(z.pid)]
            if ended:
                for zygote in ended:
                    sys.stderr.write(
                        "fglocal runtime-server: the server for %s (pid %d) ended; stopping\n"
                        % (zygote.runtime, zygote.pid)
                    )
                status = 1
                break
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the cleanup short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if build is not None:
            build.cancel()
        for zygote in zygotes:
            zygote.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return status


def _ended(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True
