"""The console's side of the cloud e2e test: a function's test events, read and changed with the SDK.

What a user editing test events in the FunctionGraph console does, done with the official SDK (the
bundled one) against the test API, signed with its test credentials, so the extension's Pull / Push
meet events that changed "in the console".

Usage: python console.py ENDPOINT FUNCTION_NAME list          -> {"name": event JSON, ...}
       python console.py ENDPOINT FUNCTION_NAME put NAME JSON -> creates or updates event NAME
(PYTHONPATH: the bundled libs and tests/, for fg_api_server's AK/SK/PROJECT.)
"""

import base64
import json
import sys

import fg_api_server as api
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkfunctiongraph.v2 import (
    CreateEventRequest,
    CreateEventRequestBody,
    FunctionGraphClient,
    ListEventsRequest,
    ListFunctionsRequest,
    ShowEventRequest,
    UpdateEventRequest,
    UpdateEventRequestBody,
)


def main(argv: list) -> int:
    """Runs one console action; prints its JSON result."""
    endpoint, function_name, action = argv[1], argv[2], argv[3]
    credentials = BasicCredentials(api.AK, api.SK, api.PROJECT)
    client = (
        FunctionGraphClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()
    )
    functions = client.list_functions(ListFunctionsRequest()).functions or []
    urn = next(f.func_urn for f in functions if f.func_name == function_name)
    listed = client.list_events(ListEventsRequest(function_urn=urn)).events or []
    ids = {e.name: e.id for e in listed}
    if action == "list":
        events = {}
        for name, event_id in ids.items():
            shown = client.show_event(ShowEventRequest(function_urn=urn, event_id=event_id))
            events[name] = json.loads(base64.b64decode(shown.content or ""))
        print(json.dumps(events))
        return 0
    name, value = argv[4], json.loads(argv[5])
    content = base64.b64encode(json.dumps(value).encode()).decode()
    if name in ids:
        body = UpdateEventRequestBody(content=content)
        client.update_event(UpdateEventRequest(function_urn=urn, event_id=ids[name], body=body))
    else:
        body = CreateEventRequestBody(name=name, content=content)
        client.create_event(CreateEventRequest(function_urn=urn, body=body))
    print(json.dumps({name: value}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
