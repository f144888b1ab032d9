"""The OpenAI-compatible front door for applications (``/v1/...``).

Authenticated by the application's key (``Authorization: Bearer assay_app_...``), never
by a browser session, so CSRF does not apply. Errors use OpenAI's shape, so the official
`openai` client raises AuthenticationError (401), NotFoundError (404), BadRequestError
(400) and so on, with Assay's message.
"""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from serving.exceptions import GatewayError
from serving.models import Application, Deployment, Experiment
from serving.services.applications import application_authenticate
from serving.services.events import feedback_event_record
from serving.services.experiments import experiment_evaluate_if_due
from serving.services.gateway import chat_completion, classification


def _error(exc: GatewayError) -> JsonResponse:
    return JsonResponse(exc.as_body(), status=exc.status)


def _application(request: HttpRequest) -> Application:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    application = application_authenticate(raw=raw) if scheme.lower() == "bearer" else None
    if application is None:
        raise GatewayError(
            "Missing or unknown application key: send 'Authorization: Bearer assay_app_...' "
            "with a key from the project's Applications page.",
            status=401,
            code="invalid_api_key",
            error_type="authentication_error",
        )
    return application


def _body(request: HttpRequest):
    try:
        return json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GatewayError(f"The request body is not valid JSON: {exc}.") from exc


def _answer(request: HttpRequest, handler) -> JsonResponse:
    try:
        application = _application(request)
        body = handler(application, _body(request))
    except GatewayError as exc:
        return _error(exc)
    return JsonResponse(body)


@csrf_exempt
@require_POST
def chat_completions(request: HttpRequest) -> JsonResponse:
    unit = request.headers.get("X-Assay-Unit", "")
    return _answer(
        request, lambda app, body: chat_completion(application=app, payload=body, header_unit=unit)
    )


@csrf_exempt
@require_POST
def classifications(request: HttpRequest) -> JsonResponse:
    unit = request.headers.get("X-Assay-Unit", "")
    return _answer(
        request, lambda app, body: classification(application=app, payload=body, header_unit=unit)
    )


def _feedback(application: Application, body) -> dict:
    event, created = feedback_event_record(application=application, payload=body)
    experiment_id = event.request.experiment_id
    if created and experiment_id:
        experiment = Experiment.objects.get(pk=experiment_id)
        if experiment.is_running:
            experiment_evaluate_if_due(experiment=experiment)
    return {
        "id": event.pk,
        "object": "feedback",
        "request_id": event.request.request_id,
        "event": event.name,
        "value": event.value,
        "event_id": event.event_id,
        "duplicate": not created,
    }


@csrf_exempt
@require_POST
def feedback(request: HttpRequest) -> JsonResponse:
    return _answer(request, _feedback)


@require_GET
def models(request: HttpRequest) -> JsonResponse:
    """The names an application may ask for: active deployments and experiments."""
    try:
        application = _application(request)
    except GatewayError as exc:
        return _error(exc)
    project = application.project
    names = [
        (d.name, d.created_at)
        for d in Deployment.objects.filter(project=project, status=Deployment.Status.ACTIVE)
    ] + [(e.name, e.created_at) for e in Experiment.objects.filter(project=project)]
    data = [
        {"id": name, "object": "model", "created": int(created.timestamp()), "owned_by": "assay"}
        for name, created in sorted(names)
    ]
    return JsonResponse({"object": "list", "data": data})
