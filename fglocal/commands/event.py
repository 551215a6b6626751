"""``fglocal event list|new``: the command line of the trigger templates (fglocal.event_templates)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from fglocal.event_templates import (
    _BY_NAME,
    TEMPLATES,
    EventError,
    build_event,
    default_event_path,
    template_names,
    write_event,
)


def register(subparsers: Any) -> None:
    """Add ``fglocal event list|new`` to the CLI."""
    parser = subparsers.add_parser(
        "event",
        help="make test events shaped like FunctionGraph trigger payloads",
        description="Write test events shaped like FunctionGraph trigger payloads into the function folder's "
        "events/ (list the triggers with 'fglocal event list').",
    )
    actions = parser.add_subparsers(dest="event_command", metavar="{list,new}")
    actions.required = True
    listing = actions.add_parser("list", help="list the trigger templates")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(run=run_list)

    new = actions.add_parser("new", help="write a test event from a trigger template")
    new.add_argument("trigger", metavar="TRIGGER", help="one of: " + ", ".join(template_names()))
    new.add_argument("--code-dir", default=".", help="the function folder (default: current folder)")
    new.add_argument("--out", help="file to write (default: <code-dir>/events/TRIGGER.json; '-' for stdout)")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    body = new.add_mutually_exclusive_group()
    body.add_argument("--body", help="APIG: the plain request body (encoded by apig-base64)")
    body.add_argument("--body-file", help="APIG: read the request body from this file (binary allowed)")
    new.add_argument("--method", help="APIG: HTTP method")
    new.add_argument("--path", help="APIG: request path")
    new.add_argument("--query", action="append", default=[], metavar="K=V", help="APIG: query parameter")
    new.add_argument("--header", action="append", default=[], metavar="K=V", help="APIG: request header")
    new.add_argument(
        "--message",
        action="append",
        default=[],
        metavar="TEXT",
        help="timer user_event, SMN message, Kafka/RocketMQ message or LTS log line (repeat for several)",
    )
    new.add_argument("--bucket", help="OBS: bucket name")
    new.add_argument("--key", help="OBS: object key")
    new.set_defaults(run=run_new)


def run_list(args: argparse.Namespace) -> int:
    """``fglocal event list``: the templates, one a line (or a JSON array)."""
    if getattr(args, "json", False):
        items = [{"name": t.name, "description": t.description} for t in TEMPLATES]
        print(json.dumps(items, indent=2))
        return 0
    width = max(len(t.name) for t in TEMPLATES)
    for t in TEMPLATES:
        print(f"{t.name:<{width}}  {t.description}")
    return 0


def _pairs(values: Sequence[str], flag: str) -> List[Tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise EventError(f"{flag} expects KEY=VALUE, got {value!r}")
        pairs.append((key, rest))
    return pairs


def run_new(args: argparse.Namespace) -> int:
    """``fglocal event new``: write one event; exit 0, 1 when refused, 2 on a bad option."""
    try:
        body: Optional[bytes] = None
        if args.body is not None:
            body = args.body.encode("utf-8")
        elif args.body_file is not None:
            try:
                body = Path(args.body_file).read_bytes()
            except OSError as exc:
                raise EventError(f"cannot read --body-file {args.body_file}: {exc.strerror}") from None
        event = build_event(
            args.trigger,
            body=body,
            method=args.method,
            path=args.path,
            query=_pairs(args.query, "--query"),
            headers=_pairs(args.header, "--header"),
            messages=args.message,
            bucket=args.bucket,
            key=args.key,
        )
    except EventError as exc:
        print(f"fglocal event: {exc}", file=sys.stderr)
        return 2
    if args.out == "-":
        print(json.dumps(event, indent=2, ensure_ascii=False))
        return 0
    if not args.out and not Path(args.code_dir).is_dir():
        print(f"fglocal event: the function folder {args.code_dir} does not exist", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else default_event_path(args.code_dir, args.trigger)
    try:
        write_event(event, out, force=args.force)
    except EventError as exc:
        print(f"fglocal event: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fglocal event: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({_BY_NAME[args.trigger].description})")
    return 0
