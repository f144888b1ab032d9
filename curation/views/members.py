"""A project's members: who has which role (admins manage; everyone else gets 403)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.forms import MemberForm
from curation.permissions import ROLE_ACTIONS, Action, project_for_user
from curation.services.projects import project_member_remove, project_member_set


@login_required
def member_list(request, project_id: int):
    project = project_for_user(request.user, project_id, Action.MANAGE)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        try:
            if user is None:
                raise AssayError(f"No user named '{form.cleaned_data['username']}'.")
            project_member_set(
                project=project, user=user, role=form.cleaned_data["role"], actor=request.user
            )
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{user.get_username()} is now {form.cleaned_data['role']}.")
            return redirect("project-members", project_id=project.pk)
    context = {
        "project": project,
        "form": form,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "role_actions": [
            (role, sorted(a.value for a in acts)) for role, acts in ROLE_ACTIONS.items()
        ],
    }
    return render(request, "curation/member_list.html", context)


@login_required
@require_POST
def member_remove(request, project_id: int, user_id: int):
    project = project_for_user(request.user, project_id, Action.MANAGE)
    membership = project.memberships.filter(user_id=user_id).select_related("user").first()
    if membership is None:
        messages.error(request, "That user is not a member.")
    else:
        try:
            project_member_remove(project=project, user=membership.user, actor=request.user)
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{membership.user.get_username()} removed.")
    return redirect("project-members", project_id=project.pk)
