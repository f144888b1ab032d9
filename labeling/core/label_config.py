"""Label Studio labelling interfaces generated from an Assay project's task type, and the
reading of annotation results made with them.

Classification: every content field shown, one single-choice ``label`` control over the
label set. Generation: the prompt and response shown, an accept/reject ``verdict`` and a
``corrected_response`` text area. The control names are fixed so that reading a result
back (`annotation_value`) needs nothing but the task type.
"""

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

CLASSIFICATION_CONTROL = "label"
VERDICT_CONTROL = "verdict"
CORRECTION_CONTROL = "corrected_response"
VERDICTS = ("accept", "reject")
EXTERNAL_ID_KEY = "assay_external_id"

# Label Studio resolves `$name` in task data; names outside this pattern do not resolve.
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LabelConfigError(ValueError):
    """The project cannot be shown in Label Studio as it is (a bad field name, no labels)."""


@dataclass(frozen=True)
class AnnotationValue:
    """What one annotation says: the label (a class, or accept/reject) and, for generation,
    the annotator's corrected response when they wrote one."""

    label: str
    corrected_response: str = ""


def _check_fields(fields: list[str]) -> None:
    if not fields:
        raise LabelConfigError("The project has no content fields to show.")
    for name in fields:
        if not _VARIABLE_NAME.match(name) or name in (EXTERNAL_ID_KEY, CORRECTION_CONTROL):
            raise LabelConfigError(
                f"Content field '{name}' cannot be shown in Label Studio: use letters, digits "
                f"and underscores, not starting with a digit, and not '{EXTERNAL_ID_KEY}'."
            )


def _text_tags(fields: list[str]) -> list[str]:
    lines = []
    for name in fields:
        lines.append(f"  <Header value={quoteattr(name)}/>")
        lines.append(f"  <Text name={quoteattr(name)} value={quoteattr('$' + name)}/>")
    return lines


def classification_label_config(*, fields: list[str], labels: list[str]) -> str:
    _check_fields(fields)
    if not labels:
        raise LabelConfigError("A classification project needs a label set before labelling.")
    choices = [f"    <Choice value={quoteattr(label)}/>" for label in labels]
    return "\n".join(
        [
            "<View>",
            *_text_tags(fields),
            f'  <Choices name="{CLASSIFICATION_CONTROL}" toName={quoteattr(fields[0])} '
            'choice="single" showInLine="true" required="true">',
            *choices,
            "  </Choices>",
            "</View>",
        ]
    )


def generation_label_config(*, fields: list[str]) -> str:
    """The last content field is the response being judged; the others are its prompt."""
    _check_fields(fields)
    response = fields[-1]
    return "\n".join(
        [
            "<View>",
            *_text_tags(fields),
            f'  <Choices name="{VERDICT_CONTROL}" toName={quoteattr(response)} '
            'choice="single" showInLine="true" required="true">',
            *(f'    <Choice value="{verdict}"/>' for verdict in VERDICTS),
            "  </Choices>",
            '  <Header value="Corrected response (optional)"/>',
            f'  <TextArea name="{CORRECTION_CONTROL}" toName={quoteattr(response)} '
            'rows="4" maxSubmissions="1" editable="true"/>',
            "</View>",
        ]
    )


def label_config_for(*, task_type: str, fields: list[str], labels: list[str]) -> str:
    if task_type == "classification":
        return classification_label_config(fields=fields, labels=labels)
    if task_type == "generation":
        return generation_label_config(fields=fields)
    raise LabelConfigError(f"Unknown task type '{task_type}'.")


def _control_values(result: list[dict], control: str, key: str) -> list[str]:
    values: list[str] = []
    for region in result:
        if region.get("from_name") == control:
            values.extend(str(v) for v in (region.get("value") or {}).get(key) or [])
    return values


def annotation_value(*, task_type: str, result: list[dict]) -> AnnotationValue | None:
    """The label an annotation result gives, or None when it gives none (an empty submit)."""
    if task_type == "classification":
        choices = _control_values(result, CLASSIFICATION_CONTROL, "choices")
        return AnnotationValue(label=choices[0]) if choices else None
    verdicts = _control_values(result, VERDICT_CONTROL, "choices")
    if not verdicts:
        return None
    corrected = "\n".join(_control_values(result, CORRECTION_CONTROL, "text")).strip()
    return AnnotationValue(label=verdicts[0], corrected_response=corrected)


def classification_result(label: str, *, to_name: str) -> list[dict]:
    """The result Label Studio stores for choosing ``label`` (for pre-annotations and tests)."""
    return [
        {
            "from_name": CLASSIFICATION_CONTROL,
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def correction_result(text: str, *, to_name: str) -> list[dict]:
    """The result of writing ``text`` in the generation interface's corrected-response
    area (to pre-fill a reference with the model's answer)."""
    return [
        {
            "from_name": CORRECTION_CONTROL,
            "to_name": to_name,
            "type": "textarea",
            "value": {"text": [text]},
        }
    ]


def prediction_result(*, task_type: str, fields: list[str], value: str) -> list[dict] | None:
    """The result a pre-annotation of ``value`` shows in the generated interface, or None
    when the interface cannot show it (a generation label other than accept/reject)."""
    if task_type == "classification":
        return classification_result(value, to_name=fields[0])
    if value not in VERDICTS:
        return None
    return [
        {
            "from_name": VERDICT_CONTROL,
            "to_name": fields[-1],
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]
