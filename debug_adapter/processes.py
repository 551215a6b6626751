"""Process trees on Linux/POSIX without third-party help: find descendants, signal, kill them all."""

from __future__ import annotations

import os
import signal
import time
from typing import Dict, Iterable, List, Set


def _parents() -> Dict[int, int]:
    """Map every visible pid to its parent pid, read from /proc."""
    result: Dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return result
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as stat:
                data = stat.read()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may contain spaces.
        rest = data[data.rfind(b")") + 2 :].split()
        if len(rest) > 1:
            result[int(name)] = int(rest[1])
    return result


def descendants(pid: int) -> List[int]:
    """All living descendants of ``pid`` (children first found, then theirs)."""
    parents = _parents()
    children: Dict[int, List[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found: List[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child in children.get(current, ()):
            if child not in found:
                found.append(child)
                frontier.append(child)
    return found


def marked_processes(name: str, value: str) -> List[int]:
    """Living processes (of ours) whose environment has ``name=value``: detached ones too."""
    marker = ("%s=%s" % (name, value)).encode()
    found: List[int] = []
    for pid in _parents():
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
    try:
        with open("/proc/%d/stat" % pid, "rb") as stat:
            data = stat.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2 : data.rfind(b")") + 3] != b"Z"


def _wait_dead(pids: Set[int], limit: float = 10.0) -> None:
    # SIGKILL is delivered asynchronously; answer the editor only once the processes are gone.
    deadline = time.monotonic() + limit
    remaining = set(pids)
    while remaining and time.monotonic() < deadline:
        remaining = {pid for pid in remaining if is_running(pid)}
        if remaining:
            time.sleep(0.01)
