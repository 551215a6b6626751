"""``fglocal invoke --cloud``: the deployed function, run with the same events, shown as a local run is."""

from __future__ import annotations

import json
import sys
from typing import Any, List

from fglocal.commands.cloud_common import EXIT_FAILED, EXIT_OK, report_error


def run_cloud_invoke(args: Any, config: Any, events: List[Any]) -> int:
    """Invoke the deployed function with each event (``--repeat`` times) and print each result."""
    from fglocal.cloud.invoke import function_urn, invoke
    from fglocal.cloud.session import CloudError, connect
    from fglocal.render import render

    result_file = None
    failed = False
    try:
        # The read timeout outlasts the function's own timeout (the platform answers after it).
        cloud = connect(config, args.region, read_timeout=config.timeout + 30)
        urn = function_urn(cloud, config)
        if args.result_file:
            from fglocal.commands.invoke import open_result_file

            result_file = open_result_file(args.result_file)
        for _ in range(args.repeat):
            for event in events:
                result = invoke(cloud, urn, config, event)
                failed = failed or not result.ok
                obj = dict(result.to_json(), functionUrn=urn)
                if result_file is not None:
                    result_file.write(json.dumps(obj) + "\n")
                    result_file.flush()
                if args.json:
                    sys.stdout.write(json.dumps(obj) + "\n")
                else:
                    sys.stdout.write(f"== Invoked in the cloud: {urn} ==\n")
                    render(result, sys.stdout)
                sys.stdout.flush()
    except CloudError as error:
        return report_error(args, error)
    finally:
        if result_file is not None:
            result_file.close()
    return EXIT_FAILED if failed else EXIT_OK
