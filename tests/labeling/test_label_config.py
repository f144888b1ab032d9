"""The labelling interfaces generated for each task type, and reading results back."""

import xml.etree.ElementTree as ET

import pytest

from labeling.core.label_config import (
    LabelConfigError,
    annotation_value,
    classification_label_config,
    classification_result,
    generation_label_config,
    label_config_for,
)


def test_classification_config_shows_the_text_and_one_single_choice_per_label():
    root = ET.fromstring(classification_label_config(fields=["text"], labels=["ham", "spam"]))
    assert [t.get("value") for t in root.iter("Text")] == ["$text"]
    (choices,) = root.iter("Choices")
    assert choices.get("choice") == "single"
    assert choices.get("toName") == "text"
    assert [c.get("value") for c in choices.iter("Choice")] == ["ham", "spam"]


def test_labels_with_markup_characters_are_escaped():
    config = classification_label_config(fields=["text"], labels=['a "quoted" <b>', "x&y"])
    values = [c.get("value") for c in ET.fromstring(config).iter("Choice")]
    assert values == ['a "quoted" <b>', "x&y"]


def test_generation_config_shows_prompt_and_response_with_verdict_and_correction():
    root = ET.fromstring(generation_label_config(fields=["prompt", "response"]))
    assert [t.get("name") for t in root.iter("Text")] == ["prompt", "response"]
    (choices,) = root.iter("Choices")
    assert [c.get("value") for c in choices.iter("Choice")] == ["accept", "reject"]
    (area,) = root.iter("TextArea")
    assert area.get("toName") == "response"


@pytest.mark.parametrize(
    ("task_type", "fields", "labels", "problem"),
    [
        ("classification", ["text"], [], "label set"),
        ("classification", ["my text"], ["a"], "my text"),
        ("generation", ["assay_external_id", "response"], [], "assay_external_id"),
        ("ranking", ["text"], ["a"], "ranking"),
    ],
)
def test_projects_that_cannot_be_shown_get_a_clear_error(task_type, fields, labels, problem):
    with pytest.raises(LabelConfigError, match=problem):
        label_config_for(task_type=task_type, fields=fields, labels=labels)


def test_a_classification_result_reads_back_as_its_label():
    result = classification_result("spam", to_name="text")
    assert annotation_value(task_type="classification", result=result).label == "spam"
    assert annotation_value(task_type="classification", result=[]) is None


def test_a_generation_result_carries_the_verdict_and_the_correction():
    result = [
        {"from_name": "verdict", "type": "choices", "value": {"choices": ["reject"]}},
        {"from_name": "corrected_response", "type": "textarea", "value": {"text": ["Better."]}},
    ]
    value = annotation_value(task_type="generation", result=result)
    assert (value.label, value.corrected_response) == ("reject", "Better.")
