"""What the cloud commands share on the command line: --region, --json errors, the zip of ``fglocal package``."""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

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


def report_interrupted(args: Any, cloud: Any, done: str, extra: Optional[Dict[str, Any]] = None) -> None:
    """On Ctrl+C or SIGTERM (the extension's Cancel): say what was done and what was under way."""
    step = getattr(cloud, "current", "")
    message = "interrupted" + (f" while {step} (the platform may or may not have done it)" if step else "")
    error = CloudError(message, hint="run the command again: it changes only what still differs")
    report_error(args, error, done, extra)


def build_zip(args: Any, config: Any) -> Tuple[bytes, List[str]]:
    """The zip ``fglocal package`` would write for ``args`` and ``config`` (the same options and bytes), and its warnings.

    pip's progress (``--with-deps``) goes to stderr, so that stdout holds only the command's report.
    """
    from fglocal.commands.package import planned_package, write_package
    from fglocal.package import API_ZIP_LIMIT, default_output, human_size

    out = default_output(args.code_dir, config)
    with redirect_stdout(sys.stderr), planned_package(args, config, out) as (plan, problems):
        if plan is None or problems:
            raise CloudError(
                "the package is refused, nothing was deployed: " + "; ".join(problems),
                hint="run fglocal package (with the same options) to see what it refuses",
            )
        with tempfile.TemporaryDirectory(prefix="fglocal-deploy-") as folder:
            zip_path = Path(folder) / out.name
            size, refused = write_package(plan, zip_path)
            if refused:
                raise CloudError("; ".join(refused) + ", nothing was deployed")
            if size > API_ZIP_LIMIT:
                # The API takes the code inline (func_code.file) up to this size; beyond it only through
                # an OBS bucket, which fglocal deploy does not do.
                raise CloudError(
                    f"the zip is {human_size(size)}, over the {human_size(API_ZIP_LIMIT)} the API accepts "
                    "in a request; nothing was deployed",
                    hint="make the package smaller (dependencies as a FunctionGraph dependency package), or "
                    "upload the zip from fglocal package through an OBS bucket in the console",
                )
            return zip_path.read_bytes(), plan.warnings
