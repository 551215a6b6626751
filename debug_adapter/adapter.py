"""The DAP server the editor talks to: answers the session requests, hands the run to a runner."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import traceback
from typing import Any, Callable, Dict, Optional

from debug_adapter.debugpy_process import debugpy_missing
from debug_adapter.launch_config import LaunchError, parse_launch
from debug_adapter.peer import Peer
from debug_adapter.results import RESULT_EVENT, output_events
from debug_adapter.run import Run
from debug_adapter.wire import Message

# What we answer to "initialize": debugpy 1.8's abilities (the relay passes them through), minus
# what a FunctionGraph run does not have (attach, restart of a single frame, terminal consoles).
EXCEPTION_FILTERS = [
    {
        "filter": "raised",
        "label": "Raised Exceptions",
        "default": False,
        "description": "Break whenever any exception is raised.",
    },
    {
        "filter": "uncaught",
        "label": "Uncaught Exceptions",
        "default": True,
        "description": "Break where an exception escapes your handler or initializer (the runtime would report it).",
    },
    {
        "filter": "userUnhandled",
        "label": "User Uncaught Exceptions",
        "default": False,
        "description": "Break when an exception escapes your code into library code.",
    },
]
CAPABILITIES: Dict[str, Any] = {
    "supportsConfigurationDoneRequest": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsFunctionBreakpoints": True,
    "supportsLogPoints": True,
    "supportsEvaluateForHovers": True,
    "supportsSetVariable": True,
    "supportsSetExpression": True,
    "supportsCompletionsRequest": True,
    "supportsExceptionInfoRequest": True,
    "supportsExceptionOptions": True,
    "supportsValueFormattingOptions": True,
    "supportsModulesRequest": True,
    "supportsDelayedStackTraceLoading": True,
    "supportsGotoTargetsRequest": True,
    "supportsStepInTargetsRequest": True,
    "supportsClipboardContext": True,
    "supportsTerminateRequest": True,
    "supportsTerminateDebuggee": True,
    "supportsRestartRequest": False,
    "exceptionBreakpointFilters": EXCEPTION_FILTERS,
}


class Adapter:
    """One editor connection: a dispatch loop over client messages and runner callbacks."""

    def __init__(self, client_in: Any, client_out: Any) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self.client = Peer("client", client_in, client_out, self._from_client, self._client_closed)
        self.initialize_args: Dict[str, Any] = {}
        self.run: Optional[Run] = None
        self._terminated_sent = False
        self._stopping = False
        self._results = 0
        self._debugpy: Optional[subprocess.Popen[bytes]] = None

    # -- plumbing -------------------------------------------------------------------------------
    def post(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the dispatch thread (from any thread)."""
        self._queue.put(job)

    def serve(self, debugpy: Optional[subprocess.Popen[bytes]] = None) -> int:
        """Serve until the client disconnects; returns the process exit code.

        ``debugpy`` is debugpy's adapter, already started: it is on the critical path to the first
        breakpoint, so the entry point starts it first (a noDebug launch simply stops it).
        """
        self._debugpy = debugpy
        self.client.start()
        while not self._stopping:
            job = self._queue.get()
            try:
                job()
            except Exception as exc:  # a bug here must not take the session down silently
                self.output("stderr", "debug adapter error: %s\n" % internal_error(exc))
        self._stop_run()
        if self.client.broken is not None:  # garbage on the wire: say so, and let the editor know
            log("the client's stream is not DAP (%s); exiting with code 1" % self.client.broken)
            return 1
        return 0

    def _from_client(self, _peer: Peer, message: Message) -> None:
        self.post(lambda: self._handle_client(message))

    def _client_closed(self, _peer: Peer) -> None:
        self.post(self._finish)

    def _finish(self) -> None:
        self._stopping = True

    def output(self, category: str, text: str) -> None:
        """Send text to the Debug Console."""
        self.client.send_event("output", {"category": category, "output": text})

    def show_result(self, result: Dict[str, Any], repeat: int = 1) -> None:
        """Show one invocation's result and send it as the custom result event (any thread)."""
        self._results += 1
        label = "invocation %d of %d" % (self._results, repeat) if repeat > 1 else ""
        for body in output_events(result, label):
            self.client.send_event("output", body)
        self.client.send_event(RESULT_EVENT, result)

    def send_terminated(self) -> None:
        """Tell the client the session is over (once)."""
        if not self._terminated_sent:
            self._terminated_sent = True
            self.client.send_event("terminated")

    # -- requests -------------------------------------------------------------------------------
    def _handle_client(self, message: Message) -> None:
        if message.get("type") != "request":
            if message.get("type") not in ("response", "event"):
                log("ignored a message that is not a request, response or event")
            return
        command = message.get("command")
        if not isinstance(command, str) or not command:
            self.client.respond(message, error="a request needs a 'command' string")
            return
        if "arguments" in message and not isinstance(message["arguments"], (dict, type(None))):
            self.client.respond(message, error="'%s': 'arguments' must be a JSON object" % command)
            return
        handler = getattr(self, "_on_" + command, None) if command.isidentifier() else None
        try:
            if handler is not None:
                handler(message)
            elif self.run is not None:
                self.run.client_request(message)
            else:
                self.client.respond(
                    message, error="'%s' needs a running function: launch one first" % command
                )
        except Exception as exc:  # a bug of ours: the editor still gets an answer, and can go on
            self.client.respond(
                message, error="debug adapter error in '%s': %s" % (command, internal_error(exc))
            )

    def _on_initialize(self, request: Message) -> None:
        self.initialize_args = dict(request.get("arguments") or {})
        self.client.respond(request, CAPABILITIES)

    def take_debugpy(self) -> Optional[subprocess.Popen[bytes]]:
        """The debugpy adapter started with this one, if not yet taken and still running."""
        process, self._debugpy = self._debugpy, None
        if process is not None and process.poll() is not None:
            return None
        return process

    def _drop_debugpy(self) -> None:
        process = self.take_debugpy()
        if process is not None:
            process.kill()
            process.wait()

    def _on_launch(self, request: Message) -> None:
        if self.run is not None:
            self.client.respond(request, error="a function is already running in this debug session")
            return
        arguments = request.get("arguments") or {}
        try:
            plan = parse_launch(arguments, default_folder=arguments.get("cwd") or os.getcwd())
        except LaunchError as exc:
            self.client.respond(request, error="Cannot launch the function: %s" % exc)
            return
        missing = None if plan.no_debug else debugpy_missing()
        if missing is not None:
            self.client.respond(request, error=missing)
            return
        if plan.no_debug:
            from debug_adapter.nodebug_run import NoDebugRun

            self._drop_debugpy()
            self.run = NoDebugRun(self, plan)
        else:
            from debug_adapter.debug_run import DebugRun, function_version
            from debug_adapter.debugpy_releases import ReleaseError, release_for

            try:  # debugpy 1.8 for Python 3.8+, 1.5.1 for 2.7/3.6 (or the fix when it is missing)
                release = release_for(function_version(plan))
            except ReleaseError as exc:
                self.client.respond(request, error="Cannot launch the function: %s" % exc)
                return
            self.run = DebugRun(self, plan, release)
        self.run.launch(request)

    def _on_attach(self, request: Message) -> None:
        self.client.respond(request, error="'attach' is not supported: use a 'launch' configuration")

    def _on_restart(self, request: Message) -> None:
        self.client.respond(request, error="restart is done by the editor (terminate, then launch)")

    def _on_disconnect(self, request: Message) -> None:
        self._stop_run()
        self.client.respond(request)
        self._stopping = True

    def _on_terminate(self, request: Message) -> None:
        self._stop_run()
        self.client.respond(request)
        self.send_terminated()

    def _stop_run(self) -> None:
        self._drop_debugpy()
        if self.run is not None:
            self.run.shutdown()


def log(text: str) -> None:
    """One line on the adapter's stderr (the editor's log of the adapter process)."""
    try:
        sys.stderr.write("debug_adapter: %s\n" % text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def internal_error(exc: BaseException) -> str:
    """What the user sees of a bug of ours: its kind, not its text (which may quote their data)."""
    log("internal error:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return "an internal error (%s); the adapter's log (stderr) has the details" % type(exc).__name__


def serve_stdio(debugpy: Optional[subprocess.Popen[bytes]] = None) -> int:
    """Serve DAP on this process's stdin/stdout (``debugpy``: a prestarted debugpy adapter)."""
    client_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    client_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # Nothing else may write to the DAP stream: stray prints go to stderr.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, sys.stdin.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    os.close(devnull)
    return Adapter(client_in, client_out).serve(debugpy)


def serve_tcp(port: int) -> int:
    """Serve DAP sessions one after another on 127.0.0.1:``port`` (an editor's ``debugServer``)."""
    import socket

    from debug_adapter.debugpy_process import start_debugpy_adapter

    try:
        server = socket.create_server(("127.0.0.1", port))
    except OSError as exc:
        log("cannot listen on 127.0.0.1:%d: %s" % (port, exc.strerror or type(exc).__name__))
        return 2
    with server:
        sys.stderr.write("debug_adapter listening on 127.0.0.1:%d\n" % server.getsockname()[1])
        # Loopback only, but not private: DAP has no authentication, and launch runs any program.
        log(
            "warning: any user or program on this machine can connect to this port and run code as"
            " you; use stdio (the default, no --port) unless an editor needs a debug server"
        )
        while True:
            debugpy = start_debugpy_adapter()
            connection, _ = server.accept()
            with connection:
                stream = connection.makefile("rwb")
                Adapter(stream, stream).serve(debugpy)
