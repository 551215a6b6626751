"""A function's test events (``<function folder>/events/*.json``), read off the request loop and cached.

Only regular files, at most ``MAX_FILES`` of at most ``MAX_BYTES`` each; a file that is not JSON is
skipped. The cache is dropped when watched files change (``workspace/didChangeWatchedFiles``) or a
JSON document is saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from fglocal.safe_read import UnreadableFile, read_text
from server.analysis.event_keys import FunctionEvents

EVENTS_DIR = "events"
MAX_FILES = 100
MAX_BYTES = 1_000_000
log = logging.getLogger(__name__)  # stderr: the client's output channel for the server process


def read_events(folder: Path) -> Tuple[Tuple[str, str, Any], ...]:
    """``(absolute path, label, parsed value)`` of each test event of the function at ``folder``."""
    directory = folder / EVENTS_DIR
    try:
        with os.scandir(directory) as it:
            names = sorted(
                e.name for e in it if e.name.endswith(".json") and e.is_file(follow_symlinks=False)
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
        self._cache: Dict[Path, Tuple[Tuple[str, str, Any], ...]] = {}
        self._loading: Dict[Path, asyncio.Future[Tuple[Tuple[str, str, Any], ...]]] = {}
        # What events() answers, per folder and selection, with the files it was made of: one object
        # per load, so that what is derived from them (FunctionEvents' key rows) is computed once.
        self._answers: Dict[Tuple[Path, Tuple[Tuple[str, str], ...]], Tuple[Any, FunctionEvents]] = {}

    def clear(self) -> None:
        """Forget every folder's events (files changed); a read under way is not kept."""
        self._cache.clear()
        self._loading.clear()
        self._answers.clear()

    def prefetch(self, folder: Path) -> None:
        """Start reading ``folder``'s events on a worker thread (when a document of it opens)."""
        if folder not in self._cache:
            self._load(folder)

    def _load(self, folder: Path) -> asyncio.Future[Tuple[Tuple[str, str, Any], ...]]:
        pending = self._loading.get(folder)
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(None, read_events, folder)
            self._loading[folder] = pending

            def store(done: asyncio.Future[Tuple[Tuple[str, str, Any], ...]]) -> None:
                if self._loading.get(folder) is done:
                    self._loading.pop(folder, None)
                    if not done.cancelled() and done.exception() is None:
                        self._cache[folder] = done.result()

            pending.add_done_callback(store)
        return pending

    async def events(self, folder: Path, selections: Sequence[Tuple[str, str]]) -> FunctionEvents:
        """The events of ``folder`` and the selected one among them (from the client's ``testEvents``)."""
        files = self._cache.get(folder)
        if files is None:
            files = await asyncio.shield(self._load(folder))
        key = (folder, tuple(selections))
        cached = self._answers.get(key)
        if cached is not None and cached[0] is files:
            return cached[1]
        answer = FunctionEvents(
            tuple((label, value) for _, label, value in files), _selected(files, selections)
        )
        self._answers[key] = (files, answer)
        return answer


def _selected(files: Sequence[Tuple[str, str, Any]], selections: Sequence[Tuple[str, str]]) -> Optional[str]:
    by_path = {path: label for path, label, _ in files}
    for _folder, file in selections:
        label = by_path.get(os.path.realpath(file))
        if label is not None:
            return label
    return None
