"""Every trigger template runs through the real local runtime and a handler that reads its fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fglocal import event_templates as et
from fglocal.config import load_config

READER = Path(__file__).parent / "fixtures" / "triggers" / "reader"

EXPECTED_TRIGGER = {
    "apig": "apig",
    "apig-base64": "apig",
    "obs": "obs",
    "timer": "timer",
    "timer-json": "timer",
    "smn": "smn",
    "dms-kafka": "kafka",
    "kafka": "kafka",
    "dms-rocketmq": "rocketmq",
    "lts": "lts",
    "cts": "cts",
    "dds": "dds",
    "blank": "blank",
}


@pytest.fixture(scope="module")
def instance():
    from fglocal.instance import Instance

    with Instance(load_config(READER)) as warm:
        yield warm


def test_expectations_cover_every_template():
    assert sorted(EXPECTED_TRIGGER) == sorted(et.template_names())


@pytest.mark.parametrize("name", et.template_names())
def test_template_is_read_by_a_handler(instance, name: str):
    result = instance.invoke(et.load_template(name))
    assert result.error is None, result.error
    fields = json.loads(result.body)
    assert fields["trigger"] == EXPECTED_TRIGGER[name]
    assert all(value not in (None, "", [], {}) for key, value in fields.items() if key != "pathParameters")


def test_encoded_inputs_reach_the_handler_decoded(instance):
    result = instance.invoke(et.build_event("apig-base64", body="ünïcode body".encode()))
    assert json.loads(result.body)["body"] == "ünïcode body"
    result = instance.invoke(et.build_event("lts", messages=["one", "two"]))
    assert json.loads(result.body)["messages"] == ["one", "two"]
    result = instance.invoke(et.build_event("timer-json", messages=['{"k": 1}']))
    assert json.loads(json.loads(result.body)["user_event"]) == {"k": 1}
