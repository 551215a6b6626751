"""``fglocal deploy``: build the package and create or update the function in FunctionGraph."""

from __future__ import annotations

import json
import sys
from typing import Any

from fglocal.commands.cloud_common import (
    EXIT_OK,
    add_region_option,
    build_zip,
    report_error,
    report_interrupted,
)


def register(subparsers: Any) -> None:
    """Add ``fglocal deploy`` to the CLI."""
    from fglocal.commands.options import add_function_options, add_optional_value_option
    from fglocal.commands.package import add_packaging_options

    parser = subparsers.add_parser(
        "deploy",
        help="deploy the function to FunctionGraph (create, or update code and config where they differ)",
        description=(
            "Build the zip exactly as `fglocal package` does (the same packaging options: --with-deps, "
            "--pip-arg, --python), then create the function if it does not exist, or update its code (when its digest differs) and configuration (where it differs from "
            "fglocal.json). Credentials: HUAWEICLOUD_SDK_AK/SK (+ _SECURITY_TOKEN, _PROJECT_ID) or the "
            "SDK's credentials file. Exit 0 done, 1 failed (what was done is said), 2 bad options."
        ),
    )
    parser.add_argument("entry", nargs="?", metavar="ENTRY", help="handler entry (default from fglocal.json)")
    add_function_options(parser)
    add_packaging_options(parser)
    add_region_option(parser)
    add_optional_value_option(
        parser, "--publish", "publish", "DESCRIPTION", "also publish a version (with this description)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run_deploy)


def run_deploy(args: Any) -> int:
    """``fglocal deploy``: 0 deployed, 1 failed (the report says what was done), 2 bad options."""
    from fglocal.cloud.deploy import DeployReport, deploy
    from fglocal.cloud.session import CloudError, connect
    from fglocal.commands.options import check_optional_values, load_function_config

    config = load_function_config(args, args.entry)
    check_optional_values(args, config.code_root)
    report = DeployReport()
    cloud = None
    try:
        cloud = connect(config, args.region)  # credentials and region first: no pip run for nothing
        zip_bytes, warnings = build_zip(args, config)
        deploy(cloud, config, zip_bytes, report, args.publish)
    except CloudError as error:
        return report_error(args, error, report.done_so_far(), report.to_json())
    except KeyboardInterrupt:
        report_interrupted(args, cloud, report.done_so_far(), report.to_json())
        raise
    if args.json:
        sys.stdout.write(json.dumps(dict(report.to_json(), warnings=warnings)) + "\n")
        return EXIT_OK
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
    print(f"function {report.function_urn}")
    if report.created:
        print(f"created ({len(zip_bytes):,} bytes of code)")
    else:
        uploaded = f"uploaded ({len(zip_bytes):,} bytes)"
        print("code " + (uploaded if report.code_updated else "unchanged (same digest)"))
        if report.config_updated:
            print("configuration updated: " + ", ".join(report.changed))
        else:
            print("configuration unchanged")
    if report.version is not None:
        print(f"published version {report.version}")
    for note in report.notes:
        print(f"note: {note}")
    return EXIT_OK
