"""fglocal: run Huawei Cloud FunctionGraph Python functions locally, as the platform does.

Public API (imported lazily so that ``import fglocal`` costs almost nothing in the user's process):

- :func:`fglocal.config.load_config` reads a function folder's ``fglocal.json``;
- :class:`fglocal.instance.Instance` is one warm function instance (initializer once, events in a row);
- :func:`invoke` runs one event on a fresh instance and returns an
  :class:`fglocal.result.InvocationResult`, whose ``to_json()`` is the ``fglocal --json`` contract.
"""

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any

    from fglocal.config import FunctionConfig
    from fglocal.result import InvocationResult

__version__ = "0.1.0"


def invoke(config: "FunctionConfig", event: "Any" = None) -> "InvocationResult":
    """Run ``event`` through a new instance of the function described by ``config``."""
    from fglocal.instance import Instance

    with Instance(config) as instance:
        return instance.invoke(event)
