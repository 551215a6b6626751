"""``fglocal events pull`` / ``push``: the console's test events of a function and ``events/*.json``.

An event named ``N`` in the console is the file ``events/N.json``. A small sync-state file,
``events/.fglocal-sync.json``, records for each name the digest of the content as last synced (and
the function's URN): a side is "changed" when its digest differs from that record. When both sides
changed since the last sync (or the two differ and there is no record), that is a conflict: reported,
never overwritten, unless ``--force`` says which side wins. Digests are of the canonical JSON, so
re-indenting a file is not a change. The platform's ``content`` is base64 of the event JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from fglocal.cloud.session import ALREADY_EXISTS, NOT_FOUND, Cloud, CloudError, DoneEarlier
from fglocal.contract import is_test_event_file

STATE_FILE = ".fglocal-sync.json"
# An event is at most 6 MB of JSON; leave room for indentation.
MAX_EVENT_FILE = 8 * 1024 * 1024
# Names that are safe file names (the console allows letters, digits, '-' and '_').
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def digest(data: bytes) -> str:
    """SHA-256 of the event's canonical JSON (sorted keys, no spaces); of the bytes when not JSON."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        pass
    return hashlib.sha256(data).hexdigest()


class EventsFolder:
    """``events/`` of a function folder and its sync state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_path = folder / STATE_FILE

    def local(self) -> Dict[str, bytes]:
        """Each ``events/<name>.json``: name -> bytes ``events/<name>.json`` (hidden files, the state among them, left out)."""
        from fglocal.safe_read import UnreadableFile, read_bytes

        found: Dict[str, bytes] = {}
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            if not is_test_event_file(path.name):
                continue
            try:
                data = read_bytes(path, MAX_EVENT_FILE)
            except UnreadableFile as exc:
                raise CloudError(f"cannot read {path}: {exc}") from None
            try:
                json.loads(data.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                raise CloudError(f"{path} is not a JSON event; fix it before syncing") from None
            found[path.stem] = data
        return found

    def read_state(self, urn: str) -> Dict[str, str]:
        """Each name's digest as last synced with ``urn`` ({} when never synced with it)."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(state, dict) or state.get("functionUrn") != urn:
            return {}
        events = state.get("events")
        return {k: v for k, v in events.items() if isinstance(v, str)} if isinstance(events, dict) else {}

    def write_state(self, urn: str, synced: Dict[str, str]) -> None:
        """Record ``synced`` (name -> digest) as the last sync with ``urn``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"functionUrn": urn, "events": dict(sorted(synced.items()))}, indent=2) + "\n"
        tmp = self.state_path.with_name(STATE_FILE + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(str(tmp), str(self.state_path))

    def write_event(self, name: str, data: bytes) -> None:
        """Write ``events/<name>.json`` (indented JSON when the content is JSON)."""
        try:
            value = json.loads(data.decode("utf-8-sig"))
            data = (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except (ValueError, UnicodeDecodeError):
            pass
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / (name + ".json")
        tmp = path.with_name("." + path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(str(tmp), str(path))

    def delete_event(self, name: str) -> None:
        """Remove ``events/<name>.json``."""
        (self.folder / (name + ".json")).unlink()


def remote_events(cloud: Cloud, urn: str) -> Dict[str, Tuple[str, bytes]]:
    """Each name's (event ID, content bytes) among the function's test events in the console."""
    from huaweicloudsdkfunctiongraph.v2 import ListEventsRequest, ShowEventRequest

    listed = cloud.call("list_events", ListEventsRequest(function_urn=urn), "listing the test events")
    # The SDK's ListEvents takes no marker: the list is all of them. Should the platform ever answer
    # with fewer than its count, an unlisted event would look deleted: stop before changing anything.
    if isinstance(listed.count, int) and listed.count > len(listed.events or []):
        raise CloudError(
            f"the console listed {len(listed.events or [])} of the function's {listed.count} test events; "
            "nothing was changed (an unlisted event would look deleted)",
            hint="sync the events in the console, or report this to the fglocal developers",
        )
    found: Dict[str, Tuple[str, bytes]] = {}
    for item in listed.events or []:
        shown = cloud.call(
            "show_event", ShowEventRequest(function_urn=urn, event_id=item.id), f"reading event {item.name}"
        )
        try:
            content = base64.b64decode(shown.content or "")
        except ValueError:
            content = (shown.content or "").encode("utf-8")
        found[item.name] = (item.id, content)
    return found


class SyncReport:
    """What a pull or push did, event by event (also what it had done when it failed)."""

    def __init__(self, urn: str = "") -> None:
        self.function_urn = urn
        self.actions: List[Tuple[str, str]] = []  # (name, action)
        self.conflicts: List[str] = []
        self.deleted: List[str] = []  # deleted on the other side by this command

    def add(self, name: str, action: str) -> None:
        """Record what happened to event ``name``."""
        self.actions.append((name, action))
        if action.startswith("conflict"):
            self.conflicts.append(name)
        elif action.startswith("deleted "):
            self.deleted.append(name)

    def to_json(self) -> Dict[str, Any]:
        """The ``--json`` object."""
        return {
            "functionUrn": self.function_urn,
            "events": [{"name": n, "action": a} for n, a in self.actions],
            "conflicts": self.conflicts,
            "deleted": self.deleted,
        }

    def done_so_far(self) -> str:
        """What was changed before a failure, in words ("" when nothing was)."""
        changed = [
            f"{name} {action}"
            for name, action in self.actions
            if action.startswith(("pulled", "pushed", "deleted"))
        ]
        return ", ".join(changed)


# The words of each outcome: (pull, push). The source side is the console for pull, events/ for push.
_COPIED_NEW = ("pulled (new)", "pushed (new)")
_COPIED = ("pulled (updated)", "pushed (updated)")
_DELETED = ("deleted locally (deleted in the console)", "deleted in the console (deleted locally)")
_TARGET_CHANGED = ("kept (changed locally: push it)", "kept (changed in the console: pull it)")
_TARGET_DELETED = (
    "kept (deleted locally: push to delete it in the console, or pull --force to restore it)",
    "kept (deleted in the console: pull to delete it locally, or push --force to restore it)",
)
_DELETE_CONFLICT = (
    "conflict (deleted in the console, changed locally)",
    "conflict (deleted locally, changed in the console)",
)


def decide(source: Optional[str], target: Optional[str], base: Optional[str], force: bool) -> str:
    """What a sync does with one event, from the digests of its source, its target and the last sync.

    None is "absent" (or, for ``base``, "never synced"). Returns ``copy``, ``delete``, ``in sync``,
    ``forget`` (gone from both sides), ``target changed``, ``conflict`` or ``skip``. An event never
    synced is never deleted, whatever ``force`` says; otherwise ``force`` lets the source side win
    wherever the two differ.
    """
    if source == target:
        return "in sync" if source is not None else "forget"
    if source is None and base is None:
        return "skip"  # only on the target side, never synced: not ours to delete
    if base is None:
        return "copy" if target is None or force else "conflict"
    if force or target == base:
        return "copy" if source is not None else "delete"
    if source == base:
        return "target changed"
    return "conflict"


def pull(cloud: Cloud, urn: str, events: EventsFolder, force: bool, report: SyncReport) -> None:
    """Bring the console's test events into ``events/``, deletions included; conflicts are reported."""
    report.function_urn = urn
    state = events.read_state(urn)
    local = events.local()
    remote = {name: content for name, (_, content) in remote_events(cloud, urn).items()}
    synced = dict(state)
    try:
        for name in sorted(set(remote) | set(local) | set(state)):
            if name in remote and not _NAME.match(name):
                report.add(name, "skipped: not a safe file name")
                continue
            source = digest(remote[name]) if name in remote else None
            target = digest(local[name]) if name in local else None
            done = decide(source, target, state.get(name), force)
            if done == "copy":
                events.write_event(name, remote[name])
            elif done == "delete":
                events.delete_event(name)
            _record(report, synced, name, done, source, target, 0)
    except OSError as exc:
        events.write_state(urn, synced)
        raise CloudError(f"cannot change {exc.filename or events.folder}: {exc.strerror or exc}") from None
    events.write_state(urn, synced)


def push(cloud: Cloud, urn: str, events: EventsFolder, force: bool, report: SyncReport) -> None:
    """Send ``events/*.json`` to the console's test events, deletions included; conflicts are reported."""
    from huaweicloudsdkfunctiongraph.v2 import (
        DeleteEventRequest,
        UpdateEventRequest,
        UpdateEventRequestBody,
    )

    report.function_urn = urn
    state = events.read_state(urn)
    local = events.local()
    remote = remote_events(cloud, urn)
    synced = dict(state)
    for name in sorted(set(remote) | set(local) | set(state)):
        source = digest(local[name]) if name in local else None
        target = digest(remote[name][1]) if name in remote else None
        done = decide(source, target, state.get(name), force)
        note = ""
        if done == "copy" and name not in remote:
            note = _create_event(cloud, urn, name, local[name])
        elif done == "copy":
            body = UpdateEventRequestBody(content=_content(local[name]))
            request = UpdateEventRequest(function_urn=urn, event_id=remote[name][0], body=body)
            cloud.call("update_event", request, f"updating event {name}")
        elif done == "delete":
            request = DeleteEventRequest(function_urn=urn, event_id=remote[name][0])
            try:
                cloud.call("delete_event", request, f"deleting event {name}", done_if=NOT_FOUND)
            except DoneEarlier as gone:
                note = (
                    f"its delete was answered {gone.first_answer()} but had been performed "
                    "(its retry found it gone)"
                )
        _record(report, synced, name, done, source, target, 1, note)
        if done in ("copy", "delete", "forget"):
            # Recorded after each change: a later failure leaves an accurate record of what was pushed.
            events.write_state(urn, synced)
    events.write_state(urn, synced)


def _create_event(cloud: Cloud, urn: str, name: str, data: bytes) -> str:
    """Create test event ``name`` with ``data``; a note when a create answered 5xx had been performed.

    A retry of that create is refused (the name exists): the event is read back, and its content
    is sent again as an update when it is not ``data``'s.
    """
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateEventRequest,
        CreateEventRequestBody,
        UpdateEventRequest,
        UpdateEventRequestBody,
    )

    body = CreateEventRequestBody(name=name, content=_content(data))
    what = f"creating event {name}"
    try:
        cloud.call(
            "create_event", CreateEventRequest(function_urn=urn, body=body), what, done_if=ALREADY_EXISTS
        )
        return ""
    except DoneEarlier as done:
        found = remote_events(cloud, urn).get(name)
        if found is None:
            raise CloudError(
                f"{done}, yet the console lists no event {name}",
                status=done.status,
                error_code=done.error_code,
                request_id=done.request_id,
                hint="run fglocal events push again",
            ) from None
        note = f"its create was answered {done.first_answer()} but had been performed (read back: "
        if digest(found[1]) == digest(data):
            return note + "the same content)"
        update = UpdateEventRequestBody(content=_content(data))
        request = UpdateEventRequest(function_urn=urn, event_id=found[0], body=update)
        cloud.call("update_event", request, f"updating event {name}")
        return note + "other content, so it was updated)"


def _content(data: bytes) -> str:
    """An event file as the API's ``content``: base64 of its JSON text (a byte order mark left out)."""
    bom = b"\xef\xbb\xbf"
    return base64.b64encode(data[len(bom) :] if data.startswith(bom) else data).decode("ascii")


def _record(
    report: SyncReport,
    synced: Dict[str, str],
    name: str,
    done: str,
    source: Optional[str],
    target: Optional[str],
    side: int,
    note: str = "",
) -> None:
    """Report ``done`` for ``name`` and update the sync state (``side``: 0 pull, 1 push).

    ``note``: what the action's words cannot say (a request answered 5xx that had been performed).
    """

    def add(action: str) -> None:
        report.add(name, f"{action}; {note}" if note else action)

    if done == "skip":
        return
    if done == "forget":
        synced.pop(name, None)
        add("forgotten (deleted on both sides)")
    elif done == "in sync" and source is not None:
        synced[name] = source
        add("in sync")
    elif done == "copy" and source is not None:
        synced[name] = source
        add((_COPIED_NEW if target is None else _COPIED)[side])
    elif done == "delete":
        synced.pop(name, None)
        add(_DELETED[side])
    elif done == "target changed":
        add((_TARGET_DELETED if target is None else _TARGET_CHANGED)[side])
    else:
        if source is None or target is None:
            # Which side deleted it: the console is the source of a pull, the target of a push.
            in_console = (source is None) == (side == 0)
            add(_DELETE_CONFLICT[0 if in_console else 1])
        else:
            add("conflict")
