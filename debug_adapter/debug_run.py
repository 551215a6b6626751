"""A debug run: debugpy's adapter as a child process, relaying DAP for ``fglocal invoke``.

debugpy launches the ``fglocal`` CLI (the supervisor) with ``subProcess`` on, so the function's
instance process (forked by the supervisor) reports to debugpy's adapter, which sends
``debugpyAttach``. We attach to it over 127.0.0.1 and present that instance session to the editor
as the one session it debugs: its threads, stops, variables. The supervisor's session stays hidden
(its frames are the runtime's), but its process events and its end are the session's.

A Python 2.7/3.6 function is debugged with debugpy 1.5.1 (``debugpy_releases.py``): the supervisor
does not follow its subprocesses then (debugpy 1.8 would inject itself into an interpreter it cannot
run on); each instance starts 1.5.1's adapter itself and announces it on a socket of ours
(``debuggee_boot.py``), and we attach to it as we attach to a followed instance.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from debug_adapter import debuggee_boot
from debug_adapter.debugpy_process import start_debugpy_adapter
from debug_adapter.debugpy_releases import Release, release_for
from debug_adapter.launch_config import LaunchPlan
from debug_adapter.peer import Peer
from debug_adapter.processes import kill_trees, marked_processes, signal_pid
from debug_adapter.run import Run, event_of
from debug_adapter.wire import Message

# Requests that change how the debugger stops: kept, and replayed to every new instance session.
_CONFIG_REQUESTS = ("setBreakpoints", "setFunctionBreakpoints", "setExceptionBreakpoints")
# Requests after which the debuggee runs again (pydevd does not always send "continued" for them).
_RESUMING = ("continue", "next", "stepIn", "stepOut", "goto", "stepBack", "reverseContinue")
_PARENT_OUTPUT = ("stderr", "important", "console")


class _Instance:
    """A debugpy session attached to one function instance process."""

    def __init__(self, peer: Peer, pid: int, nested: bool) -> None:
        self.peer = peer
        self.pid = pid
        self.nested = nested  # a process the user's own code started
        self.configured = False
        self.threads: List[int] = []


class DebugRun(Run):
    """Relays one launch of the function under debugpy."""

    def __init__(self, adapter: Any, plan: LaunchPlan, release: Optional[Release] = None) -> None:
        super().__init__(adapter, plan)
        self.release = release or release_for(function_version(plan))
        self.announcements: Optional[socket.socket] = None
        self.debugpy: Optional[subprocess.Popen[bytes]] = None
        self.parent: Optional[Peer] = None
        self.instances: List[_Instance] = []
        self.active: Optional[_Instance] = None
        self.config_requests: Dict[str, Dict[str, Any]] = {}
        self.supervisor_pid: Optional[int] = None
        self.paused = False
        self.stopped_thread: Optional[int] = None

    # -- start ----------------------------------------------------------------------------------
    def launch(self, request: Message) -> None:
        """Start debugpy's adapter and hand it the translated launch."""
        self.debugpy = self.adapter.take_debugpy() or start_debugpy_adapter()
        assert self.debugpy.stdin is not None and self.debugpy.stdout is not None
        self.parent = Peer(
            "debugpy", self.debugpy.stdout, self.debugpy.stdin, self._on_parent, self._parent_closed
        )
        self.parent.start()
        if self.release.legacy:
            self._listen_for_instances()
        self.parent.request("initialize", self._initialize_arguments())
        self.parent.request("launch", self._debugpy_launch(), lambda response: self._relay(request, response))
        self.watcher.start()

    def _initialize_arguments(self) -> Dict[str, Any]:
        arguments = dict(self.adapter.initialize_args)
        arguments.update(
            adapterID="functiongraph",
            supportsRunInTerminalRequest=False,
            supportsStartDebuggingRequest=False,  # we want debugpyAttach events, handled here
        )
        arguments.setdefault("clientID", "functiongraph")
        arguments.setdefault("linesStartAt1", True)
        arguments.setdefault("columnsStartAt1", True)
        arguments.setdefault("pathFormat", "path")
        return arguments

    def _debugpy_launch(self) -> Dict[str, Any]:
        config = self.plan.config
        env = self.invocation.env()
        # An instance forked from the debugged supervisor (the function's interpreter is the tools'
        # own) never stops on an uncaught exception: debugged instances are spawned, as on every
        # other interpreter.
        env["FGLOCAL_START_METHOD"] = "spawn"
        if self.release.legacy:
            env.update(self._legacy_env())
        return {
            "name": "FunctionGraph %s" % config.handler,
            "type": "python",
            "request": "launch",
            "python": [self.plan.python],
            "module": "fglocal",
            "args": self.invocation.args,
            "cwd": self.invocation.cwd,
            "env": env,
            "console": "internalConsole",
            # With debugpy 1.5.1 the instances announce themselves (see _listen_for_instances).
            "subProcess": not self.release.legacy,
            "justMyCode": self.plan.just_my_code,
            "rules": self.invocation.rules(),
            "showReturnValue": True,
            # The function's output is followed in its log files (see SideChannels), which also
            # catch C-level writes and child processes; pydevd's copy would show it twice.
            "redirectOutput": False,
        }

    # -- instances debugged with debugpy 1.5.1 (Python 2.7/3.6) ---------------------------------
    def _legacy_env(self) -> Dict[str, str]:
        """What debuggee_boot.py needs to attach an instance of this runtime with debugpy 1.5.1."""
        assert self.announcements is not None
        host, port = self.announcements.getsockname()[:2]
        return {
            debuggee_boot.DEBUGPY_ENV: self.release.folder,
            debuggee_boot.ANNOUNCE_ENV: "%s:%d" % (host, port),
            debuggee_boot.ADAPTER_PYTHON_ENV: sys.executable,
            debuggee_boot.SESSION_ENV: str(self.invocation.workdir),
        }

    def _listen_for_instances(self) -> None:
        self.announcements = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept_announcements, name="announcements", daemon=True).start()

    def _accept_announcements(self) -> None:
        listener = self.announcements
        assert listener is not None
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed: the session is over
            with connection:
                connection.settimeout(30)
                try:
                    line = connection.makefile("rb").readline(4096)
                    info = json.loads(line.decode("utf-8"))
                    pid, host, port = int(info["pid"]), str(info["host"]), int(info["port"])
                except (OSError, ValueError, KeyError, TypeError):
                    continue  # not an instance of ours
            self.adapter.post(lambda p=pid, h=host, n=port: self._announced(p, h, n))

    def _announced(self, pid: int, host: str, port: int) -> None:
        """An instance runs debugpy 1.5.1's adapter at host:port: attach to it as to a followed one."""
        if self.closed:
            return
        launch = self._debugpy_launch()
        body = {key: launch[key] for key in ("name", "type", "justMyCode", "rules", "showReturnValue")}
        body.update(
            request="attach",
            # No subProcessId: this adapter serves this one process, and waits for it to register
            # (with an id, it answers "no such process" while pydevd is still registering).
            connect={"host": host, "port": port},
            subProcess=False,
            redirectOutput=False,
        )
        self._attach(body, nested=False, pid=pid)

    # -- client requests ------------------------------------------------------------------------
    def client_request(self, request: Message) -> None:
        """Route one editor request to the instance session (or the supervisor's, before one exists)."""
        command = request.get("command", "")
        assert self.parent is not None
        if command in _CONFIG_REQUESTS:
            self._configure(request)
        elif command == "configurationDone":
            self.parent.request(
                command, request.get("arguments"), lambda response: self._relay(request, response)
            )
        elif self.active is not None and not self.active.peer.closed.is_set():
            relay = self._relay_threads if command == "threads" else self._relay
            if command in _RESUMING:
                self._resumed()
                relay = self._relay_resumed
            self.active.peer.request(
                command, request.get("arguments"), lambda response: relay(request, response)
            )
        elif command == "threads":
            self.client.respond(request, {"threads": []})
        elif command == "pause":
            self.client.respond(request)
        else:
            self.client.respond(request, error="the function is not running at the moment")

    def _configure(self, request: Message) -> None:
        command = request["command"]
        arguments = dict(request.get("arguments") or {})
        key = command
        if command == "setBreakpoints":
            source = arguments.get("source") or {}
            key = "%s:%s" % (command, source.get("path") or source.get("sourceReference"))
        self.config_requests[key] = {"command": command, "arguments": arguments}
        assert self.parent is not None
        # The editor gets the answer of the session it is looking at: the instance once there is
        # one (the supervisor never runs user code, so it needs no breakpoints after that).
        targets = [i.peer for i in self.instances if i.configured and not i.nested]
        if self.active is None:
            targets.insert(0, self.parent)
        else:
            targets.remove(self.active.peer)
            targets.insert(0, self.active.peer)
        for index, peer in enumerate(targets):
            callback = (lambda response: self._relay(request, response, trim=True)) if index == 0 else None
            is_parent = peer is self.parent
            peer.request(command, self._for_debugpy(command, arguments, instance=not is_parent), callback)

    def _for_debugpy(self, command: str, arguments: Dict[str, Any], instance: bool) -> Dict[str, Any]:
        arguments = dict(arguments)
        if command == "setExceptionBreakpoints":
            filters = list(arguments.get("filters") or [])
            # The runtime catches every exception of the handler to report it, so "uncaught" alone
            # would never stop: an exception leaving the user's code for the runtime is uncaught.
            if "uncaught" in filters and "userUnhandled" not in filters:
                filters.append("userUnhandled")
            arguments["filters"] = filters
        elif command == "setFunctionBreakpoints" and instance and self.plan.stop_on_entry:
            arguments["breakpoints"] = list(arguments.get("breakpoints") or []) + self._entry_breakpoints()
        return arguments

    def _entry_breakpoints(self) -> List[Dict[str, Any]]:
        return [{"name": entry.rpartition(".")[2]} for entry in self.plan.entries]

    def _relay(self, request: Message, response: Message, trim: bool = False) -> None:
        """Answer the editor's ``request`` with debugpy's ``response``."""
        answer: Message = {
            "type": "response",
            "request_seq": request.get("seq", 0),
            "command": request.get("command"),
            "success": bool(response.get("success")),
        }
        if "message" in response:
            answer["message"] = response["message"]
        if "body" in response:
            answer["body"] = response["body"]
        if trim and request.get("command") == "setFunctionBreakpoints" and "body" in response:
            wanted = len((request.get("arguments") or {}).get("breakpoints") or [])
            body = dict(response["body"])
            body["breakpoints"] = list(body.get("breakpoints") or [])[:wanted]
            answer["body"] = body
        self.client.send(answer)

    def _relay_resumed(self, request: Message, response: Message) -> None:
        # The function may run to its end, and its instance be closed, before the answer to the
        # resuming request leaves it (seen with debugpy 1.5.1): it did resume, so say so.
        if response.get("_closed"):
            response = {"success": True}
        self._relay(request, response)

    def _relay_threads(self, request: Message, response: Message) -> None:
        # The instance's main thread only runs the runtime's request loop once your code is
        # imported (handlers run on the runtime's call thread): hide it unless it is the one
        # stopped (a breakpoint in module-level code stops there).
        threads = (response.get("body") or {}).get("threads")
        if response.get("success") and isinstance(threads, list):
            shown = [
                t for t in threads if t.get("name") != "MainThread" or t.get("id") == self.stopped_thread
            ]
            response = dict(response, body={"threads": shown or threads})
        self._relay(request, response)

    # -- supervisor (debugpy's launch session) --------------------------------------------------
    def _on_parent(self, peer: Peer, message: Message) -> None:
        self.adapter.post(lambda: self._parent_message(peer, message))

    def _parent_message(self, peer: Peer, message: Message) -> None:
        received = event_of(peer, message)
        if received is None:
            return
        event, body = received
        if event == "initialized":
            self.client.send_event("initialized")
        elif event == "output":
            if body.get("category") in _PARENT_OUTPUT:
                self.client.send_event("output", body)
        elif event == "process":
            self.supervisor_pid = body.get("systemProcessId")
            self.client.send_event("process", dict(body, name="FunctionGraph %s" % self.plan.config.handler))
        elif event == "stopped":
            # Only the runtime runs here; it is not the user's to step through.
            peer.request("continue", {"threadId": body.get("threadId")})
        elif event == "debugpyAttach":
            self._attach(body, nested=False)
        elif event == "exited":
            self._flush_output()
            self.client.send_event("exited", body)
        elif event == "terminated":
            self._end()

    def _parent_closed(self, _peer: Peer) -> None:
        self.adapter.post(self._end)

    def _end(self) -> None:
        if self.closed:
            return
        self._flush_output()
        self.adapter.send_terminated()
        self.shutdown()

    # -- instances ------------------------------------------------------------------------------
    def _attach(self, body: Dict[str, Any], nested: bool, pid: int = 0) -> None:
        connect = body.get("connect") or {}
        pid = pid or int(body.get("subProcessId") or 0)
        try:
            sock = socket.create_connection(
                (connect.get("host", "127.0.0.1"), int(connect["port"])), timeout=30
            )
        except (OSError, KeyError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "debugpy sent no port"
            self.adapter.output(
                "stderr",
                "could not attach to the function's process %s: %s\n" % (pid, why or "no connection"),
            )
            return
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = sock.makefile("rwb")
        instance: Optional[_Instance] = None

        def on_message(_peer: Peer, message: Message) -> None:
            assert instance is not None
            self.adapter.post(lambda: self._instance_message(instance, message))

        def on_close(_peer: Peer) -> None:
            assert instance is not None
            self.adapter.post(lambda: self._instance_gone(instance))

        instance = _Instance(Peer("instance-%d" % pid, stream, stream, on_message, on_close), pid, nested)
        self.instances.append(instance)
        instance.peer.start()
        instance.peer.request("initialize", self._initialize_arguments())
        instance.peer.request("attach", body)

    def _instance_message(self, instance: _Instance, message: Message) -> None:
        received = event_of(instance.peer, message)
        if received is None:
            return
        event, body = received
        if event == "initialized":
            self._configure_instance(instance)
        elif event == "debugpyAttach":
            self._attach(body, nested=True)
        elif instance.nested:
            if event == "output" and body.get("category") != "telemetry":
                self.client.send_event("output", body)
        elif event == "stopped":
            if self.plan.stop_on_entry and body.get("reason") == "function breakpoint":
                body = dict(body, reason="entry", description="Paused on entry")
            self.stopped_thread = body.get("threadId")
            self._paused()
            self.client.send_event("stopped", body)
        elif event == "continued":
            self._resumed()
            self.client.send_event("continued", body)
        elif event == "thread":
            thread_id = int(body.get("threadId") or 0)
            if body.get("reason") == "started" and thread_id not in instance.threads:
                instance.threads.append(thread_id)
            self.client.send_event("thread", body)
        elif event == "output":
            if body.get("category") != "telemetry":
                self.client.send_event("output", body)
        elif event in ("exited", "terminated", "process", "debugpyWaitingForServer", "debugpySockets"):
            pass  # an instance ending is not the session ending (a timeout starts a fresh one)
        else:
            self.client.send(dict(message))

    def _configure_instance(self, instance: _Instance) -> None:
        if not instance.nested:
            requests = list(self.config_requests.values())
            if self.plan.stop_on_entry and "setFunctionBreakpoints" not in self.config_requests:
                requests.append({"command": "setFunctionBreakpoints", "arguments": {"breakpoints": []}})
            for item in requests:
                instance.peer.request(
                    item["command"], self._for_debugpy(item["command"], item["arguments"], True)
                )
            self.active = instance
        instance.configured = True
        instance.peer.request("configurationDone", {})

    def _instance_gone(self, instance: _Instance) -> None:
        if instance in self.instances:
            self.instances.remove(instance)
        for thread_id in instance.threads:
            self.client.send_event("thread", {"reason": "exited", "threadId": thread_id})
        if self.active is instance:
            self.active = None
            self._resumed()

    # -- the clock ------------------------------------------------------------------------------
    def _paused(self) -> None:
        if not self.paused and self.supervisor_pid:
            self.paused = True
            signal_pid(self.supervisor_pid, signal.SIGUSR1)

    def _resumed(self) -> None:
        self.stopped_thread = None
        if self.paused and self.supervisor_pid:
            self.paused = False
            signal_pid(self.supervisor_pid, signal.SIGUSR2)

    # -- the end --------------------------------------------------------------------------------
    def _kill(self) -> None:
        if self.announcements is not None:
            self.announcements.close()
        roots = [i.pid for i in self.instances]
        # debugpy 1.5.1's adapters, started by the instances: they run detached from them.
        roots += marked_processes(debuggee_boot.SESSION_ENV, str(self.invocation.workdir))
        if self.supervisor_pid:
            roots.append(self.supervisor_pid)
        if self.debugpy is not None:
            roots.insert(0, self.debugpy.pid)
        kill_trees(roots)
        if self.debugpy is not None:
            try:
                self.debugpy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for peer in [self.parent] + [i.peer for i in self.instances]:
            if peer is not None:
                peer.close()


def function_version(plan: LaunchPlan) -> Tuple[int, int]:
    """The (major, minor) version of the interpreter the function runs on."""
    if plan.interpreter is None:
        return sys.version_info[0], sys.version_info[1]
    return plan.interpreter.version[0], plan.interpreter.version[1]
