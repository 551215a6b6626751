"""Credentials, region, endpoint, the SDK client, retries and the errors of the cloud commands.

Credentials come the SDK's way: its environment variables (``HUAWEICLOUD_SDK_AK``, ``_SK``,
``_SECURITY_TOKEN``, ``_PROJECT_ID``) first, then its credentials file (``~/.huaweicloud/credentials``
or ``HUAWEICLOUD_SDK_CREDENTIALS_FILE``, section ``[basic]``). The region is ``--region``, then
``"region"`` in ``fglocal.json``, then ``HUAWEICLOUD_SDK_REGION``; ``FGLOCAL_FUNCTIONGRAPH_ENDPOINT``
replaces the region's endpoint. No credential ever reaches a message: :func:`scrub` removes them.
"""

from __future__ import annotations

import logging
import os
import random
from typing import Any, Callable, Dict, List, Optional, Tuple

ENDPOINT_ENV = "FGLOCAL_FUNCTIONGRAPH_ENDPOINT"
REGION_ENV = "HUAWEICLOUD_SDK_REGION"
PROJECT_ENV = "HUAWEICLOUD_SDK_PROJECT_ID"
# The first retry of a 429 or 5xx waits about this long (milliseconds), doubling each time, with
# jitter. FGLOCAL_CLOUD_RETRY_BASE_MS changes it (the tests set 1 ms so that retries do not wait).
RETRY_BASE_MS = 500
RETRY_BASE_ENV = "FGLOCAL_CLOUD_RETRY_BASE_MS"
MAX_RETRIES = 3


class CloudError(Exception):
    """A cloud command failed: the message says what happened, the platform's codes and what to do."""

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        error_code: str = "",
        request_id: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        self.hint = hint

    def to_json(self) -> Dict[str, Any]:
        """The error as the ``--json`` output shows it."""
        return {
            "message": str(self),
            "status": self.status,
            "errorCode": self.error_code,
            "requestId": self.request_id,
            "hint": self.hint,
        }


def sdk_missing(exc: Optional[ImportError] = None, environ: Any = None) -> CloudError:
    """The error for a Python without (all of) the SDK: what to do depends on where fglocal runs."""
    from fglocal.distribution import CLOUD_EXTRA, missing_advice

    problem, advice = missing_advice(
        "the cloud commands need the Huawei Cloud SDK (huaweicloudsdkfunctiongraph and huaweicloudsdkcore)",
        CLOUD_EXTRA,
        exc.name if exc is not None else None,
        environ,
    )
    return CloudError(problem, hint=advice)


_SECRETS: List[str] = []


def scrub(text: str) -> str:
    """``text`` with every credential value in use replaced by ``***``."""
    for secret in _SECRETS:
        if secret:
            text = text.replace(secret, "***")
    return text


def _remember_secrets(*values: Optional[str]) -> None:
    for value in values:
        if value and value not in _SECRETS:
            _SECRETS.append(value)


def resolve_region(cli_region: Optional[str], config: Any, environ: Any = None) -> str:
    """``--region``, then ``"region"`` in fglocal.json, then ``HUAWEICLOUD_SDK_REGION``; "" when none."""
    environ = os.environ if environ is None else environ
    return cli_region or getattr(config, "region", "") or environ.get(REGION_ENV, "")


def _load_credentials(config: Any) -> Any:
    """The SDK's BasicCredentials from its environment variables or its credentials file."""
    from huaweicloudsdkcore.auth.provider import EnvCredentialProvider, ProfileCredentialProvider

    problems = []
    credentials = None
    for provider in (EnvCredentialProvider.get_basic(), ProfileCredentialProvider.get_basic()):
        try:
            credentials = provider.get_credentials()
            break
        except Exception as exc:  # the SDK's ApiValueError: nothing there (the message has no secret)
            problems.append(getattr(exc, "error_msg", None) or str(exc))
    if credentials is None:
        raise CloudError(
            "no Huawei Cloud credentials: " + "; ".join(problems),
            hint="set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (and HUAWEICLOUD_SDK_SECURITY_TOKEN for "
            "temporary credentials), or write them to ~/.huaweicloud/credentials ([basic] ak=, sk=)",
        )
    _remember_secrets(credentials.ak, credentials.sk, getattr(credentials, "security_token", None))
    if not credentials.project_id:
        project = config.project_id or os.environ.get(PROJECT_ENV, "")
        if not project:
            # Without one the SDK would ask IAM for it: say what to set instead.
            raise CloudError(
                "no project ID",
                hint="set HUAWEICLOUD_SDK_PROJECT_ID, project_id in the credentials file, or "
                '"projectId" in fglocal.json (the console: My Credentials > API Credentials)',
            )
        credentials.with_project_id(project)
    return credentials


# What an answer after a 5xx can say about the earlier attempt (``done_if`` of :meth:`Cloud.call`).
ALREADY_EXISTS = "already exists"
NOT_FOUND = "not found"
# The API's error code for "the specified resource already exists" (HTTP 409). Huawei's own
# Serverless Devs component and the OTC API reference know it from creates and from a code update
# with the same package; the reference gives no code for a test event's name taken, so its message
# ("... already exists") is recognised too.
EXISTS_CODE = "FSS.0409"


class DoneEarlier(CloudError):
    """A retry after a 5xx was refused in a way that says an earlier attempt had been performed."""

    def __init__(self, error: CloudError, first: CloudError) -> None:
        super().__init__(str(error), error.status, error.error_code, error.request_id, error.hint)
        self.first = first  # the 5xx answer of the attempt that was performed

    def first_answer(self) -> str:
        """The 5xx answer in words: "HTTP 502 FSS.0502 (request ID ...)"."""
        first = self.first
        text = f"HTTP {first.status} {first.error_code}".rstrip()
        return text + (f" (request ID {first.request_id})" if first.request_id else "")


class Cloud:
    """A FunctionGraph client for one project: calls with retries, errors as :class:`CloudError`."""

    def __init__(self, client: Any, project_id: str, region: str, endpoint: str) -> None:
        self.client = client
        self.project_id = project_id
        self.region = region
        self.endpoint = endpoint
        self.last_headers: Dict[str, str] = {}
        self.current = ""  # what the call under way does ("uploading the code"), "" between calls

    def call(self, method: str, request: Any, what: str, unsure: str = "", done_if: str = "") -> Any:
        """``client.<method>(request)`` under the retry policy below; a CloudError on failure.

        A 429 (throttled: not performed) is always retried. A 5xx may have been performed: it is
        retried only for a request that may run twice (a read, a PUT of the same body, a create or a
        delete, see ``done_if``). ``unsure`` marks one that may not (an invocation, a publish): a 5xx
        is reported at once, saying ``unsure`` (what may or may not have happened). ``done_if``
        (:data:`ALREADY_EXISTS` for a create, :data:`NOT_FOUND` for a delete) is how a retry's
        refusal says that the attempt answered 5xx was performed: then :class:`DoneEarlier` is
        raised, for the caller to read the resource back.
        """
        from huaweicloudsdkcore.exceptions.exceptions import SdkException

        answers: List[Any] = []

        def retryable(response: Any, exc: Any) -> bool:
            answers.append(exc)
            status = getattr(exc, "status_code", None)
            return status is not None and (status == 429 or (status >= 500 and not unsure))

        invoker = getattr(self.client, method + "_invoker")(request)
        invoker.with_retry(retryable, MAX_RETRIES, _Backoff())
        self.current = what
        try:
            answer = invoker.invoke()
        except SdkException as exc:
            self.current = ""
            earlier = [e for e in answers if e is not exc]
            error = api_error(exc, what, len(earlier), unsure)
            failed = [e for e in earlier if (getattr(e, "status_code", None) or 0) >= 500]
            if failed and done_if and _says(error, done_if):
                raise DoneEarlier(error, api_error(failed[-1], what)) from None
            raise error from None
        self.current = ""
        return answer


def _says(error: CloudError, done_if: str) -> bool:
    """Whether ``error`` is the refusal ``done_if`` names."""
    if done_if == NOT_FOUND:
        return error.status == 404
    if error.status is None or not 400 <= error.status < 500:
        return False
    return error.status == 409 or error.error_code == EXISTS_CODE or "already exist" in str(error).lower()


class _Backoff:
    """Exponential backoff with jitter: base, 2*base, 4*base (milliseconds)."""

    def calculate_retry_delay_millis(self, retry_times: int) -> int:
        try:
            base = int(os.environ.get(RETRY_BASE_ENV, RETRY_BASE_MS))
        except ValueError:
            base = RETRY_BASE_MS
        delay = base * (2 ** (retry_times - 1))
        return int(delay * random.uniform(0.5, 1.0))


# What to do, by HTTP status class.
_HINTS: Tuple[Tuple[Callable[[int], bool], str], ...] = (
    (
        lambda s: s == 401,
        "check the credentials (HUAWEICLOUD_SDK_AK/SK, an expired security token, the machine's clock) "
        "and that the project ID belongs to the region",
    ),
    (
        lambda s: s == 403,
        "the credentials are valid but lack permission: grant the IAM user FunctionGraph rights "
        "(e.g. FunctionGraph FullAccess) in this project",
    ),
    (
        lambda s: s == 404,
        "check the function name and app in fglocal.json, the region and the project ID "
        "(fglocal deploy creates the function)",
    ),
    (lambda s: s == 429, "the API is throttling requests: retried with backoff; wait and try again"),
    (lambda s: s >= 500, "FunctionGraph had a server error: retried with backoff; try again later"),
)
# A 5xx of a request that is not retried (``unsure``): it may have been performed.
UNSURE_HINT = (
    "FunctionGraph had a server error and the request was not retried, since it may have been "
    "performed: check before running it again"
)


def hint_for(status: Optional[int]) -> str:
    """What to do about an API error of HTTP ``status``."""
    for matches, hint in _HINTS:
        if status is not None and matches(status):
            return hint
    return "check the request (the error message says what the platform refused)"


# An error message longer than this is cut: a gateway's error page is not a message.
MAX_MESSAGE = 300


def readable(message: str) -> str:
    """``message`` as one short line: an HTML error page (a proxy's, a gateway's) reduced to its text."""
    import re

    if re.search(r"<(html|head|body|title|h1|p)\b", message, re.IGNORECASE):
        message = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", message)
        message = re.sub(r"<[^>]*>", " ", message)
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


def api_error(exc: Any, what: str, retries: int = 0, unsure: str = "") -> CloudError:
    """A CloudError from an SDK exception, with the platform's codes, request ID and what to do.

    ``retries``: how many times the request was retried before this answer; ``unsure``: what may or
    may not have happened, for a request that is not retried (see :meth:`Cloud.call`).
    """
    status = getattr(exc, "status_code", None)
    message = readable(scrub(str(getattr(exc, "error_msg", None) or exc)))
    if status is None:
        # Connection refused, reset or a read timeout: a request that was sent may have been performed.
        maybe = f" ({unsure})" if unsure else ""
        check = "; the request may have arrived: check before running it again" if unsure else ""
        return CloudError(
            f"{what}: cannot reach FunctionGraph: {message}{maybe}",
            hint=f"check the network, the region or {ENDPOINT_ENV}{check}",
        )
    code = scrub(str(getattr(exc, "error_code", "") or ""))
    request_id = str(getattr(exc, "request_id", "") or "")
    retried = f" (after {retries} {'retry' if retries == 1 else 'retries'})" if retries else ""
    text = f"{what}: HTTP {status}{retried} {code}: {message}"
    if request_id:
        text += f" (request ID {request_id})"
    hint = hint_for(status)
    if unsure and status >= 500:
        text += f"; not retried: {unsure}"
        hint = UNSURE_HINT
    return CloudError(text, status=status, error_code=code, request_id=request_id, hint=hint)


def connect(config: Any, cli_region: Optional[str] = None, read_timeout: float = 60) -> Cloud:
    """A :class:`Cloud` for ``config``'s project in the resolved region or endpoint."""
    try:
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkcore.http.http_handler import HttpHandler
        from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient
    except ImportError as exc:
        raise sdk_missing(exc) from None
    # The SDK logs requests and errors; the commands report errors themselves (scrubbed).
    for name in ("HuaweiCloud-SDK", "HuaweiCloud-SDK-FunctionGraphClient", "HuaweiCloud-SDK-Client"):
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    region = resolve_region(cli_region, config)
    endpoint = os.environ.get(ENDPOINT_ENV, "").rstrip("/")
    credentials = _load_credentials(config)
    http_config = HttpConfig.get_default_config()
    http_config.timeout = (10, read_timeout)
    builder = FunctionGraphClient.new_builder().with_credentials(credentials).with_http_config(http_config)
    if endpoint:
        builder = builder.with_endpoints([endpoint])
    elif region:
        from huaweicloudsdkfunctiongraph.v2.region.functiongraph_region import FunctionGraphRegion

        try:
            builder = builder.with_region(FunctionGraphRegion.value_of(region))
        except Exception:
            raise CloudError(
                f"unknown region {region!r}",
                hint=f"give a FunctionGraph region ID such as cn-north-4, or set {ENDPOINT_ENV}",
            ) from None
    else:
        raise CloudError(
            "no region",
            hint=f'give --region, "region" in fglocal.json, {REGION_ENV}, or {ENDPOINT_ENV}',
        )
    cloud = Cloud(None, credentials.project_id, region, endpoint)
    handler = HttpHandler().add_response_handler(lambda **kw: _keep_headers(cloud, kw))
    cloud.client = builder.with_http_handler(handler).build()
    _platform_errors_for_429(cloud.client)
    return cloud


def _platform_errors_for_429(client: Any) -> None:
    """Let a 429 reach the SDK's error handler with the platform's body.

    The SDK's HTTP session retries 429 inside urllib3 (``Retry(total=retry_times,
    status_forcelist=[429])``); with the default ``retry_times`` of 0 that raises a RetryError at the
    first 429, and the SDK reports ``error_code`` "429" without the platform's code, message or request
    ID. Mounting an adapter without the status retry keeps them; :meth:`Cloud.call` retries 429 itself.
    (An assumption about huaweicloudsdkcore 3.1.x's internals, checked by tests/test_cloud_session.py.)
    """
    from requests.adapters import HTTPAdapter

    session = getattr(getattr(client, "_http_client", None), "_session", None)
    if session is None:
        return
    adapter = HTTPAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def _keep_headers(cloud: Cloud, kwargs: Dict[str, Any]) -> None:
    response = kwargs.get("response")
    if response is not None:
        cloud.last_headers = dict(response.headers)
