"""``fglocal serve``: the command line of the APIG server (fglocal.serve serves)."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any, List

from fglocal import apig
from fglocal.serve import (
    DEFAULT_PORT,
    HEAD_TIMEOUT,
    HOST,
    ApigServer,
    CodeWatcher,
    InstancePool,
    api_id_for,
    emit,
    stop_on_first_signal,
)


def register(subparsers: Any) -> None:
    """Add ``fglocal serve`` to the CLI."""
    from fglocal.commands.options import add_function_options, add_interpreter_options

    parser = subparsers.add_parser(
        "serve",
        help="serve the function over HTTP on 127.0.0.1 as an APIG trigger would",
        description=(
            "Serve the function on http://127.0.0.1:PORT/ as its APIG trigger would: each request becomes "
            "an APIG event (body base64-encoded), the handler's {statusCode, headers, body, isBase64Encoded} "
            "becomes the response. A failure or a result that is not an APIG response gets a 502, a timeout "
            "a 504, with the reason in the body. One warm instance serves requests in turn (--instances N "
            "for more). Ctrl+C stops the server and its instances."
        ),
    )
    parser.add_argument("entry", nargs="?", metavar="ENTRY", help="handler entry (default from fglocal.json)")
    add_function_options(parser)
    add_interpreter_options(parser)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default 8000; 0 picks a free one)"
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        metavar="N",
        help="instances serving requests in parallel (default 1)",
    )
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="TEMPLATE",
        help="API path with parameters, e.g. /users/{id} or /files/{path+}, for pathParameters (repeatable)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=HEAD_TIMEOUT,
        metavar="S",
        help="seconds a request's head may take to arrive, else 408 (default 30)",
    )
    parser.add_argument("--stage", default=apig.DEFAULT_STAGE, help="requestContext.stage (default RELEASE)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line of each request")
    parser.add_argument(
        "--no-reload",
        action="store_true",
        help="keep instances when the code changes (default: restart them)",
    )
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """``fglocal serve``: serve until Ctrl+C (exit 0), or exit 2 on bad options."""
    from fglocal.commands.options import UsageError, load_function_config, resolve_function_interpreter

    if args.instances < 1:
        raise UsageError("--instances must be at least 1")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be 0-65535")
    if not 0 < args.request_timeout <= 3600:
        raise UsageError("--request-timeout must be more than 0 and at most 3600 seconds")
    try:
        routes = [apig.compile_route(t) for t in args.route]
    except apig.RouteError as exc:
        raise UsageError(str(exc)) from None
    config = load_function_config(args, args.entry)
    interpreter = resolve_function_interpreter(args, config)
    try:
        server = ApigServer(
            args.port,
            api_id_for(str(config.code_root)),
            routes,
            args.stage,
            args.quiet,
            head_timeout=args.request_timeout,
        )
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {HOST}:{args.port}: {exc.strerror} (choose another --port; 0 picks a free one)"
        ) from None
    port = server.server_address[1]
    pool = server.pool = InstancePool(
        config, args.instances, args.log_dir, tag=f"serve-{port}", interpreter=interpreter
    )
    plural = "s" if args.instances > 1 else ""
    emit(
        f"fglocal serve: {config.handler} on http://{HOST}:{port}/ ({args.instances} instance{plural}, "
        f"timeout {config.timeout:g} s, memory {config.memory_size} MB, {config.runtime} on "
        f"{interpreter.describe()}); Ctrl+C to stop"
    )
    if interpreter.warning:
        emit("warning: " + interpreter.warning)
    watcher = None
    if not args.no_reload:

        def changed(paths: List[str]) -> None:
            pool.recycle()
            shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
            emit(f"code changed ({shown}): instances restart on the next request")

        watcher = CodeWatcher(str(config.code_root), changed)
        watcher.start()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="fglocal-serve"
    )
    thread.daemon = True
    stop_on_first_signal()
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stopped.set()
        server.closing = True
        server.shutdown()
        server.server_close()
        pool.close()
    emit("fglocal serve: stopped")
    sys.stdout.flush()
    return 0
