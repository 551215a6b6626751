"""The platform's return-value rules and its error object (Python 2.7 and 3.6+)."""

from __future__ import absolute_import

import json

from .compat import PY2, string_types, to_text

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple, Type

# Synchronous request and response bodies are limited to 6 MB each.
MAX_BODY_BYTES = 6 * 1024 * 1024
JSON_CONTENT_TYPE = "application/json"

# Prefixes of the platform's runtime error messages (see the reference page).
INVOCATION_ERROR = "function invocation exception, error: "
ENTRY_ERROR = "function entry exception, error: "
INITIALIZATION_ERROR = "function initialization exception, error: "
RESULT_ERROR = "function result is invalid, error: "
try:
    _ENCODE_ERRORS = (TypeError, ValueError, RecursionError)  # type: Tuple[Type[BaseException], ...]
except NameError:  # pragma: no cover - Python 2.7 raises RuntimeError for a too-deep structure
    _ENCODE_ERRORS = (TypeError, ValueError, RuntimeError)


def error_object(message, error_type, stack_trace=None):
    # type: (str, str, Optional[List[str]]) -> Dict[str, Any]
    """The platform's error object: ``{"errorMessage", "errorType", "stackTrace"}``."""
    return {"errorMessage": message, "errorType": error_type, "stackTrace": list(stack_trace or [])}


def _utf8_size(text):  # type: (str) -> int
    if PY2:
        return len(text.encode("utf-8"))
    return len(text.encode("utf-8", "surrogatepass"))


def encode_return_value(value):
    # type: (Any) -> Tuple[str, Optional[str], Optional[Dict[str, Any]]]
    """Apply the platform's return rules: returns ``(body, content_type, error)``.

    None gives an empty body, a string (on 2.7 ``str`` or ``unicode``) the string itself, anything
    else (``long`` included) its JSON encoding with ``Content-Type: application/json``. A value JSON
    cannot encode, or a body over 6 MB, gives an error object instead (``body`` is then "").
    """
    if value is None:
        body, content_type = "", None
    elif isinstance(value, string_types):
        # A 2.7 byte string goes out as UTF-8 text (assumption: the platform's 2.7 runtime writes the
        # bytes as they are; bytes that are not UTF-8 cannot travel in the JSON reply and are replaced).
        body, content_type = to_text(value), None
    else:
        try:
            # allow_nan=False: NaN/Infinity are not JSON, and the platform's encoder refuses them too
            # (assumption: it uses a strict encoder, as its Go front end would reject them anyway).
            body, content_type = json.dumps(value, allow_nan=False), JSON_CONTENT_TYPE
        except _ENCODE_ERRORS as exc:
            message = (
                "%sfailed to convert the result to a JSON string, err: %s (the handler returned a %s)"
                % (
                    RESULT_ERROR,
                    to_text(exc),
                    type(value).__name__,
                )
            )
            return "", None, error_object(message, type(exc).__name__)
    size = _utf8_size(body)
    if size > MAX_BODY_BYTES and content_type is not None:
        # The platform measures the UTF-8 JSON, not its \u escapes (never longer, so measured only here).
        size = _utf8_size(to_text(json.dumps(value, ensure_ascii=False)))
    if size > MAX_BODY_BYTES:
        message = "%sthe response body is %d bytes, over the 6 MB (%d bytes) limit" % (
            RESULT_ERROR,
            size,
            MAX_BODY_BYTES,
        )
        return "", None, error_object(message, "ResponseTooLarge")
    return body, content_type, None
