"""Every route of the project × every role → allowed, 403 or 404 (login redirect or 401
for anonymous visitors), from one table of what each route needs.

The routes are found by walking the URL resolver and the API's OpenAPI schema, so a
route someone adds later is covered automatically: a route with no entry in ``PAGES`` or
``API`` below fails `test_every_route_has_an_expectation`, naming it. The expected
answer for a role comes from `curation.permissions.ROLE_ACTIONS`, never written by hand.
The non-member is an admin of another team's project: cross-project access is a 404.
"""

import json
import re
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from curation.models import Run
from curation.permissions import ROLE_ACTIONS, Action
from curation.services.api_tokens import api_token_create
from curation.services.versions import dataset_version_build
from tests.factories import (
    ExampleFactory,
    MembershipFactory,
    ProjectFactory,
    SyntheticExampleFactory,
    UserFactory,
)

ROLES = ("anonymous", "non_member", "annotator", "data_lead", "ml_engineer", "admin")
USER = "user"  # any signed-in user, member or not (own tokens, the project list)
PUBLIC = "public"  # anyone (login, API schema); own checks, not the role table
SKIPPED_PREFIXES = ("admin/",)  # Django's admin: staff only, its own permission system


@dataclass(frozen=True)
class Route:
    need: Action | str
    method: str = "GET"
    body: dict = field(default_factory=dict)
    # The route answers 404 for "nothing computed yet" to members who may see it.
    empty_is_404: bool = False


PAGES: dict[str, Route] = {
    "project-list": Route(USER),
    "project-detail": Route(Action.VIEW),
    "import-create": Route(Action.EDIT_DATA),
    "example-list": Route(Action.VIEW),
    "version-list": Route(Action.VIEW),
    "version-build": Route(Action.EDIT_DATA, "POST", {"seed": "0"}),
    "version-detail": Route(Action.VIEW),
    "version-review": Route(Action.REVIEW, "POST", {"action": "approve"}),
    "version-export": Route(Action.EXPORT, "POST", {"formats": ["jsonl"]}),
    "version-verify": Route(Action.VIEW, "POST"),
    "project-members": Route(Action.MANAGE),
    "project-member-remove": Route(Action.MANAGE, "POST"),
    "project-audit": Route(Action.VIEW),
    "synthetic-queue": Route(Action.ANNOTATE),
    "synthetic-generate": Route(Action.EDIT_DATA, "POST", {"limit": "1"}),
    "synthetic-decide": Route(Action.ANNOTATE, "POST", {"decision": "reject"}),
    "version-readiness": Route(Action.VIEW),
    "version-readiness-refresh": Route(Action.EDIT_DATA, "POST"),
    "version-diff": Route(Action.VIEW),
    "version-audit": Route(Action.VIEW),
    "run-detail": Route(Action.VIEW),
    "run-status": Route(Action.VIEW),
    # Cancel needs what starting the run's kind needs; the world's run is a (finished) import.
    "run-cancel": Route(Action.EDIT_DATA, "POST"),
    "token-list": Route(USER),
    "token-revoke": Route(USER, "POST"),
    "login": Route(PUBLIC),
    "logout": Route(PUBLIC, "POST"),
    "healthz": Route(PUBLIC),  # probes and Prometheus have no account
    "readyz": Route(PUBLIC),
    "metrics": Route(PUBLIC),  # or ASSAY_METRICS_TOKEN's bearer token
    # Weak supervision
    "ws-overview": Route(Action.VIEW),
    "ws-lf-create": Route(Action.EDIT_DATA),
    "ws-lf-preview": Route(Action.EDIT_DATA, "POST"),
    "ws-lf-edit": Route(Action.EDIT_DATA),
    "ws-lf-toggle": Route(Action.EDIT_DATA, "POST"),
    "ws-library-add": Route(Action.EDIT_DATA, "POST"),
    "ws-module-set": Route(Action.MANAGE, "POST"),
    "ws-apply": Route(Action.EDIT_DATA, "POST"),
    "ws-fit": Route(Action.EDIT_DATA, "POST"),
    "ws-review-send": Route(Action.EDIT_DATA, "POST"),
    # Quality
    "quality-overview": Route(Action.VIEW),
    "quality-check-create": Route(Action.EDIT_DATA, "POST"),
    "quality-check-detail": Route(Action.VIEW),
    "finding-list": Route(Action.VIEW),
    "findings-bulk": Route(Action.EDIT_DATA, "POST"),
    "finding-detail": Route(Action.VIEW),
    "finding-review": Route(Action.EDIT_DATA, "POST", {"action": "dismiss"}),
    "expectation-list": Route(Action.VIEW),
    "expectation-create": Route(Action.EDIT_DATA, "POST"),
    "expectation-defaults": Route(Action.EDIT_DATA, "POST"),
    "expectation-change": Route(Action.EDIT_DATA, "POST"),
    # Label Studio
    "label-studio-panel": Route(Action.VIEW),
    "label-studio-link": Route(Action.MANAGE, "POST"),
    "label-studio-overlap": Route(Action.MANAGE, "POST"),
    "label-studio-push": Route(Action.EDIT_DATA, "POST"),
    "label-studio-pull": Route(Action.EDIT_DATA, "POST"),
    "label-studio-webhook": Route(PUBLIC, "POST"),  # its own shared secret
    # Training
    "training-launch": Route(Action.TRAIN),
    "model-list": Route(Action.VIEW),
    "training-run-detail": Route(Action.VIEW),
    "training-run-curves": Route(Action.VIEW),
    "training-run-resume": Route(Action.TRAIN, "POST"),
    "training-preference-create": Route(Action.TRAIN, "POST", {"sample_size": "3"}),
    "training-preference-pull": Route(Action.TRAIN, "POST"),
    # Serving (the /v1 front door authenticates applications by their own keys)
    "deployment-list": Route(Action.VIEW),
    "deployment-create": Route(Action.SERVE, "POST", {"name": "rbac-deploy"}),
    "deployment-detail": Route(Action.VIEW),
    "deployment-stop": Route(Action.SERVE, "POST"),
    "application-list": Route(Action.VIEW),
    "application-revoke": Route(Action.SERVE, "POST"),
    "experiment-list": Route(Action.VIEW),
    "experiment-detail": Route(Action.VIEW),
    "experiment-evaluate": Route(Action.SERVE, "POST"),
    "experiment-advance": Route(Action.SERVE, "POST"),
    "experiment-rollback": Route(Action.SERVE, "POST"),
    "experiment-stop": Route(Action.SERVE, "POST"),
    # Loop: visible to members; the loop's settings, triggers and tick are the ML
    # engineers' (serve; a budget change also needs manage, checked by the service);
    # feedback review is annotation work, its push to Label Studio edit_data.
    "loop-monitoring": Route(Action.VIEW),
    "loop-policy": Route(Action.SERVE, "POST", {"window_hours": "24"}),
    "loop-live-quality": Route(Action.SERVE, "POST", {"action": "pull"}),
    "loop-feedback": Route(Action.ANNOTATE),
    "loop-feedback-decide": Route(Action.ANNOTATE, "POST", {"decision": "reject"}),
    "loop-feedback-push": Route(Action.EDIT_DATA, "POST"),
    "loop-triggers": Route(Action.VIEW),
    "loop-tick": Route(Action.SERVE, "POST"),
    "loop-costs": Route(Action.VIEW),
    "loop-cycle-detail": Route(Action.VIEW),
    "loop-cycle-experiment": Route(Action.SERVE, "POST"),
    "v1-chat-completions": Route(PUBLIC, "POST"),
    "v1-classifications": Route(PUBLIC, "POST"),
    "v1-feedback": Route(PUBLIC, "POST"),
    "v1-models": Route(PUBLIC),
    # The API's own pages
    "openapi-json": Route(PUBLIC),
    "openapi-view": Route(PUBLIC),
    "api-root": Route(PUBLIC),
}

API: dict[tuple[str, str], Route] = {
    ("GET", "/api/projects"): Route(USER),
    ("POST", "/api/projects"): Route(USER, body={"name": "New", "task_type": "classification"}),
    ("GET", "/api/projects/{project_id}"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/examples"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/imports"): Route(Action.EDIT_DATA, body={"file": True}),
    ("GET", "/api/runs/{run_id}"): Route(Action.VIEW),
    ("POST", "/api/runs/{run_id}/cancel"): Route(Action.EDIT_DATA),
    ("GET", "/api/projects/{project_id}/versions"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/versions"): Route(Action.EDIT_DATA),
    ("GET", "/api/versions/{version_id}"): Route(Action.VIEW),
    ("POST", "/api/versions/{version_id}/submit"): Route(Action.EDIT_DATA),
    ("POST", "/api/versions/{version_id}/approve"): Route(Action.REVIEW),
    ("POST", "/api/versions/{version_id}/reject"): Route(Action.REVIEW, body={"comment": "no"}),
    ("GET", "/api/versions/{version_id}/verify"): Route(Action.VIEW),
    ("POST", "/api/versions/{version_id}/exports"): Route(Action.EXPORT),
    ("GET", "/api/versions/{version_id}/exports"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/members"): Route(Action.MANAGE),
    ("POST", "/api/projects/{project_id}/members"): Route(
        Action.MANAGE, body={"username": "newcomer", "role": "annotator"}
    ),
    ("GET", "/api/projects/{project_id}/audit"): Route(Action.VIEW),
    ("GET", "/api/versions/{version_id}/audit"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/synthetic"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/synthetic/{example_id}/decision"): Route(
        Action.ANNOTATE, body={"decision": "reject"}
    ),
    ("GET", "/api/versions/{version_id}/readiness"): Route(Action.VIEW),
    ("POST", "/api/versions/{version_id}/readiness"): Route(Action.EDIT_DATA),
    ("GET", "/api/versions/{version_id}/diff"): Route(Action.VIEW),
    # Weak supervision
    ("GET", "/api/projects/{project_id}/labeling-functions"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/labeling-functions"): Route(
        Action.EDIT_DATA,
        body={"name": "new lf", "kind": "keyword", "label": "spam", "params": {"keywords": ["x"]}},
    ),
    ("GET", "/api/labeling-functions/{lf_id}"): Route(Action.VIEW),
    ("PATCH", "/api/labeling-functions/{lf_id}"): Route(
        Action.EDIT_DATA, body={"label": "spam", "params": {"keywords": ["y"]}}
    ),
    ("POST", "/api/projects/{project_id}/labeling-functions/preview"): Route(
        Action.VIEW, body={"kind": "keyword", "label": "spam", "params": {"keywords": ["x"]}}
    ),
    ("POST", "/api/projects/{project_id}/weak-supervision/apply"): Route(Action.EDIT_DATA),
    ("POST", "/api/projects/{project_id}/weak-supervision/fit"): Route(Action.EDIT_DATA),
    ("GET", "/api/projects/{project_id}/weak-supervision/runs"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/weak-supervision/analysis"): Route(
        Action.VIEW, empty_is_404=True
    ),
    ("GET", "/api/projects/{project_id}/weak-supervision/fits"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/weak-supervision/review"): Route(Action.EDIT_DATA),
    # Quality
    ("POST", "/api/projects/{project_id}/quality/checks"): Route(
        Action.EDIT_DATA, body={"checks": ["duplicates"]}
    ),
    ("GET", "/api/projects/{project_id}/quality/checks"): Route(Action.VIEW),
    ("GET", "/api/versions/{version_id}/quality"): Route(Action.VIEW, empty_is_404=True),
    ("GET", "/api/projects/{project_id}/quality/findings"): Route(Action.VIEW),
    ("POST", "/api/findings/{finding_id}/review"): Route(
        Action.EDIT_DATA, body={"action": "dismiss"}
    ),
    ("GET", "/api/projects/{project_id}/quality/expectations"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/quality/expectations"): Route(
        Action.EDIT_DATA, body={"kind": "not_empty"}
    ),
    # Training
    ("POST", "/api/versions/{version_id}/training-runs"): Route(Action.TRAIN),
    ("GET", "/api/projects/{project_id}/training-runs"): Route(Action.VIEW),
    ("GET", "/api/training-runs/{training_run_id}"): Route(Action.VIEW),
    ("POST", "/api/training-runs/{training_run_id}/resume"): Route(Action.TRAIN),
    ("POST", "/api/training-runs/{training_run_id}/preference"): Route(
        Action.TRAIN, body={"sample_size": 3}
    ),
    ("GET", "/api/training-runs/{training_run_id}/preference"): Route(
        Action.VIEW, empty_is_404=True
    ),
    ("POST", "/api/training-runs/{training_run_id}/preference/pull"): Route(
        Action.TRAIN, empty_is_404=True
    ),
    # Serving
    ("POST", "/api/training-runs/{training_run_id}/deployments"): Route(
        Action.SERVE, body={"name": "rbac-deploy"}
    ),
    ("GET", "/api/projects/{project_id}/deployments"): Route(Action.VIEW),
    ("GET", "/api/deployments/{deployment_id}"): Route(Action.VIEW),
    ("POST", "/api/deployments/{deployment_id}/stop"): Route(Action.SERVE),
    ("POST", "/api/deployments/{deployment_id}/restart"): Route(Action.SERVE),
    ("POST", "/api/projects/{project_id}/applications"): Route(Action.SERVE, body={"name": "a"}),
    ("GET", "/api/projects/{project_id}/applications"): Route(Action.VIEW),
    ("POST", "/api/applications/{application_id}/revoke"): Route(Action.SERVE),
    ("POST", "/api/projects/{project_id}/experiments"): Route(
        Action.SERVE,
        body={
            "name": "rbac-experiment",
            "variants": [
                {"deployment": "rbac-a", "weight": 0.5},
                {"deployment": "rbac-b", "weight": 0.5},
            ],
            "primary_metric": "thumbs",
        },
    ),
    ("GET", "/api/projects/{project_id}/experiments"): Route(Action.VIEW),
    ("GET", "/api/experiments/{experiment_id}"): Route(Action.VIEW),
    ("POST", "/api/experiments/{experiment_id}/evaluate"): Route(Action.SERVE),
    ("POST", "/api/experiments/{experiment_id}/advance"): Route(Action.SERVE),
    ("POST", "/api/experiments/{experiment_id}/rollback"): Route(Action.SERVE),
    ("POST", "/api/experiments/{experiment_id}/stop"): Route(Action.SERVE),
    # Loop
    ("GET", "/api/projects/{project_id}/loop/policy"): Route(Action.VIEW),
    ("PATCH", "/api/projects/{project_id}/loop/policy"): Route(
        Action.SERVE, body={"window_hours": 24}
    ),
    ("GET", "/api/projects/{project_id}/loop/triggers"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/loop/triggers"): Route(
        Action.SERVE, body={"kind": "new_examples", "count": 10}
    ),
    ("GET", "/api/projects/{project_id}/loop/cycles"): Route(Action.VIEW),
    ("GET", "/api/loop/cycles/{cycle_id}"): Route(Action.VIEW),
    ("POST", "/api/loop/cycles/{cycle_id}/experiment"): Route(Action.SERVE),
    ("GET", "/api/projects/{project_id}/loop/alerts"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/loop/snapshots"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/loop/costs"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/loop/tick"): Route(Action.SERVE),
    ("GET", "/api/projects/{project_id}/loop/feedback"): Route(Action.VIEW),
    ("GET", "/api/projects/{project_id}/loop/live-quality"): Route(Action.VIEW),
    ("POST", "/api/projects/{project_id}/loop/live-quality/samples"): Route(
        Action.SERVE, body={"deployment": "rbac-a"}
    ),
    ("POST", "/api/projects/{project_id}/loop/live-quality/pull"): Route(Action.SERVE),
    ("POST", "/api/projects/{project_id}/loop/feedback/{feedback_id}/accept"): Route(
        Action.ANNOTATE
    ),
    ("POST", "/api/projects/{project_id}/loop/feedback/{feedback_id}/reject"): Route(
        Action.ANNOTATE
    ),
}


def _walk(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name


def page_routes() -> dict[str, str]:
    """URL name -> route of every page (the API's operations are listed from its schema)."""
    found = {}
    for route, name in _walk(get_resolver()):
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if route.startswith("api/") and name not in ("openapi-json", "openapi-view", "api-root"):
            continue
        found[name or route] = route
    return found


def api_operations() -> set[tuple[str, str]]:
    from curation.api import api

    paths = api.get_openapi_schema()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_has_an_expectation():
    missing = sorted(set(page_routes()) - set(PAGES))
    missing_api = sorted(api_operations() - set(API))
    assert not missing and not missing_api, (
        f"Routes without an entry in test_rbac_matrix's table: pages {missing}, "
        f"API {missing_api}. Add what each needs (an Action, USER or PUBLIC)."
    )


# --- the world every route is tried against -----------------------------------------


def _their_objects(project, version, user) -> dict:
    """Objects of the other apps' routes, made through their models."""
    from django.apps import apps

    objects = {}
    from curation.weak_supervision.services.functions import labeling_function_create

    lf = labeling_function_create(project=project, name="has_free", kind="keyword",
                                  label="spam", params={"keywords": ["free"]})  # fmt: skip
    objects["lf_id"] = lf.pk
    training_model = apps.get_model("training", "TrainingRun")
    training_run = training_model.objects.create(
        project=project, version=version, version_hash=version.content_hash,
        task_type=project.task_type, method="lora", base_model="tiny", config={},
        output_dir="/nonexistent",
    )  # fmt: skip
    objects["training_run_id"] = training_run.pk
    objects.update(_quality_objects(project, version))
    objects.update(_serving_objects(project, training_run))
    objects.update(_loop_objects(project, version, objects["deployment_id"]))
    return objects


def _loop_objects(project, version, deployment_id) -> dict:
    from django.apps import apps

    cycle = apps.get_model("loop", "RetrainingCycle").objects.create(
        project=project, reason={"rule": "rbac"}, version=version, champion_id=deployment_id
    )
    feedback = ExampleFactory(project=project, source="feedback", review_status="pending",
                              external_id="feedback-rbac",
                              provenance={"request_id": "rbac", "events": []})  # fmt: skip
    return {"cycle_id": cycle.pk, "feedback_id": feedback.pk}


def _serving_objects(project, training_run) -> dict:
    from serving.models import Deployment
    from serving.services.applications import application_create
    from serving.services.experiments import experiment_create

    deployments = [
        Deployment.objects.create(
            project=project,
            training_run=training_run,
            name=name,
            task_type="classification",
            base_model="tiny",
            status="active",
        )  # fmt: skip
        for name in ("rbac-a", "rbac-b", "rbac-c")
    ]
    application, _key = application_create(project=project, name="rbac app")
    experiment = experiment_create(
        project=project, name="rbac-live", primary_metric="thumbs",
        variants=[{"deployment": "rbac-b", "weight": 0.5}, {"deployment": "rbac-c", "weight": 0.5}],
    )  # fmt: skip
    return {
        "deployment_id": deployments[0].pk,
        "application_id": application.pk,
        "experiment_id": experiment.pk,
    }


def _quality_objects(project, version) -> dict:
    from django.apps import apps

    check = apps.get_model("quality", "QualityCheck").objects.create(
        project=project, version=version
    )
    rule = apps.get_model("quality", "ExpectationRule").objects.create(
        project=project, kind="not_empty", column="text"
    )
    finding = apps.get_model("quality", "Finding").objects.create(
        project=project, version=version, quality_check=check, kind="duplicate",
        fingerprint="0" * 64,
    )  # fmt: skip
    return {"check_id": check.pk, "rule_id": rule.pk, "finding_id": finding.pk}


@pytest.fixture
def world(db):
    project = ProjectFactory(label_set=["ham", "spam"])
    users = {"non_member": UserFactory(username="outsider")}
    MembershipFactory(project=ProjectFactory(name="Other team"), user=users["non_member"],
                      role="admin")  # fmt: skip
    for role in ROLES[2:]:
        users[role] = UserFactory(username=role)
        MembershipFactory(project=project, user=users[role], role=role)
    for n in range(24):
        ExampleFactory(project=project, resolved_label=("ham", "spam")[n % 2],
                       resolved_label_origin="annotator")  # fmt: skip
    version = dataset_version_build(project=project, created_by=users["data_lead"])
    synthetic = SyntheticExampleFactory(project=project, resolved_label="spam")
    run = Run.objects.create(kind="import", project=project, target=project, status="succeeded")
    UserFactory(username="newcomer")
    kwargs = {
        "project_id": project.pk, "number": version.number, "version_id": version.pk,
        "run_id": run.pk, "example_id": synthetic.pk, "user_id": users["annotator"].pk,
        **_their_objects(project, version, users["admin"]),
    }  # fmt: skip
    tokens = {role: api_token_create(user=user, name="rbac") for role, user in users.items()}
    return {"users": users, "kwargs": kwargs, "tokens": tokens}


def expected(role: str, rule: Route) -> set:
    """The answers ``role`` may get: "login" (redirect or 401), "allowed", 403 or 404."""
    need = rule.need
    if need == PUBLIC:
        return {"login", "allowed", 403, 404}
    if role == "anonymous":
        return {"login"}
    if need == USER:
        return {"allowed"}
    if role == "non_member":
        return {404}
    if need in ROLE_ACTIONS[role]:
        return {"allowed", 404} if rule.empty_is_404 else {"allowed"}
    return {403}


def _url(route: str, kwargs: dict) -> str:
    return "/" + re.sub(r"<int:(\w+)>", lambda m: str(kwargs[m.group(1)]), route)


def outcome(response, *, api: bool) -> str | int:
    if response.status_code in (401, 403, 404):
        if response.status_code == 401:  # the API, and the /v1 front door's own keys
            return "login"
        return response.status_code
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return "login"
    assert response.status_code < 500, response.content[:500]
    return "allowed"


def _kwargs_for(route: str, world, role: str) -> dict:
    kwargs = {k: v for k, v in world["kwargs"].items() if f"<int:{k}>" in route}
    if "<int:token_id>" in route:  # a user's own token
        token = world["tokens"].get(role)
        kwargs["token_id"] = token[0].pk if token else 1
    return kwargs


def _try(method: str, client: Client, url: str, body: dict, **extra):
    if method == "GET":
        return client.get(url, **extra)
    if body.get("file"):
        upload = SimpleUploadedFile("rows.csv", b"text,label\nhello there,ham\n")
        return client.post(url, {"file": upload, "mapping": "{}"}, **extra)
    if extra:  # the API: JSON
        return client.generic(method, url, json.dumps(body), content_type="application/json",
                              **extra)  # fmt: skip
    return client.post(url, body)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_answers_each_role_as_the_table_says(world, name):
    route_pattern = page_routes().get(name)
    if route_pattern is None:
        pytest.skip(f"{name} is not routed any more")
    rule = PAGES[name]
    wrong = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world["users"][role])
        url = _url(route_pattern, _kwargs_for(route_pattern, world, role))
        with transaction.atomic():
            got = outcome(_try(rule.method, client, url, rule.body), api=False)
            transaction.set_rollback(True)
        if got not in expected(role, rule):
            wrong[role] = f"got {got}, expected {expected(role, rule)}"
    assert not wrong, f"{rule.method} {name}: {wrong}"


@pytest.mark.parametrize(("method", "path"), sorted(API))
def test_api_answers_each_role_as_the_table_says(world, method, path):
    if (method, path) not in api_operations():
        pytest.skip(f"{method} {path} is not routed (yet)")
    rule = API[(method, path)]
    wrong = {}
    for role in ROLES:
        url = path.format(**world["kwargs"])
        headers = {}
        if role != "anonymous":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {world['tokens'][role][1]}"
        with transaction.atomic():
            response = _try(method, Client(), url, rule.body, **(headers or {"HTTP_X": "1"}))
            got = outcome(response, api=True)
            transaction.set_rollback(True)
        if got not in expected(role, rule):
            wrong[role] = f"got {got} ({response.content[:120]!r}), expected {expected(role, rule)}"
    assert not wrong, f"{method} {path}: {wrong}"
