"""The project cost summary: every training run and deployment with its cost, each
retraining cycle's cost (its training run plus its challenger's serving), the cost per
1,000 requests, and spending against the budget."""

from curation.models import Project
from loop.selectors.policy import loop_policy
from loop.services.costs import deployment_cost, price_per_hour, training_run_cost


def project_cost_summary(project: Project) -> dict:
    training_runs = project.training_runs.select_related("version").order_by("-created_at")
    runs = [{"training_run": r, **training_run_cost(r)} for r in training_runs]
    deployments = [{"deployment": d, **deployment_cost(d)}
                   for d in project.deployments.order_by("-created_at")]  # fmt: skip
    run_costs = {row["training_run"].pk: row["cost"] for row in runs}
    served = {row["deployment"].pk: row["cost"] for row in deployments}
    cycles = [
        {"cycle": c, "training": run_costs.get(c.training_run_id, 0.0),
         "serving": served.get(c.challenger_id, 0.0),
         "cost": run_costs.get(c.training_run_id, 0.0) + served.get(c.challenger_id, 0.0)}
        for c in project.retraining_cycles.all()
    ]  # fmt: skip
    training_total = sum(run_costs.values())
    serving_total = sum(served.values())
    requests = sum(row["requests"] for row in deployments)
    spent = training_total + serving_total
    policy = loop_policy(project)
    return {
        "runs": runs,
        "deployments": deployments,
        "cycles": cycles,
        "training_total": training_total,
        "serving_total": serving_total,
        "requests": requests,
        "cost_per_1000_requests": serving_total / requests * 1000 if requests else None,
        "spent": spent,
        "budget": policy.budget,
        "remaining": policy.budget - spent if policy.budget is not None else None,
        "budget_share": spent / policy.budget if policy.budget else None,
        "warn_share": policy.budget_warn_share,
        "prices": {hw: price_per_hour(hw) for hw in ("cpu", "cuda")},
    }
