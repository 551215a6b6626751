"""Helpers shared by the debug adapter tests: fixture paths, ``# @bp`` markers, process checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, List

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "debug"
HELLO = FIXTURES / "hello"
HELLO_INDEX = HELLO / "index.py"
CONFIGURED = FIXTURES / "configured"


def bp(path: Path, tag: str) -> int:
    """The line number marked ``# @bp <tag>`` in ``path``."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.rstrip().endswith("# @bp " + tag):
            return number
    raise AssertionError("no '# @bp %s' in %s" % (tag, path))


def _stat(pid: int) -> List[str]:
    with open("/proc/%d/stat" % pid, "rb") as stat:
        data = stat.read().decode(errors="replace")
    return data[data.rfind(")") + 2 :].split()


def descendants(pid: int) -> List[int]:
    """Living descendants of ``pid``, found by scanning /proc."""
    children: dict = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                children.setdefault(int(_stat(int(name))[1]), []).append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    found: List[int] = []
    frontier = [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child)
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return _stat(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def living(pids: Iterable[int]) -> List[int]:
    """The pids of ``pids`` that still run."""
    return [pid for pid in pids if alive(pid)]


def listening_addresses(pids: Iterable[int]) -> List[str]:
    """The local addresses ('ip:port') of TCP sockets in LISTEN state held by ``pids``."""
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                lines = rows.read().splitlines()[1:]
        except OSError:
            continue
        for row in lines:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(_address(fields[1]))
    return found


def _address(hex_address: str) -> str:
    ip_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(ip_hex)
    # /proc stores each 32-bit word in host (little-endian) order.
    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
    data = b"".join(words)
    if len(data) == 4:
        ip = ".".join(str(b) for b in data)
    else:
        import ipaddress

        ip = str(ipaddress.IPv6Address(data))
    return "%s:%d" % (ip, int(port_hex, 16))
