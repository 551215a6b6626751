"""``fglocal events pull`` / ``fglocal events push``: sync the console's test events with events/*.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fglocal.commands.cloud_common import (
    EXIT_FAILED,
    EXIT_OK,
    add_region_option,
    report_error,
    report_interrupted,
)


def register(subparsers: Any) -> None:
    """Add ``fglocal events pull|push`` to the CLI."""
    from fglocal.commands.options import add_options

    parser = subparsers.add_parser(
        "events",
        help="sync the console's test events of the function with events/*.json",
        description=(
            "pull: the console's test events into events/<name>.json; push: events/*.json to the "
            "console. A sync-state file (events/.fglocal-sync.json) records what was last synced: an event "
            "changed on one side since then goes to the other; one deleted on the source side (the console "
            "for pull, events/ for push) and unchanged on the other is deleted there; an event changed or "
            "deleted on both sides is a conflict, reported and never overwritten (--force lets this "
            "command's source side win, deletions included). An event never synced is never deleted. "
            "Exit 0 done, 1 conflicts or an API error, 2 bad options."
        ),
    )
    actions = parser.add_subparsers(dest="events_action", metavar="ACTION")
    for action, text in (
        ("pull", "console -> events/*.json"),
        ("push", "events/*.json -> console"),
    ):
        sub = actions.add_parser(action, help=text, description=text)
        add_options(sub, tuple(o for o in _function_options() if o[1] in ("code_dir", "config")))
        add_region_option(sub)
        sub.add_argument(
            "--force",
            action="store_true",
            help="the source side wins wherever the two differ: overwrite or delete on the other side",
        )
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(run=run_events, user_data=[], env_file=None, initializer=None, timeout=None)
        sub.set_defaults(memory=None, runtime=None)
    parser.set_defaults(run=lambda args: _usage(parser))


def _function_options() -> tuple:
    from fglocal.commands.options import FUNCTION_OPTIONS

    return FUNCTION_OPTIONS


def _usage(parser: Any) -> int:
    parser.print_usage(sys.stderr)
    sys.stderr.write("fglocal events: give pull or push\n")
    return 2


def run_events(args: Any) -> int:
    """``fglocal events pull|push``: 0 done, 1 conflicts or an API error."""
    from fglocal.cloud.events_sync import EventsFolder, SyncReport, pull, push
    from fglocal.cloud.invoke import function_urn
    from fglocal.cloud.session import CloudError, connect
    from fglocal.commands.options import load_function_config

    config = load_function_config(args)
    folder = EventsFolder(Path(args.code_dir).resolve() / "events")
    report = SyncReport()
    cloud = None
    try:
        cloud = connect(config, args.region)
        urn = function_urn(cloud, config)
        sync = pull if args.events_action == "pull" else push
        sync(cloud, urn, folder, args.force, report)
    except CloudError as error:
        return report_error(args, error, report.done_so_far(), report.to_json())
    except KeyboardInterrupt:
        report_interrupted(args, cloud, report.done_so_far(), report.to_json())
        raise
    if args.json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        print(f"function {report.function_urn}")
        for name, action in report.actions:
            print(f"  {name}: {action}")
        if not report.actions:
            print("  no test events" + (" in the console" if args.events_action == "pull" else " in events/"))
        if report.conflicts:
            other = "console" if args.events_action == "push" else "local file"
            sys.stderr.write(
                "fglocal: conflict: changed (or deleted) locally and in the console since the last sync, "
                f"nothing overwritten or deleted: {', '.join(report.conflicts)}\n  what to do: compare the "
                f"two, then `fglocal events {args.events_action} --force` to overwrite the {other}\n"
            )
    return EXIT_FAILED if report.conflicts else EXIT_OK
