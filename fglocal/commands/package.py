"""``fglocal package``: the command line of the packager (fglocal.package builds the zip)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from fglocal.package import (
    LIMIT_LINES,
    PackageError,
    PackagePlan,
    default_output,
    human_size,
    install_dependencies,
    plan_package,
    size_problems,
    write_zip,
)
from fglocal.printable import printable


def add_packaging_options(parser: Any) -> None:
    """What decides the zip's contents besides the function options: one definition for package and deploy."""
    from fglocal.commands.options import add_interpreter_options

    add_interpreter_options(parser)
    parser.add_argument(
        "--with-deps", action="store_true", help="vendor requirements.txt with pip for the runtime"
    )
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra pip argument (e.g. --index-url=...)",
    )


def register(subparsers: Any) -> None:
    """Add ``fglocal package`` to the CLI."""
    from fglocal.commands.options import add_function_options

    parser = subparsers.add_parser(
        "package",
        help="build the zip to upload to FunctionGraph (checks what the platform would refuse)",
        description=(
            "Build the zip the FunctionGraph console accepts (code at the zip's root; caches, virtualenvs, "
            "VCS folders, test events, the local config and secrets left out; byte-identical for the same "
            "files). Refuses what would fail on the platform: entry file not at the root, a module named "
            "like the standard library, symlinks pointing outside the folder, oversize packages. Warns about "
            "native modules built for another platform. Exit 0 written, 1 refused, 2 bad options."
        ),
    )
    parser.add_argument("entry", nargs="?", metavar="ENTRY", help="handler entry (default from fglocal.json)")
    add_function_options(parser)
    add_packaging_options(parser)
    parser.add_argument("--out", metavar="FILE", help="zip to write (default: DIR/dist/<function name>.zip)")
    parser.add_argument("--dry-run", action="store_true", help="check and list, write nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run_package)


def run_package(args: argparse.Namespace) -> int:
    """``fglocal package``: 0 written, 1 refused (nothing written), 2 bad options or config."""
    from fglocal.commands.options import load_function_config

    config = load_function_config(args, args.entry)
    out = Path(args.out).resolve() if args.out else default_output(args.code_dir, config)
    with planned_package(args, config, out) as (plan, problems):
        if plan is None or problems or args.dry_run:
            return _report(args, plan, out, problems, 0)
        zip_size, refused = write_package(plan, out)
        return _report(args, plan, out, refused, zip_size)


@contextmanager
def planned_package(
    args: argparse.Namespace, config: Any, out: Path
) -> Iterator[Tuple[Optional[PackagePlan], List[str]]]:
    """(plan, refusals) of the zip the packaging options give (plan None when pip failed).

    With ``--with-deps`` the requirements are vendored into a staging folder that lives until the
    block ends. Under ``--json`` pip's progress line goes to stderr: stdout holds only the JSON.
    """
    from fglocal.commands.options import UsageError

    staging = None
    try:
        if args.with_deps:
            requirements = Path(config.code_root) / "requirements.txt"
            if not requirements.is_file():
                raise UsageError(f"--with-deps needs {requirements}")
            staging = tempfile.mkdtemp(prefix="fglocal-deps-")
            try:
                with redirect_stdout(sys.stderr) if args.json else nullcontext():
                    install_dependencies(
                        requirements,
                        staging,
                        config.runtime_python,
                        args.pip_arg,
                        _deps_interpreter(args, config),
                    )
            except PackageError as exc:
                yield None, [str(exc)]
                return
        plan = plan_package(config, args.code_dir, out, staging, [args.env_file] if args.env_file else [])
        yield plan, plan.problems
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)


def write_package(plan: PackagePlan, out: Path) -> Tuple[int, List[str]]:
    """Write ``plan``'s zip to ``out``: (its size, refusals); a refused zip is removed (size 0 when unwritten)."""
    try:
        zip_size = write_zip(plan.files, out)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return 0, [f"cannot write the zip: {exc.strerror or exc}{where}"]
    refused, warned = size_problems(zip_size)
    if refused:
        os.unlink(str(out))
    plan.warnings.extend(warned)
    return zip_size, refused


def _deps_interpreter(args: argparse.Namespace, config: Any) -> Any:
    """The runtime's interpreter for --with-deps; None (fglocal's pip then targets it) when missing."""
    from fglocal.commands.options import resolve_function_interpreter

    if args.python or config.python:
        return resolve_function_interpreter(args, config)  # a named interpreter must work
    from fglocal.interpreters import InterpreterError, resolve_interpreter

    try:
        return resolve_interpreter(config)
    except InterpreterError:
        return None


def _report(
    args: argparse.Namespace, plan: Optional[PackagePlan], out: Path, problems: List[str], zip_size: int
) -> int:
    written = zip_size > 0 and not problems
    unzipped = sum(f.size for f in plan.files) if plan else 0
    if args.json:
        report = {
            "zip": str(out) if written else None,
            "zipSize": zip_size if written else None,
            "unzippedSize": unzipped,
            "files": [{"path": f.arcname, "size": f.size} for f in plan.files] if plan else [],
            "excluded": [{"path": p, "reason": r} for p, r in plan.excluded] if plan else [],
            "warnings": plan.warnings if plan else [],
            "problems": problems,
            "limits": list(LIMIT_LINES),
        }
        print(json.dumps(report, indent=2))
        return 1 if problems else 0
    if plan:
        for f in plan.files:
            print(f"{human_size(f.size):>10}  {printable(f.arcname)}")
        if plan.excluded:
            reasons: Dict[str, List[str]] = {}
            for path, reason in plan.excluded:
                reasons.setdefault(reason, []).append(printable(path))
            print("left out:")
            for reason, paths in sorted(reasons.items()):
                shown = ", ".join(paths[:6]) + (f" and {len(paths) - 6} more" if len(paths) > 6 else "")
                print(f"  {reason}: {shown}")
        for warning in plan.warnings:
            print(f"warning: {warning}")
        count = len(plan.files)
        print(f"{count} file{'' if count == 1 else 's'}, {human_size(unzipped)} unzipped")
    print("limits: " + "\n        ".join(LIMIT_LINES))
    for problem in problems:
        print(f"refused: {problem}", file=sys.stderr)
    if problems:
        print(f"fglocal package: nothing written ({len(problems)} problem(s) above)", file=sys.stderr)
        return 1
    if written:
        print(f"wrote {out} ({human_size(zip_size)})")
    else:
        print("dry run: nothing written")
    return 0
