"""Ending the debug session's process trees: signal and kill them all (the tree walk is fglocal.proctree's)."""

from __future__ import annotations

import os
import signal
import time
from typing import Iterable, List, Set

from fglocal.proctree import all_pids, descendants, stat


def marked_processes(name: str, value: str) -> List[int]:
    """Living processes (of ours) whose environment has ``name=value``: detached ones too."""
    marker = ("%s=%s" % (name, value)).encode()
    found: List[int] = []
    for pid in all_pids():
        try:
            with open("/proc/%d/environ" % pid, "rb") as environ:
                if marker in environ.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def signal_pid(pid: int, signum: int) -> bool:
    """Send ``signum`` to ``pid``; False when it is gone."""
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_trees(roots: Iterable[int]) -> None:
    """SIGKILL ``roots``, all their descendants and their process groups (never our own group)."""
    own_group = os.getpgrp()
    victims: Set[int] = set()
    for root in roots:
        if root and root != os.getpid():
            victims.add(root)
            victims.update(descendants(root))
    victims.discard(os.getpid())
    groups: Set[int] = set()
    for pid in victims:
        try:
            groups.add(os.getpgid(pid))
        except OSError:
            pass
    # Stop everything first so nothing forks a new child between the scan and the kill.
    for pid in victims:
        signal_pid(pid, signal.SIGSTOP)
    # Anything forked between the scan and the SIGSTOP is still our descendant: take it too.
    for root in list(victims):
        victims.update(descendants(root))
    for group in groups - {own_group, 0, 1}:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    for pid in victims:
        signal_pid(pid, signal.SIGKILL)
    _wait_dead(victims)


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has ended, only unreaped)."""
    info = stat(pid)
    return info is not None and info[3] not in ("Z", "X")


def _wait_dead(pids: Set[int], limit: float = 10.0) -> None:
    # SIGKILL is delivered asynchronously; answer the editor only once the processes are gone.
    deadline = time.monotonic() + limit
    remaining = set(pids)
    while remaining and time.monotonic() < deadline:
        remaining = {pid for pid in remaining if is_running(pid)}
        if remaining:
            time.sleep(0.01)
