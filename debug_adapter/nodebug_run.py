"""A run without the debugger (``noDebug``, Ctrl+F5): the same ``fglocal invoke``, the same output."""

from __future__ import annotations

import os
import subprocess
import threading
from typing import IO, Any, Optional

from debug_adapter.launch_config import LaunchPlan
from debug_adapter.processes import kill_trees
from debug_adapter.run import Run
from debug_adapter.wire import Message


class NoDebugRun(Run):
    """Runs ``python -m fglocal invoke`` as a plain child process and reports like a debug run."""

    def __init__(self, adapter: Any, plan: LaunchPlan) -> None:
        super().__init__(adapter, plan)
        self.process: Optional[subprocess.Popen[bytes]] = None

    def launch(self, request: Message) -> None:
        """Answer the launch, then start the function once the editor is configured."""
        self.adapter.client.respond(request)
        self.adapter.client.send_event("initialized")

    def client_request(self, request: Message) -> None:
        """Answer the editor's requests: there is nothing to inspect without a debugger."""
        command = request.get("command")
        client = self.adapter.client
        if command == "configurationDone":
            client.respond(request)
            self._start()
        elif command == "threads":
            client.respond(request, {"threads": []})
        elif command in ("setBreakpoints", "setFunctionBreakpoints"):
            breakpoints = (request.get("arguments") or {}).get("breakpoints") or []
            client.respond(request, {"breakpoints": [{"verified": False} for _ in breakpoints]})
        elif command in ("setExceptionBreakpoints", "pause"):
            client.respond(request)
        else:
            client.respond(request, error="'%s' is not available when running without debugging" % command)

    def _start(self) -> None:
        env = dict(os.environ)
        env.update(self.invocation.env())
        self.process = subprocess.Popen(
            [self.plan.python, "-m", "fglocal", *self.invocation.args],
            cwd=self.invocation.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.adapter.client.send_event(
            "process",
            {
                "name": "FunctionGraph %s" % self.plan.config.handler,
                "systemProcessId": self.process.pid,
                "isLocalProcess": True,
                "startMethod": "launch",
            },
        )
        self.watcher.start()
        assert self.process.stdout is not None and self.process.stderr is not None
        # stdout carries the --json lines, which the result file also has: read and drop them.
        threading.Thread(target=self._pump, args=(self.process.stdout, None), daemon=True).start()
        stderr = threading.Thread(target=self._pump, args=(self.process.stderr, "stderr"), daemon=True)
        stderr.start()
        threading.Thread(target=self._wait, args=(self.process, stderr), daemon=True).start()

    def _pump(self, stream: IO[bytes], category: Optional[str]) -> None:
        for line in iter(stream.readline, b""):
            if category:
                self.adapter.output(category, line.decode("utf-8", "replace"))
        stream.close()

    def _wait(self, process: subprocess.Popen[bytes], stderr: threading.Thread) -> None:
        code = process.wait()
        stderr.join()
        self.adapter.post(lambda: self._exited(code))

    def _exited(self, code: int) -> None:
        if self.closed:
            return
        self._flush_output()
        self.adapter.client.send_event("exited", {"exitCode": code})
        self.adapter.send_terminated()
        self.shutdown()

    def _kill(self) -> None:
        if self.process is not None:
            kill_trees([self.process.pid])
            self.process.wait()
