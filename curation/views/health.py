"""Probes and metrics for orchestrators and Prometheus: /healthz, /readyz, /metrics.

Public like the login page (a probe has no account); /metrics can ask for a bearer token
(ASSAY_METRICS_TOKEN). None of them touches a project's data.
"""

from dataclasses import asdict

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from curation.selectors.health import readiness_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering; it checks nothing else (see /readyz)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every required dependency answers, 503 naming the ones that do not."""
    checks = readiness_checks()
    ready = all(check.ok for check in checks if check.required)
    degraded = not all(check.ok for check in checks)
    body = {
        "status": ("degraded" if degraded else "ok") if ready else "unavailable",
        "checks": {
            check.name: {key: value for key, value in asdict(check).items() if key != "name"}
            for check in checks
        },
    }
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CONTENT_TYPE_LATEST

    from curation.metrics import metrics_exposition

    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(
        request.headers.get("Authorization", ""), f"Bearer {token}"
    ):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
