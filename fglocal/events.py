"""Typed FunctionGraph trigger events: annotate a handler's ``event`` to get key completion and checks.

``def handler(event: APIGEvent, context):`` gives completion of ``event["...``, and ``mypy`` (or
Pylance, basedpyright, jedi) flags an unknown key, in any editor. A plain typing module: importing it
costs nothing at run time, it uses only :mod:`typing` (Python 3.8+), and a function does not need it
deployed (guard the import with ``typing.TYPE_CHECKING``, or ship ``fglocal/events.py``).

The shapes are those of the ``fglocal event new`` templates (``fglocal/templates/*.json``, which
follow the platform's documented trigger events); ``TEMPLATE_TYPES`` says which type each template
has, and the tests check both agree key for key. Where an event carries a map whose keys are the
caller's (APIG headers, query and path parameters), the type is ``Dict[str, str]``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

__all__ = [
    "TEMPLATE_TYPES",
    "APIGEvent",
    "APIGRequestContext",
    "APIGResponse",
    "CTSEvent",
    "CTSTrace",
    "DDSEvent",
    "DMSKafkaEvent",
    "DMSRocketMQEvent",
    "KafkaEvent",
    "LTSEvent",
    "OBSEvent",
    "SMNEvent",
    "TimerEvent",
]


# -- APIG (API gateway) ----------------------------------------------------------------------------


class APIGRequestContext(TypedDict):
    """Which API and stage answered, and the gateway's request ID."""

    apiId: str
    requestId: str
    stage: str


class APIGEvent(TypedDict):
    """An API gateway (APIG) request. ``body`` is base64 text when ``isBase64Encoded`` is true."""

    body: str
    requestContext: APIGRequestContext
    queryStringParameters: Dict[str, str]
    httpMethod: str
    pathParameters: Dict[str, str]
    headers: Dict[str, str]
    path: str
    isBase64Encoded: bool


class _APIGResponseRequired(TypedDict):
    statusCode: int
    body: str


class APIGResponse(_APIGResponseRequired, total=False):
    """What a handler behind APIG returns.

    ``body`` is a string: ``json.dumps(...)``, or base64 text with ``isBase64Encoded: True``.
    """

    headers: Dict[str, str]
    isBase64Encoded: bool


# -- OBS (object storage) --------------------------------------------------------------------------


class OBSUserIdentity(TypedDict):
    """Who made the request."""

    principalId: str


class OBSRequestParameters(TypedDict):
    """Where the request came from."""

    sourceIPAddress: str


class OBSOwnerIdentity(TypedDict):
    """The bucket owner."""

    PrincipalId: str


class OBSBucket(TypedDict):
    """The bucket the object is in."""

    name: str
    ownerIdentity: OBSOwnerIdentity
    arn: str


class OBSObject(TypedDict):
    """The object the event is about."""

    key: str
    eTag: str
    size: int
    sequencer: str


class OBSS3(TypedDict):
    """Bucket and object (S3-style)."""

    configurationId: str
    bucket: OBSBucket
    object: OBSObject


class OBSRecord(TypedDict):
    """One OBS notification."""

    eventVersion: str
    awsRegion: str
    eventTime: str
    eventName: str
    userIdentity: OBSUserIdentity
    requestParameters: OBSRequestParameters
    s3: OBSS3


class OBSEvent(TypedDict):
    """An OBS trigger event (S3-style ``Records``)."""

    Records: List[OBSRecord]


# -- timer -----------------------------------------------------------------------------------------


class TimerEvent(TypedDict):
    """A timer trigger firing; ``user_event`` is the text configured on the trigger."""

    version: str
    time: str
    trigger_type: str
    trigger_name: str
    user_event: str


# -- SMN (notifications) ---------------------------------------------------------------------------


class SMNMessage(TypedDict):
    """One SMN message."""

    topic_urn: str
    timestamp: str
    message_attributes: Optional[Dict[str, Any]]
    message: str
    type: str
    message_id: str
    subject: str


class SMNRecord(TypedDict):
    """One SMN delivery."""

    event_version: str
    smn: SMNMessage
    event_subscription_urn: str
    event_source: str


class SMNEvent(TypedDict):
    """An SMN topic notification."""

    record: List[SMNRecord]
    functionname: str
    requestId: str
    timestamp: str


# -- message queues: DMS for Kafka, open-source Kafka, DMS for RocketMQ ----------------------------


class QueueRecord(TypedDict):
    """Messages of one topic."""

    messages: List[str]
    topic_id: str


class DMSKafkaEvent(TypedDict):
    """DMS for Kafka messages."""

    event_version: str
    event_time: int
    trigger_type: str
    region: str
    instance_id: str
    records: List[QueueRecord]


class KafkaEvent(TypedDict):
    """Open-source Kafka messages."""

    event_version: str
    event_time: int
    trigger_type: str
    region: str
    instance_id: str
    records: List[QueueRecord]


class DMSRocketMQEvent(TypedDict):
    """DMS for RocketMQ messages."""

    event_version: str
    event_time: int
    trigger_type: str
    region: str
    instance_id: str
    records: List[QueueRecord]


# -- LTS (log subscriptions) -----------------------------------------------------------------------


class LTSData(TypedDict):
    """``data`` is base64 of a JSON object whose ``logs`` is a JSON list of log records."""

    data: str


class LTSEvent(TypedDict):
    """An LTS log subscription delivery."""

    lts: LTSData


# -- CTS (audit traces) ----------------------------------------------------------------------------


class CTSDomain(TypedDict):
    """The account."""

    name: str
    id: str


class CTSUser(TypedDict):
    """Who did it."""

    name: str
    id: str
    domain: CTSDomain


class CTSTrace(TypedDict):
    """One audit trace."""

    time: int
    user: CTSUser
    request: Dict[str, Any]
    response: Dict[str, Any]
    code: int
    service_type: str
    resource_type: str
    resource_name: str
    resource_id: str
    trace_name: str
    trace_rating: str
    trace_type: str
    source_ip: str
    record_time: int
    trace_id: str
    trace_status: str


class CTSEvent(TypedDict):
    """A CTS audit trace."""

    cts: CTSTrace


# -- DDS (document database change streams) --------------------------------------------------------


class DDSChange(TypedDict):
    """The change; ``full_document``, ``token`` and ``ns`` are JSON text."""

    size_bytes: str
    token: str
    full_document: str
    ns: str


class DDSRecord(TypedDict):
    """One change stream record."""

    event_source: str
    event_name: str
    region: str
    event_version: str
    dds: DDSChange
    event_source_id: str


class DDSEvent(TypedDict):
    """A DDS change stream event."""

    records: List[DDSRecord]


# Which type each ``fglocal event new`` template has (``blank`` is an empty event: no type).
TEMPLATE_TYPES: Dict[str, Any] = {
    "apig": APIGEvent,
    "apig-base64": APIGEvent,
    "obs": OBSEvent,
    "timer": TimerEvent,
    "timer-json": TimerEvent,
    "smn": SMNEvent,
    "dms-kafka": DMSKafkaEvent,
    "kafka": KafkaEvent,
    "dms-rocketmq": DMSRocketMQEvent,
    "lts": LTSEvent,
    "cts": CTSEvent,
    "dds": DDSEvent,
}
