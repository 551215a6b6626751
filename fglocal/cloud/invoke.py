"""``fglocal invoke --cloud``: invoke the deployed function synchronously and read its three parts.

The result is the local run's :class:`~fglocal.result.InvocationResult` (so the same renderer and the
same ``--json`` contract, plus ``"source": "cloud"``). The summary comes from the
``X-Cff-Invoke-Summary`` response header (the SDK's response object does not expose it: an HTTP
handler keeps the headers), else from the log's ``Finish invoke request`` line.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Optional

from fglocal.cloud.deploy import find_function
from fglocal.cloud.session import Cloud, CloudError
from fglocal.result import JSON_CONTENT_TYPE, LOG_DISPLAY_BYTES, InvocationResult, error_object

# "Finish invoke request '<id>', duration: 12.5ms, billing duration: 13ms, memory used: 30.5MB,
# billing memory: 128MB" (the platform's log line; later fields such as cpu used are ignored).
_FINISH = re.compile(
    r"Finish invoke request '(?P<id>[^']*)', duration: (?P<duration>[\d.]+)ms, "
    r"billing duration: (?P<billed>[\d.]+)ms, memory used: (?P<used>[\d.]+)MB"
    r"(?:, billing memory: (?P<memory>\d+)MB)?"
)


def function_urn(cloud: Cloud, config: Any) -> str:
    """The URN of ``config``'s deployed function; a CloudError (404) saying to deploy it when missing."""
    found = find_function(cloud, config.function_name, config.app)
    if found is None:
        raise CloudError(
            f"function {config.function_name} of app {config.app} is not deployed in this project and region",
            status=404,
            hint="run fglocal deploy first, or check functionName/app in fglocal.json, the region and project",
        )
    return str(found["func_urn"])


def invoke(cloud: Cloud, urn: str, config: Any, event: Any) -> InvocationResult:
    """Invoke ``urn`` with ``event`` (the log tail requested) and return the three-part result."""
    from huaweicloudsdkfunctiongraph.v2 import InvokeFunctionRequest

    request = InvokeFunctionRequest(
        function_urn=urn, x_cff_log_type="tail", x_cff_request_version="v1", body=event
    )
    # Not retried after a 5xx: the function may have run, and a retry would run it again.
    response = cloud.call(
        "invoke_function",
        request,
        "invoking the function",
        unsure="the function may or may not have run (its logs in the console say; the platform's "
        "answer gave no result)",
    )
    headers = {k.lower(): v for k, v in cloud.last_headers.items()}
    request_id = response.request_id or headers.get("x-cff-request-id", "")
    log = response.log or ""
    result = response.result if response.result is not None else ""
    if not isinstance(result, str):
        result = json.dumps(result)
    func_error = headers.get("x-is-func-err", "").lower() == "true" or (
        response.status is not None and response.status != 200
    )
    summary = _summary(headers.get("x-cff-invoke-summary"), log, request_id, config)
    truncated = len(log.encode("utf-8")) >= LOG_DISPLAY_BYTES
    if func_error:
        return InvocationResult(
            request_id,
            error=_error_object(result),
            summary=summary,
            logs=log,
            logs_truncated=truncated,
            source="cloud",
        )
    return InvocationResult(
        request_id,
        body=result,
        content_type=_content_type(result),
        summary=summary,
        logs=log,
        logs_truncated=truncated,
        source="cloud",
    )


def _error_object(result: str) -> Dict[str, Any]:
    """The platform's error object from a failed invocation's result (kept as the platform sent it)."""
    try:
        value = json.loads(result)
    except ValueError:
        value = None
    if isinstance(value, dict) and ("errorMessage" in value or "errorType" in value):
        return value
    return error_object(result, "FunctionError")


def _content_type(result: str) -> Optional[str]:
    """JSON when the result is a JSON value other than a bare string.

    Assumption: the v1 body's ``result`` is the returned string itself, or the JSON encoding of any
    other return value.
    """
    if not result:
        return None
    try:
        value = json.loads(result)
    except ValueError:
        return None
    return None if isinstance(value, str) else JSON_CONTENT_TYPE


def _summary(header: Optional[str], log: str, request_id: str, config: Any) -> Dict[str, Any]:
    """The summary in the local run's keys, from the header, else the log's Finish line, else {}."""
    if header:
        try:
            data = json.loads(header)
            return {
                "requestId": request_id,
                "memorySizeMB": data.get("memorySize", config.memory_size),
                "durationMs": round(float(data["duration"]), 3),
                "maxMemoryUsedMB": round(float(data.get("memoryUsed", 0)), 3),
                "billedDurationMs": int(data.get("billingDuration", 0)),
            }
        except (ValueError, KeyError, TypeError):
            pass
    match = _FINISH.search(log)
    if match is None:
        return {}
    return {
        "requestId": match.group("id") or request_id,
        "memorySizeMB": int(match.group("memory") or config.memory_size),
        "durationMs": round(float(match.group("duration")), 3),
        "maxMemoryUsedMB": round(float(match.group("used")), 3),
        "billedDurationMs": int(float(match.group("billed"))),
    }
