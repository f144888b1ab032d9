"""The per-project expectation suite: rules a person adds, edits, disables or deletes."""

from django.db import transaction

from curation.models import Project
from curation.quality.core.expectations import ExpectationSpec, validate_spec
from curation.quality.models import ExpectationKind, ExpectationRule


def _check(project: Project, kind: str, column: str, params: dict) -> dict:
    params = dict(params or {})
    if kind == ExpectationKind.LABEL_IN_SET and not params.get("labels"):
        params["labels"] = list(project.label_set)
    validate_spec(ExpectationSpec(kind=kind, column=column, params=params))
    return params


@transaction.atomic
def expectation_rule_create(
    *, project: Project, kind: str, column: str = "text", params: dict | None = None, user=None
) -> ExpectationRule:
    """Add a rule; a label-set rule without labels takes the project's label set."""
    params = _check(project, kind, column, params or {})
    return ExpectationRule.objects.create(
        project=project, kind=kind, column=column, params=params, created_by=user
    )


@transaction.atomic
def expectation_rule_update(
    *,
    rule: ExpectationRule,
    column: str | None = None,
    params: dict | None = None,
    enabled: bool | None = None,
) -> ExpectationRule:
    column = rule.column if column is None else column
    params = rule.params if params is None else params
    rule.params = _check(rule.project, rule.kind, column, params)
    rule.column = column
    if enabled is not None:
        rule.enabled = enabled
    rule.save()
    return rule


@transaction.atomic
def expectation_rule_delete(*, rule: ExpectationRule) -> None:
    rule.delete()


@transaction.atomic
def expectation_suite_defaults_create(*, project: Project, user=None) -> list[ExpectationRule]:
    """Give a project with no rules the starting suite: non-empty text fields, sane
    lengths, labels from the label set, unique external ids, no personal data."""
    if project.expectation_rules.exists():
        return list(project.expectation_rules.all())
    rules = []
    for field_name in project.content_fields:
        rules += [
            (ExpectationKind.NOT_EMPTY, field_name, {}),
            (ExpectationKind.LENGTH_BETWEEN, field_name, {"min_length": 1, "max_length": 20_000}),
            (ExpectationKind.NO_PII, field_name, {"patterns": ["email", "phone", "credit_card"]}),
        ]
    if project.is_classification and project.label_set:
        rules.append((ExpectationKind.LABEL_IN_SET, "label", {}))
    rules.append((ExpectationKind.UNIQUE_EXTERNAL_ID, "external_id", {}))
    return [
        expectation_rule_create(project=project, kind=k, column=c, params=p, user=user)
        for k, c, p in rules
    ]
