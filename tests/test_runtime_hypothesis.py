"""Random JSON events round-trip through a warm instance unchanged."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_support import function_dir

from fglocal.config import load_config
from fglocal.instance import Instance

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_random_events_round_trip(event):
    result = INSTANCE.invoke(event)
    assert result.ok, result.error
    assert json.loads(result.body) == event


INSTANCE = None


def setup_module():
    global INSTANCE
    config = load_config(str(function_dir("basic"))).with_overrides(handler="index.echo")
    INSTANCE = Instance(config)


def teardown_module():
    INSTANCE.close()
