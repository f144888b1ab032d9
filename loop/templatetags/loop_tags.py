"""Loop panels other apps' pages include without their views knowing about the loop: the
cost of a training run or a deployment, and the notice that a retraining cycle's draft
version waits for approval."""

from django import template

from loop.selectors.cycles import cycles_awaiting_approval
from loop.selectors.policy import loop_policy
from loop.services.costs import deployment_cost, project_spent, training_run_cost

register = template.Library()


def _budget(project) -> dict:
    policy = loop_policy(project)
    return {"budget": policy.budget, "spent": project_spent(project) if policy.budget else None}


@register.inclusion_tag("loop/partials/cost_card.html")
def training_run_cost_card(training_run) -> dict:
    return {"project": training_run.project, "cost": training_run_cost(training_run),
            "what": "training run", **_budget(training_run.project)}  # fmt: skip


@register.inclusion_tag("loop/partials/cost_card.html")
def deployment_cost_card(deployment) -> dict:
    return {"project": deployment.project, "cost": deployment_cost(deployment),
            "what": "deployment", **_budget(deployment.project)}  # fmt: skip


@register.inclusion_tag("loop/partials/approval_notice.html")
def loop_approval_notice(project) -> dict:
    return {"awaiting_approval": cycles_awaiting_approval(project)}
