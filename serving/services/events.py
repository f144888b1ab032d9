"""Feedback events from applications, keyed by the request id the front door returned.

An event is about one logged request of the application's own project. ``event_id``
(the application's own id for the event) makes a retry count once: sending the same id
again returns the stored event with ``duplicate`` set and changes nothing.
"""

import re
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from serving.exceptions import GatewayError
from serving.models import Application, FeedbackEvent, RequestLog
from serving.services.request_log import request_log_flush

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def _request(application: Application, request_id: Any) -> RequestLog:
    if not isinstance(request_id, str) or not request_id:
        raise GatewayError("'request_id' is required: the id a completion returned.")
    found = RequestLog.objects.filter(request_id=request_id, project=application.project_id)
    request = found.first()
    if request is None:
        request_log_flush()  # it may still wait in the log writer's queue
        request = found.first()
    if request is None:
        raise GatewayError(
            f"No request '{request_id}' was logged for application '{application.name}'s project.",
            status=404,
            code="request_not_found",
            param="request_id",
        )
    return request


def _value(name: str, payload: dict) -> float:
    value = payload.get("value", 1.0)
    if name == "thumbs" and value in ("up", "down"):
        value = 1.0 if value == "up" else 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GatewayError("'value' must be a number.", param="value")
    if name == "thumbs" and value not in (0, 1):
        raise GatewayError("A thumbs value is 1 (up) or 0 (down), or 'up'/'down'.", param="value")
    if name == "rating" and not 1 <= value <= 5:
        raise GatewayError("A rating is between 1 and 5.", param="value")
    return float(value)


def _validated(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise GatewayError("The request body must be a JSON object.")
    name = payload.get("event")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise GatewayError(
            "'event' must be a name of lower-case letters, digits and '_' (e.g. thumbs, "
            "rating, correction, resolved).",
            param="event",
        )
    correction = payload.get("correction", "")
    if name == "correction" and (not isinstance(correction, str) or not correction.strip()):
        raise GatewayError("A correction needs the corrected text in 'correction'.")
    event_id = payload.get("event_id") or uuid.uuid4().hex
    if not isinstance(event_id, str) or len(event_id) > 100:
        raise GatewayError("'event_id' must be a string of at most 100 characters.")
    extra = payload.get("payload", {})
    if not isinstance(extra, dict):
        raise GatewayError("'payload' must be a JSON object.", param="payload")
    return {
        "name": name,
        "value": _value(name, payload),
        "correction": correction if isinstance(correction, str) else "",
        "event_id": event_id,
        "payload": extra,
    }


def feedback_event_record(*, application: Application, payload: Any) -> tuple[FeedbackEvent, bool]:
    """Store one event; returns (event, created). A repeated ``event_id`` is not stored
    twice. Bad input raises `GatewayError` and stores nothing."""
    fields = _validated(payload)
    request = _request(application, payload.get("request_id"))
    existing = FeedbackEvent.objects.filter(request=request, event_id=fields["event_id"]).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = FeedbackEvent.objects.create(request=request, application=application, **fields)
    except IntegrityError:  # the same id arrived twice at once: the other one won
        return FeedbackEvent.objects.get(request=request, event_id=fields["event_id"]), False
    return event, True
