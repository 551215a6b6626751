"""``fglocal deploy``'s work: create the function, or update its code and configuration where they differ.

The zip is the one ``fglocal package`` builds (its planner and writer, the same bytes); the code is
uploaded only when its SHA-512 differs from the function's ``digest``; the configuration only when a
managed field differs. Local-only fields (``python``, ``codeUri``, the ``envFile`` path) are never
sent: the request bodies are built from the fields below, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any, Dict, List, Optional

from fglocal.cloud.session import ALREADY_EXISTS, Cloud, CloudError, DoneEarlier
from fglocal.contract import CONSOLE_MIN_TIMEOUT, TIMEOUT_RANGE

# fglocal.json field -> the API's config field (the order of the "changed" list).
MANAGED_FIELDS = (
    ("runtime", "runtime"),
    ("handler", "handler"),
    ("memorySize", "memory_size"),
    ("timeout", "timeout"),
    ("userData", "user_data"),
    ("initializer", "initializer_handler"),
    ("initializerTimeout", "initializer_timeout"),
)
# Settings the console manages that a config update sends back unchanged. Assumption: the PUT
# replaces the function's configuration, so what it does not carry could be reset.
KEPT_FIELDS = ("description", "xrole", "app_xrole")


def api_runtime(runtime: str) -> str:
    """The API's spelling of a runtime: ``python3.9`` -> ``Python3.9``."""
    return "P" + runtime[1:]


def desired_config(config: Any) -> Dict[str, Any]:
    """The API's config fields for ``config`` (a FunctionConfig)."""
    timeout = math.ceil(config.timeout)
    if timeout < CONSOLE_MIN_TIMEOUT:
        raise CloudError(
            f"timeout {config.timeout:g} s: the platform accepts {CONSOLE_MIN_TIMEOUT}-{TIMEOUT_RANGE[1]} s",
            hint='set "timeout" in fglocal.json to 3 or more before deploying',
        )
    return {
        "runtime": api_runtime(config.runtime),
        "handler": config.handler,
        "memory_size": config.memory_size,
        "timeout": timeout,
        "user_data": dict(config.user_data),
        "initializer_handler": config.initializer or "",
        "initializer_timeout": config.initializer_timeout if config.initializer else None,
    }


def _current(value: Dict[str, Any]) -> Dict[str, Any]:
    """The managed fields of a function's config as the API returned it, comparable with desired_config."""
    try:
        user_data = json.loads(value.get("user_data") or "{}")
    except ValueError:
        user_data = None  # not ours to read: it differs
    initializer = value.get("initializer_handler") or ""
    return {
        "runtime": value.get("runtime"),
        "handler": value.get("handler"),
        "memory_size": value.get("memory_size"),
        "timeout": value.get("timeout"),
        "user_data": user_data,
        "initializer_handler": initializer,
        "initializer_timeout": value.get("initializer_timeout") if initializer else None,
    }


def code_digest(zip_bytes: bytes) -> str:
    """The function code digest the platform reports: SHA-512 of the package, hex."""
    return hashlib.sha512(zip_bytes).hexdigest()


class DeployReport:
    """What one deploy did (also what it had done when it failed)."""

    def __init__(self) -> None:
        self.function_urn = ""
        self.created = False
        self.code_updated = False
        self.config_updated = False
        self.changed: List[str] = []
        self.version: Optional[str] = None
        # What the report's flags cannot say: a request answered 5xx that had been performed.
        self.notes: List[str] = []

    def to_json(self) -> Dict[str, Any]:
        """The ``fglocal deploy --json`` object."""
        return {
            "functionUrn": self.function_urn,
            "created": self.created,
            "codeUpdated": self.code_updated,
            "configUpdated": self.config_updated,
            "changedFields": self.changed,
            "version": self.version,
            "notes": self.notes,
        }

    def done_so_far(self) -> str:
        """What was changed before a failure, in words ("" when nothing was)."""
        done = []
        if self.created:
            done.append("the function was created")
        if self.code_updated and not self.created:
            done.append("the code was uploaded")
        if self.config_updated and not self.created:
            done.append("the configuration was updated (%s)" % ", ".join(self.changed))
        return "; ".join(done)


def find_function(cloud: Cloud, name: str, app: str) -> Optional[Dict[str, Any]]:
    """The function ``name`` of app ``app`` as the list API describes it; None when there is none."""
    from huaweicloudsdkfunctiongraph.v2 import ListFunctionsRequest

    marker = "0"
    while True:
        request = ListFunctionsRequest(marker=marker, maxitems="400", package_name=app, func_name=name)
        page = cloud.call("list_functions", request, f"looking up function {name}")
        for item in page.functions or []:
            # func_name is a fuzzy match: keep the exact one.
            if item.func_name == name and item.package == app:
                return item.to_dict()
        if not page.next_marker or not page.functions:
            return None
        marker = str(page.next_marker)


def deploy(cloud: Cloud, config: Any, zip_bytes: bytes, report: DeployReport, publish: Optional[str]) -> None:
    """Create or update ``config``'s function with ``zip_bytes``; ``report`` says what was done."""
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateFunctionRequest,
        CreateFunctionRequestBody,
        CreateFunctionVersionRequest,
        CreateFunctionVersionRequestBody,
        FuncCode,
    )

    name, app = config.function_name, config.app
    desired = desired_config(config)
    digest = code_digest(zip_bytes)
    code = FuncCode(file=base64.b64encode(zip_bytes).decode("ascii"))
    filename = name + ".zip"
    existing = find_function(cloud, name, app)
    if existing is None:
        body = CreateFunctionRequestBody(
            func_name=name,
            package=app,
            code_type="zip",
            code_filename=filename,
            func_code=code,
            **_sendable(desired),
        )
        try:
            created = cloud.call(
                "create_function",
                CreateFunctionRequest(body=body),
                f"creating function {name}",
                done_if=ALREADY_EXISTS,
            )
        except DoneEarlier as done:
            # The create answered 5xx had been performed: its retry found the function. Read it back
            # and compare it as an update does (it should match; what does not is sent).
            existing = find_function(cloud, name, app)
            if existing is None:
                raise CloudError(
                    f"{done}, yet function {name} of app {app} cannot be found",
                    status=done.status,
                    error_code=done.error_code,
                    request_id=done.request_id,
                    hint="run fglocal deploy again",
                ) from None
            report.notes.append(
                f"the create request was answered {done.first_answer()} but had been performed: its "
                "retry was refused (already exists), so the function was read back and compared"
            )
        else:
            report.function_urn = created.func_urn
        report.created = report.code_updated = report.config_updated = True
        report.changed = [field for field, _ in MANAGED_FIELDS]
    if existing is not None:
        _update(cloud, existing["func_urn"], config, zip_bytes, report)
    if publish is not None:
        body = CreateFunctionVersionRequestBody(digest=digest, description=publish)
        # Not retried after a 5xx: a performed publish retried would publish a second version.
        version = cloud.call(
            "create_function_version",
            CreateFunctionVersionRequest(function_urn=report.function_urn, body=body),
            "publishing a version",
            unsure="a version may or may not have been published (see the function's versions "
            "in the console before publishing again)",
        )
        report.version = version.version


def _update(cloud: Cloud, urn: str, config: Any, zip_bytes: bytes, report: DeployReport) -> None:
    """Update function ``urn``'s code and configuration where they differ from ``config``."""
    from huaweicloudsdkfunctiongraph.v2 import (
        FuncCode,
        ShowFunctionConfigRequest,
        UpdateFunctionCodeRequest,
        UpdateFunctionCodeRequestBody,
        UpdateFunctionConfigRequest,
        UpdateFunctionConfigRequestBody,
    )

    name = config.function_name
    desired = desired_config(config)
    digest = code_digest(zip_bytes)
    report.function_urn = urn
    # The list's entries may leave fields out: the function's own config is the one to compare.
    existing = cloud.call(
        "show_function_config", ShowFunctionConfigRequest(function_urn=urn), "reading the configuration"
    ).to_dict()
    if _shown_digest(cloud, urn) != digest:
        code = FuncCode(file=base64.b64encode(zip_bytes).decode("ascii"))
        body = UpdateFunctionCodeRequestBody(code_type="zip", code_filename=name + ".zip", func_code=code)
        try:
            # The platform refuses the package it already has (409 FSS.0409): after a 5xx, that is
            # the upload answered 5xx having been performed.
            cloud.call(
                "update_function_code",
                UpdateFunctionCodeRequest(function_urn=urn, body=body),
                "uploading the code",
                done_if=ALREADY_EXISTS,
            )
        except DoneEarlier as done:
            if _shown_digest(cloud, urn) != digest:
                raise
            report.notes.append(
                f"the code upload was answered {done.first_answer()} but had been performed: its retry "
                "was refused (the same code is there; its digest was checked)"
            )
        report.code_updated = True
    current = _current(existing)
    changed = [field for field, key in MANAGED_FIELDS if desired[key] != current[key]]
    if changed:
        kept = {key: existing[key] for key in KEPT_FIELDS if existing.get(key)}
        body = UpdateFunctionConfigRequestBody(func_name=name, **_sendable(desired), **kept)
        cloud.call(
            "update_function_config",
            UpdateFunctionConfigRequest(function_urn=urn, body=body),
            "updating the configuration",
        )
        report.config_updated = True
        report.changed = changed


def _shown_digest(cloud: Cloud, urn: str) -> str:
    """The digest of function ``urn``'s code as the platform reports it."""
    from huaweicloudsdkfunctiongraph.v2 import ShowFunctionCodeRequest

    shown = cloud.call("show_function_code", ShowFunctionCodeRequest(function_urn=urn), "reading the code")
    return str(shown.digest or "")


def _sendable(desired: Dict[str, Any]) -> Dict[str, Any]:
    """``desired`` as the request bodies carry it: user data as a JSON string, unset fields left out."""
    body = {key: value for key, value in desired.items() if value is not None}
    body["user_data"] = json.dumps(desired["user_data"], sort_keys=True)
    return body
