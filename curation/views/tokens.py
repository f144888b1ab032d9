"""API tokens: create one (its value is shown once, on the response page) and revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from curation.exceptions import AssayError
from curation.forms import ApiTokenForm
from curation.models import ApiToken
from curation.services.api_tokens import api_token_create, api_token_revoke


@login_required
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except AssayError as exc:
            messages.error(request, str(exc))
        else:
            new_token = {"token": token, "raw": raw}
            form = ApiTokenForm()
    context = {
        "form": form,
        "new_token": new_token,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    return render(request, "curation/token_list.html", context)


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    name = token.name
    try:
        api_token_revoke(token=token, user=request.user)
    except AssayError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Token “{name}” revoked; scripts using it are now refused.")
    return redirect("token-list")
