"""What the cloud commands share on the command line: --region, --json errors, the zip of ``fglocal package``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from fglocal.cloud.session import CloudError, scrub

EXIT_OK, EXIT_FAILED = 0, 1


def add_region_option(parser: Any) -> None:
    """``--region R`` (else "region" in fglocal.json, else HUAWEICLOUD_SDK_REGION)."""
    parser.add_argument(
        "--region",
        metavar="R",
        help='region ID, e.g. cn-north-4 (default: "region" in fglocal.json, else HUAWEICLOUD_SDK_REGION)',
    )


def report_error(args: Any, error: CloudError, done: str = "", extra: Optional[Dict[str, Any]] = None) -> int:
    """Print a cloud error (and what was done before it) on stderr, or as JSON; return exit code 1."""
    if getattr(args, "json", False):
        obj = dict(extra or {})
        obj["error"] = error.to_json()
        obj["error"]["done"] = done
        sys.stdout.write(scrub(json.dumps(obj)) + "\n")
    message = str(error)
    if done:
        message += f"\n  NOT finished: {done}; the rest was not changed (run the command again)"
    if error.hint:
        message += f"\n  what to do: {error.hint}"
    sys.stderr.write(scrub(f"fglocal: error: {message}\n"))
    return EXIT_FAILED


def build_zip(args: Any, config: Any) -> bytes:
    """The zip ``fglocal package`` would write for ``config`` (the same planner, writer and bytes)."""
    from fglocal.package import default_output, plan_package, size_problems, write_zip

    out = default_output(args.code_dir, config)
    plan = plan_package(config, args.code_dir, out, None, [args.env_file] if args.env_file else [])
    if plan.problems:
        raise CloudError(
            "the package is refused, nothing was deployed: " + "; ".join(plan.problems),
            hint="run fglocal package to see what it refuses",
        )
    handle, path = tempfile.mkstemp(prefix="fglocal-deploy-", suffix=".zip")
    os.close(handle)
    try:
        size = write_zip(plan.files, Path(path))
        refused, _ = size_problems(size)
        if refused:
            raise CloudError("; ".join(refused) + ", nothing was deployed")
        with open(path, "rb") as zipped:
            return zipped.read()
    finally:
        os.unlink(path)
