"""A function's test events (``<function folder>/events/*.json``), read off the request loop and cached.

Only regular files, at most ``MAX_FILES`` of at most ``MAX_BYTES`` each; a file that is not JSON is
skipped. The cache is dropped when watched files change (``workspace/didChangeWatchedFiles``, which
VS Code sends for ``events/*.json``) or a JSON document is saved. For clients that send neither
(and files changed by other programs), a request for the events also checks, at most once every
``RECHECK_SECONDS`` per folder and off the loop, whether the names, sizes or modification times of
the folder's ``events/*.json`` changed since they were read; if so they are read again, and the
requests after that read see the new events (the one that noticed the change still gets the old).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Set, Tuple

from fglocal.contract import EVENTS_DIR, is_test_event_file
from fglocal.safe_read import UnreadableFile, read_text
from server.analysis.event_keys import FunctionEvents

MAX_FILES = 100
MAX_BYTES = 1_000_000
RECHECK_SECONDS = 1.0
log = logging.getLogger(__name__)  # stderr: the client's output channel for the server process
Files = Tuple[Tuple[str, str, Any], ...]
Signature = Tuple[Tuple[str, int, int], ...]


def events_signature(folder: Path) -> Signature:
    """``(name, mtime in ns, size)`` of each file :func:`read_events` would read (what changes it)."""
    found = []
    try:
        with os.scandir(folder / EVENTS_DIR) as it:
            for entry in it:
                if is_test_event_file(entry.name) and entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    found.append((entry.name, stat.st_mtime_ns, stat.st_size))
    except OSError:
        return ()
    return tuple(sorted(found))


def _read(folder: Path) -> Tuple[Signature, Files]:
    """The signature (taken first: a change while reading shows next time) and the events."""
    return events_signature(folder), read_events(folder)


def read_events(folder: Path) -> Tuple[Tuple[str, str, Any], ...]:
    """``(absolute path, label, parsed value)`` of each test event of the function at ``folder``."""
    directory = folder / EVENTS_DIR
    try:
        with os.scandir(directory) as it:
            names = sorted(
                e.name for e in it if is_test_event_file(e.name) and e.is_file(follow_symlinks=False)
            )
    except OSError:
        return ()
    found = []
    for name in names[:MAX_FILES]:
        path = directory / name
        try:  # bounded in size and time: a FIFO or a stuck mount never holds the request up
            value = json.loads(read_text(path, MAX_BYTES))
        except UnreadableFile as exc:
            log.warning("functiongraph: test event skipped: %s", exc)
            continue
        except (ValueError, RecursionError):
            log.warning("functiongraph: test event skipped: %s is not valid JSON", path)
            continue
        found.append((os.path.realpath(path), "%s/%s" % (EVENTS_DIR, name), value))
    return tuple(found)


class EventStore:
    """Test events per function folder, loaded on a worker thread the first time they are needed."""

    def __init__(self) -> None:
        self._cache: Dict[Path, Tuple[Signature, Files]] = {}
        self._loading: Dict[Path, asyncio.Future[Tuple[Signature, Files]]] = {}
        # What events() answers, per folder and selection, with the files it was made of: one object
        # per load, so that what is derived from them (FunctionEvents' key rows) is computed once.
        self._answers: Dict[Tuple[Path, Tuple[Tuple[str, str], ...]], Tuple[Files, FunctionEvents]] = {}
        self._checked: Dict[Path, float] = {}  # loop time of the last read or check, per folder
        self._checking: Set[Path] = set()
        self._generation = 0  # bumped by clear(): a check started before it is dropped

    def clear(self) -> None:
        """Forget every folder's events (files changed); a read under way is not kept."""
        self._generation += 1
        self._cache.clear()
        self._loading.clear()
        self._answers.clear()

    def prefetch(self, folder: Path) -> None:
        """Start reading ``folder``'s events on a worker thread (when a document of it opens)."""
        if folder not in self._cache:
            self._load(folder)

    def _load(self, folder: Path) -> asyncio.Future[Tuple[Signature, Files]]:
        pending = self._loading.get(folder)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(None, _read, folder)
            self._loading[folder] = pending

            def store(done: asyncio.Future[Tuple[Signature, Files]]) -> None:
                if self._loading.get(folder) is done:
                    self._loading.pop(folder, None)
                    if not done.cancelled() and done.exception() is None:
                        self._cache[folder] = done.result()
                        self._checked[folder] = loop.time()

            pending.add_done_callback(store)
        return pending

    def _recheck(self, folder: Path, signature: Signature) -> None:
        """Check off the loop (at most every RECHECK_SECONDS) whether the folder's events changed."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if (
            folder in self._checking
            or now - self._checked.get(folder, now - RECHECK_SECONDS) < RECHECK_SECONDS
        ):
            return
        self._checked[folder] = now
        self._checking.add(folder)
        generation = self._generation
        checking = loop.run_in_executor(None, events_signature, folder)

        def compare(done: asyncio.Future[Signature]) -> None:
            self._checking.discard(folder)
            if done.cancelled() or done.exception() is not None or generation != self._generation:
                return
            cached = self._cache.get(folder)
            if cached is not None and cached[0] == signature and done.result() != signature:
                del self._cache[folder]
                self._load(folder)  # the requests from now on wait for the new events

        checking.add_done_callback(compare)

    async def events(self, folder: Path, selections: Sequence[Tuple[str, str]]) -> FunctionEvents:
        """The events of ``folder`` and the selected one among them (from the client's ``testEvents``)."""
        cached = self._cache.get(folder)
        if cached is None:
            cached = await asyncio.shield(self._load(folder))
        else:
            self._recheck(folder, cached[0])
        files = cached[1]
        key = (folder, tuple(selections))
        answer = self._answers.get(key)
        if answer is not None and answer[0] is files:
            return answer[1]
        events = FunctionEvents(
            tuple((label, value) for _, label, value in files), _selected(files, selections)
        )
        self._answers[key] = (files, events)
        return events


def _selected(files: Sequence[Tuple[str, str, Any]], selections: Sequence[Tuple[str, str]]) -> Optional[str]:
    by_path = {path: label for path, label, _ in files}
    for _folder, file in selections:
        label = by_path.get(os.path.realpath(file))
        if label is not None:
            return label
    return None
