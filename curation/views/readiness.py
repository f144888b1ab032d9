"""A version's readiness report, its refresh, and the diff against its parent."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from curation.core.readiness import PROJECT_WIDE, WHOLE_VERSION
from curation.exceptions import AssayError
from curation.forms import VersionReviewForm
from curation.permissions import Action, user_can
from curation.selectors.access import version_for_user


def _browser_link(version, check: dict) -> str:
    """The example browser filtered to a check's offending examples: the version's
    members (all of them for a ``WHOLE_VERSION`` link), or the project's examples for a
    ``PROJECT_WIDE`` one."""
    link = dict(check.get("link", {}))
    scope = link.pop("scope", None)
    params = {} if scope == PROJECT_WIDE["scope"] else {"version": version.pk}
    params.update(link)
    if check.get("example_ids"):
        params["ids"] = ",".join(check["example_ids"])
    if params == {"version": version.pk} and scope != WHOLE_VERSION["scope"]:
        return ""
    return reverse("example-list", args=[version.project_id]) + "?" + urlencode(params)


@login_required
def version_readiness(request, project_id: int, number: int):
    version = version_for_user(request.user, project_id, number, Action.VIEW)
    report = version.readiness or {}
    checks = [{**c, "url": _browser_link(version, c)} for c in report.get("checks", [])]
    context = {
        "project": version.project,
        "version": version,
        "report": report,
        "checks": checks,
        "failing": [c for c in checks if c["status"] == "fail"],
        "can_refresh": user_can(request.user, version.project, Action.EDIT_DATA),
        "can_review": user_can(request.user, version.project, Action.REVIEW),
        "review_form": VersionReviewForm(),
    }
    return render(request, "curation/version_readiness.html", context)


@login_required
@require_POST
def version_readiness_refresh(request, project_id: int, number: int):
    from curation.services.readiness import version_readiness_refresh as refresh

    version = version_for_user(request.user, project_id, number, Action.EDIT_DATA)
    try:
        refresh(version=version)
    except AssayError as exc:
        messages.error(request, str(exc))
    return redirect("version-readiness", project_id=project_id, number=number)


@login_required
def version_diff(request, project_id: int, number: int):
    from curation.selectors.version_diff import diff_base
    from curation.selectors.version_diff import version_diff as diff_of

    version = version_for_user(request.user, project_id, number, Action.VIEW)
    against = request.GET.get("against")
    try:
        base = diff_base(version, int(against) if against and against.isdigit() else None)
    except AssayError as exc:
        messages.error(request, str(exc))
        base = diff_base(version)
    diff = diff_of(version, base)
    largest = max((abs(row["shift"]) for row in diff["label_shift"]), default=0) or 1
    for row in diff["label_shift"]:
        row["width"] = round(50 * abs(row["shift"]) / largest, 1)
    buckets = diff["length_shift"]["buckets"]
    top = max((max(b["before"], b["after"]) for b in buckets), default=0) or 1
    for bucket in buckets:
        bucket["before_width"] = round(100 * bucket["before"] / top, 1)
        bucket["after_width"] = round(100 * bucket["after"] / top, 1)
    context = {"project": version.project, "version": version, "base": base, "diff": diff}
    return render(request, "curation/version_diff.html", context)
