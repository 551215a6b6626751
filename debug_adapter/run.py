"""What every run of a function has, with or without the debugger: its invocation, output and end."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from debug_adapter.invocation import Invocation, SideChannels
from debug_adapter.launch_config import LaunchPlan
from debug_adapter.peer import Peer
from debug_adapter.wire import Message


class Run:
    """One launch: the prepared ``fglocal invoke``, its side channels, and cleaning up after it."""

    def __init__(self, adapter: Any, plan: LaunchPlan) -> None:
        self.adapter = adapter
        self.client: Peer = adapter.client
        self.plan = plan
        self.invocation = Invocation(plan)
        self.watcher = SideChannels(
            self.invocation.result_file, self.invocation.log_dir, self._show_result, self._show_log
        )
        self.closed = False

    def launch(self, request: Message) -> None:
        """Start the run for the editor's ``launch`` request."""
        raise NotImplementedError

    def client_request(self, request: Message) -> None:
        """Answer an editor request the session itself does not handle."""
        raise NotImplementedError

    def _show_result(self, result: Dict[str, Any]) -> None:
        self.adapter.show_result(result, self.plan.repeat)

    def _show_log(self, text: str) -> None:
        self.adapter.output("stdout", text)

    def _flush_output(self) -> None:
        """Show what the function wrote and returned so far (before the end is announced)."""
        self.watcher.stop()
        self.watcher.drain()

    def shutdown(self) -> None:
        """Kill every process of the run and remove its files (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.watcher.stop()
        self._kill()
        self.invocation.close()

    def _kill(self) -> None:
        raise NotImplementedError


def event_of(peer: Peer, message: Message) -> Optional[Tuple[str, Dict[str, Any]]]:
    """The (name, body) of an event from debugpy; reverse requests are refused (we asked for none)."""
    if message.get("type") == "request":
        peer.respond(message, error="not supported")
        return None
    if message.get("type") != "event":
        return None
    return str(message.get("event")), message.get("body") or {}
