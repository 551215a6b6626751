"""An instance's whole process tree on Linux (from /proc): find every descendant, measure it, end it.

The platform runs an instance in a container: everything the function starts (a subprocess, a
daemon in a new session, a double fork) lives and dies with the instance and counts against its
memory. Locally the instance process is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so orphans
of its descendants are re-parented to it and the tree under it stays complete while it lives; the
supervisor is one too, so that what a crashed instance leaves behind comes to the supervisor
rather than to init, where it is found and ended. A cgroup would do the same, but creating one
needs privileges a developer's machine rarely grants, so /proc it is.
"""

from __future__ import annotations

import os

try:
    import _signal as signal
except ImportError:  # pragma: no cover - other Python implementations
    import signal  # type: ignore[no-redef]
import sys
import time

from fglocal._instance.fgruntime.channel import listed_children, proc_stat
from fglocal._instance.fgruntime.channel import read_proc as _read

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Tuple

LINUX = sys.platform.startswith("linux")
_PAGE_KB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) // 1024
_subreaper: Optional[bool] = None
# Instance processes alive in this supervisor (pid -> start time), never taken for a crashed one's leftovers.
LIVE_INSTANCES: Dict[int, int] = {}


def become_subreaper() -> bool:
    """Make this (the supervisor's) process adopt orphaned descendants, once; False where it cannot."""
    global _subreaper
    if _subreaper is None:
        from fglocal._instance.fgruntime.channel import set_child_subreaper

        _subreaper = LINUX and set_child_subreaper()
    return _subreaper


_children_files: Optional[bool] = None  # whether this kernel lists children per thread (probed once)


def children_files() -> bool:
    """True where ``/proc/PID/task/TID/children`` exists (Linux 3.5+ with CONFIG_PROC_CHILDREN)."""
    global _children_files
    if _children_files is None:
        _children_files = LINUX and listed_children(os.getpid()) is not None
    return _children_files


def stat(pid: int) -> Optional[Tuple[int, int, int, str]]:
    """(ppid, session id, start time in clock ticks, state letter) of ``pid``; None when it is gone.

    The fields are the instance side's parse of /proc/PID/stat (``channel.proc_stat``), the one there is.
    """
    fields = proc_stat(pid)
    if fields is None:
        return None
    try:
        return int(fields[1]), int(fields[3]), int(fields[19]), fields[0].decode("ascii", "replace")
    except ValueError:
        return None


def all_pids() -> List[int]:
    """Every visible process ID (a listing of /proc; empty where there is none)."""
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _newest_pid() -> int:
    """The most recently handed-out pid (/proc/loadavg's last field); -1 when unknown."""
    try:
        return int(_read("/proc/loadavg").split()[-1])
    except (OSError, ValueError, IndexError):
        return -1


def _parents() -> Dict[int, Tuple[int, int, int, str]]:
    """The stat of every process (a full scan: for a crashed instance's leftovers, off the hot path)."""
    table = {}
    for pid in all_pids():
        info = stat(pid)
        if info is not None:
            table[pid] = info
    return table


def descendants(root: int, table: Optional[Dict[int, Tuple[int, int, int, str]]] = None) -> List[int]:
    """Every process below ``root`` (a full scan of /proc unless ``table`` is given)."""
    table = _parents() if table is None else table
    children: Dict[int, List[int]] = {}
    for pid, info in table.items():
        children.setdefault(info[0], []).append(pid)
    found: List[int] = []
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        if pid == root or pid in found:
            continue
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def memory_kb(pid: int, proportional: bool) -> int:
    """Resident memory of ``pid`` in kB: its proportional share (PSS) of shared pages when asked."""
    if proportional:
        try:
            rollup = _read("/proc/%d/smaps_rollup" % pid)
            start = rollup.index(b"\nPss:") + 5
            return int(rollup[start : rollup.index(b"kB", start)])
        except (OSError, ValueError):
            pass  # no smaps_rollup (Linux < 4.14): resident size
    try:
        return int(_read("/proc/%d/statm" % pid).split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


class TreeWatch:
    """The descendants of one instance process, kept up to date cheaply enough to sample every few ms.

    Created before the instance process is: every pid handed out until then is outside its tree, so
    a scan reads the stat of younger processes it has not seen before only (a listdir of /proc, not
    a stat per process). A process once found in the tree stays in it (re-parenting never leaves the tree:
    orphans go to the instance, a subreaper). A pid can be reused only after the pid counter wraps:
    when it did (the newest pid went down) or may have (a second passed since the last scan), the
    processes outside the tree are looked at again.
    """

    STALE_SECONDS = 1.0
    REFRESH_SECONDS = 0.025

    def __init__(self) -> None:
        self.root = 0
        self._root_started = 0  # the root's start time, once walked (a reused pid is not walked)
        self._inside: Dict[int, int] = {}  # pid -> start time
        self._scanned = time.monotonic()
        if children_files():
            # The tree is walked down from the root's children files; the scan below is for a root
            # that is gone, and then looks at every process (it is a crash's clean-up, off the hot path).
            self._newest = self._floor = 0
            self._outside: set = set()
        else:
            # Pids up to the newest one handed out now belong to processes older than the tree. Reading
            # that one number (not listing /proc) keeps the cold start short; without it, list them.
            self._newest = self._floor = _newest_pid()
            self._outside = set() if self._floor >= 0 else set(all_pids())
        self._measured = 0.0  # when memory_mb last scanned the tree
        self._tree_mb = 0.0

    @property
    def last(self) -> Dict[int, int]:
        """Members (pid -> start time) found by the last scan, for a crash's leftovers."""
        return self._inside

    def members(self) -> Dict[int, int]:
        """Processes below the root now, zombies included (pid -> start time)."""
        walked = self._walk() if children_files() else None
        if walked is not None:
            self._inside = walked
            return walked
        return self._scan()

    def _walk(self) -> Optional[Dict[int, int]]:
        """The tree from the root's children files down (a read per member); None when the root is gone.

        Members of the last look that the walk no longer finds but that still exist (same start
        time) stay members, as with the scan: a process once in the tree belongs to it.
        """
        found: Dict[int, int] = {}
        root = stat(self.root) if self.root > 0 else None
        if root is None or self._root_started not in (0, root[2]):
            return None  # gone, or its pid reused: the scan keeps to what was seen
        self._root_started = root[2]
        stack = listed_children(self.root)
        if stack is None:
            return None
        while stack:
            pid = stack.pop()
            if pid in found or pid == self.root:
                continue
            info = stat(pid)
            if info is None:
                continue  # gone meanwhile
            found[pid] = info[2]
            stack.extend(listed_children(pid) or ())
        for pid, started in self._inside.items():
            if pid not in found:
                info = stat(pid)
                if info is not None and info[2] == started:
                    found[pid] = started
        return found

    def _scan(self) -> Dict[int, int]:
        """members() from a listing of /proc: the younger processes' stat, resolved up to the root."""
        pids = all_pids()
        newest = _newest_pid()
        now = time.monotonic()
        if newest < self._newest or now - self._scanned > self.STALE_SECONDS:
            # The pid counter may have wrapped: look at every process again.
            self._outside = set()
            self._floor = 0
        self._newest, self._scanned = newest, now
        present = set(pids)
        outside, inside = self._outside, self._inside
        for pid in [p for p in inside if p not in present]:
            del inside[pid]
        outside &= present
        fresh = {}
        floor = self._floor
        for pid in pids:
            if pid > floor and pid not in outside and pid not in inside and pid != self.root:
                info = stat(pid)
                if info is not None:
                    fresh[pid] = info

        def resolve(pid: int, depth: int = 0) -> bool:
            if pid in inside:
                return True
            if pid in outside or pid not in fresh:
                return False
            parent = fresh[pid][0]
            member = depth < 64 and (parent == self.root or resolve(parent, depth + 1))
            if member:
                inside[pid] = fresh[pid][2]
            else:
                outside.add(pid)
            return member

        for pid in fresh:
            resolve(pid)
        return inside

    def memory_mb(self) -> float:
        """Memory of the whole tree (root included) in MB, sampled cheaply enough to call every few ms.

        The root's resident size is read every call (one small file); the tree is scanned, and every
        member's proportional share (PSS: forked children share pages with their parent, counted once
        this way) summed, at most every REFRESH_SECONDS. Between scans the larger of the last tree
        total and the root's current size is the answer (the root's pages are all the container's).
        """
        root_mb = memory_kb(self.root, False) / 1024.0
        now = time.monotonic()
        if now - self._measured >= self.REFRESH_SECONDS:
            self._measured = now
            members = self.members()
            self._tree_mb = (
                sum(memory_kb(pid, True) for pid in [self.root, *members]) / 1024.0 if members else 0.0
            )
        return max(root_mb, self._tree_mb)


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def _signal_root(pidfd: int, sig: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, sig)  # type: ignore[attr-defined]
    except OSError:  # ended (and reaped) already
        pass


def end_tree(
    root: int, also: Iterable[int] = (), watch: Optional[TreeWatch] = None, pidfd: int = -1
) -> Tuple[List[int], bool]:
    """SIGKILL ``root`` and every process below it (and below the pids in ``also``).

    Returns what it killed and whether the root was still alive (if not, its orphans have gone to
    the nearest subreaper: see :func:`leftovers`). The root (a subreaper) is stopped first, so that
    everything orphaned meanwhile is re-parented to it and found by the next scan; the members are
    killed round after round until none is left alive, then the root. ``watch`` (the root's
    :class:`TreeWatch`) saves a full scan of /proc. The caller reaps the root; :func:`reap` waits
    for the rest. ``pidfd`` (a pidfd of the root, which is then not this process's child: the
    runtime server forked it) carries the root's signals, so that they can never reach a process
    that reused its pid once the server reaped it.
    """
    killed: List[int] = []
    roots = [pid for pid in (root, *also) if pid > 0]
    if pidfd >= 0:
        _signal_root(pidfd, signal.SIGSTOP)
        _signal_all(roots[1:], signal.SIGSTOP)
        import select

        root_alive = not select.select([pidfd], [], [], 0)[0]  # readable once the process has ended
    else:
        _signal_all(roots, signal.SIGSTOP)
        info = stat(root)
        root_alive = info is not None and info[3] not in ("Z", "X")
    for _ in range(200):  # each round kills everything found; a fork race adds a round, never more
        alive = []
        if watch is not None and not also:
            for pid, started in list(watch.members().items()):
                info = stat(pid)
                if info is not None and info[2] == started:  # not a reused pid
                    if info[3] not in ("Z", "X"):
                        alive.append(pid)
                    if pid not in killed:
                        killed.append(pid)
        else:
            table = _parents()
            for top in roots:
                for pid in descendants(top, table):
                    if table[pid][3] not in ("Z", "X") and pid not in roots:
                        alive.append(pid)
                    if pid not in killed:
                        killed.append(pid)
        if not alive:
            break
        _signal_all(alive, signal.SIGKILL)
    if pidfd >= 0:
        _signal_root(pidfd, signal.SIGKILL)
        _signal_all(roots[1:], signal.SIGKILL)
    else:
        _signal_all(roots, signal.SIGKILL)
    return roots + [pid for pid in killed if pid not in roots], root_alive


def reap(pids: Iterable[int], seconds: float = 2.0) -> None:
    """Wait for killed processes that have become this process's children (zombies), up to ``seconds``."""
    pending = [pid for pid in pids if pid > 0]
    deadline = time.monotonic() + seconds
    me = os.getpid()
    while pending:
        left = []
        for pid in pending:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                info = stat(pid)
                # Not our child: gone, or someone else's zombie (no subreaper here): nothing to wait for.
                if info is not None and info[3] != "Z" and info[0] != me:
                    left.append(pid)  # still being re-parented after its parent died
                elif info is not None and info[0] == me:
                    left.append(pid)
                continue
            if not done:
                left.append(pid)
        pending = left
        if not pending or time.monotonic() > deadline:
            return
        time.sleep(0.002)


def leftovers(root: int, root_started: int, last_seen: Dict[int, int]) -> List[int]:
    """Processes a crashed instance left behind (its orphans, re-parented to this subreaper).

    Those seen in its tree, those in its session (the instance leads its own session, so only its
    descendants are in it; zombies included, to be reaped), and this process's children started after
    it in another session than this process's (a daemon it started, the usual escape) that are not
    live instances. Assumption for the Python API: the host program's own children in new sessions
    started while an instance ran could be taken for the instance's; the CLI and serve start none.
    """
    me = os.getpid()
    own = stat(me)
    my_session = own[1] if own else -1
    found = []
    for pid in all_pids():
        if pid == root or pid in LIVE_INSTANCES:
            continue
        info = stat(pid)
        if info is None or info[2] < root_started:  # gone, or older than the instance (a reused pid)
            continue
        if (
            last_seen.get(pid) == info[2]
            or info[1] == root  # in the instance's own session: only its descendants can be
            or (info[0] == me and info[1] != my_session and info[3] not in ("Z", "X"))
        ):
            found.append(pid)
    return found
