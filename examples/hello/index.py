"""A first FunctionGraph function: greets the caller and shows what the Context offers."""

import json

GREETING = "Hello"


def initializer(context):
    """Runs once per instance, before the first event: set up clients and caches here."""
    global GREETING
    GREETING = context.getUserData("greeting", "Hello")
    context.getLogger().info("instance of %s initialized", context.getFunctionName())


def handler(event, context):
    """Answer an APIG-style request with a JSON greeting."""
    log = context.getLogger()
    name = (event or {}).get("name", "world")
    log.info("request %s for %s", context.getRequestID(), name)
    print("remaining time: %d ms" % context.getRemainingTimeInMilliSeconds())
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": "%s, %s!" % (GREETING, name)}),
        "isBase64Encoded": False,
    }
