"""The project's expectation suite: list, add, enable/disable, delete, defaults."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.permissions import Action, project_for_user, user_can
from curation.quality.core.expectations import ExpectationSpec, describe
from curation.quality.forms import ExpectationRuleForm
from curation.quality.models import ExpectationRule


@login_required
def expectation_list(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.VIEW)
    rules = [
        (rule, describe(ExpectationSpec(rule.kind, rule.column, rule.params)))
        for rule in project.expectation_rules.all()
    ]
    context = {
        "project": project,
        "rules": rules,
        "form": ExpectationRuleForm(),
        "can_edit": user_can(request.user, project, Action.EDIT_DATA),
    }
    return render(request, "quality/expectations.html", context)


@login_required
@require_POST
def expectation_create(request, project_id: int):
    from curation.quality.services import expectation_rule_create

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    form = ExpectationRuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("expectation-list", project_id=project.pk)
    try:
        expectation_rule_create(
            project=project,
            kind=form.cleaned_data["kind"],
            column=form.cleaned_data["column"],
            params=form.params(),
            user=request.user,
        )
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Expectation added.")
    return redirect("expectation-list", project_id=project.pk)


@login_required
@require_POST
def expectation_defaults(request, project_id: int):
    from curation.quality.services import expectation_suite_defaults_create

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    expectation_suite_defaults_create(project=project, user=request.user)
    return redirect("expectation-list", project_id=project.pk)


@login_required
@require_POST
def expectation_change(request, project_id: int, rule_id: int):
    """Toggle a rule on or off, or delete it (``action`` = toggle | delete)."""
    from curation.quality.services import expectation_rule_delete, expectation_rule_update

    project = project_for_user(request.user, project_id, Action.EDIT_DATA)
    rule = get_object_or_404(ExpectationRule, pk=rule_id, project=project)
    if request.POST.get("action") == "delete":
        expectation_rule_delete(rule=rule)
        messages.success(request, "Expectation deleted.")
    else:
        expectation_rule_update(rule=rule, enabled=not rule.enabled)
    return redirect("expectation-list", project_id=project.pk)
