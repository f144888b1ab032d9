"""Production feedback back into curation.

A correction, a thumbs-down or a low rating (at most ``NEGATIVE_RATING``) on a logged
request becomes an example of the request's project with source ``feedback``, held
*pending* exactly like synthetic data: `curation.services.versions.version_eligible_examples`
takes no pending example, so none reaches a version until a person reviews it — in Label
Studio (pushed in batches, the model's output as a pre-annotation) or on the Assay page.

Its provenance keeps the request id, the deployment, the training run and the original
output. One request gives one example per input (a classification request may carry
several texts); a later event on the same request updates the pending example instead of
adding another.
"""

from django.db import transaction
from django.utils import timezone

from curation.core.hashing import content_hash
from curation.exceptions import AssayError
from curation.models import Example, ExampleSource, Label, LabelOrigin, Project, ReviewStatus
from curation.permissions import Action, require
from curation.services.audit import audit_record
from curation.services.labels import label_add
from serving.models import FeedbackEvent, RequestLog

NEGATIVE_RATING = 2.0
REVIEW_AUTHOR_PREFIX = "deployment:"


def feedback_is_negative(event: FeedbackEvent) -> bool:
    """A correction, a thumbs-down, or a rating of ``NEGATIVE_RATING`` or less."""
    if event.name == "correction":
        return bool(event.correction.strip())
    if event.name == "thumbs":
        return event.value == 0
    return event.name == "rating" and event.value <= NEGATIVE_RATING


def feedback_event_saved(sender, instance: FeedbackEvent, created: bool, raw=False, **kwargs):
    """post_save receiver of `serving.FeedbackEvent` (connected in `LoopConfig.ready`). A
    duplicate ``event_id`` is never saved again, so it never gets here twice."""
    if created and not raw and feedback_is_negative(instance):
        feedback_examples_from_event(event=instance)


def _prompt(messages: list[dict]) -> str:
    """The conversation as one prompt: the last user turn alone when it is the only one."""
    turns = [m for m in messages if isinstance(m, dict)]
    users = [m for m in turns if m.get("role") == "user"]
    if len(users) == 1 and all(m.get("role") in ("user", "system") for m in turns):
        return str(users[0].get("content", ""))
    return "\n".join(f"{m.get('role', 'user')}: {m.get('content', '')}" for m in turns)


def _inputs(request: RequestLog, event: FeedbackEvent) -> list[tuple[str, str, str]]:
    """(suffix, input text, the model's output) per input of the request."""
    if request.endpoint == "chat":
        output = (request.output or {}).get("text", "")
        return [("", _prompt((request.input or {}).get("messages", [])), output)]
    texts = list((request.input or {}).get("texts", []))
    labels = list((request.output or {}).get("labels", [])) + [""] * len(texts)
    index = (event.payload or {}).get("index")
    chosen = [index] if isinstance(index, int) and 0 <= index < len(texts) else range(len(texts))
    suffix = len(texts) > 1
    return [(f"-{i}" if suffix else "", str(texts[i]), str(labels[i])) for i in chosen]


def _fields(project: Project, text: str, output: str, correction: str) -> dict:
    names = project.content_fields
    if project.is_classification:
        return {names[0]: text}
    return {names[0]: text, names[-1]: correction or output}


def _provenance(request: RequestLog, event: FeedbackEvent, output: str) -> dict:
    deployment = request.deployment
    return {
        "request_id": request.request_id,
        "deployment": deployment.name if deployment else "",
        "deployment_id": request.deployment_id,
        "training_run_id": request.training_run_id,
        "original_output": output,
        "events": [
            {"event": event.name, "value": event.value, "event_id": event.event_id,
             "correction": event.correction}
        ],
    }  # fmt: skip


def _pre_annotation(project: Project, output: str, correction: str) -> str:
    """The label shown pre-filled in Label Studio: the model's class, or for generation
    ``accept`` when the response is a person's correction and ``reject`` when it is the
    output someone rated down."""
    if project.is_classification:
        return output if output in project.label_set else ""
    return "accept" if correction else "reject"


@transaction.atomic
def feedback_examples_from_event(*, event: FeedbackEvent) -> list[Example]:
    """Create (or, for a later event on the same request, update) the pending feedback
    examples of ``event``'s request."""
    request = RequestLog.objects.select_related("project", "deployment").get(pk=event.request_id)
    project = request.project
    correction = event.correction.strip() if event.name == "correction" else ""
    made = []
    for suffix, text, output in _inputs(request, event):
        external_id = f"feedback-{request.request_id}{suffix}"
        existing = (
            Example.objects.select_for_update()
            .filter(project=project, external_id=external_id)
            .first()
        )
        if existing is not None:
            made.append(_update(existing, request, event, output, correction))
            continue
        fields = _fields(project, text, output, correction)
        example = Example.objects.create(
            project=project,
            external_id=external_id,
            fields=fields,
            content_hash=content_hash(fields),
            source=ExampleSource.FEEDBACK,
            provenance=_provenance(request, event, output),
            review_status=ReviewStatus.PENDING,
        )
        _label_pre_annotation(example, request, _pre_annotation(project, output, correction))
        audit_record(
            project=project,
            action="feedback.example",
            target=example,
            after={"request_id": request.request_id, "event": event.name},
            message=f"Feedback '{event.name}' on request {request.request_id} held for review",
        )
        made.append(example)
    return made


def _label_pre_annotation(example: Example, request: RequestLog, value: str) -> None:
    if value:
        author = f"{REVIEW_AUTHOR_PREFIX}{request.deployment.name if request.deployment else '?'}"
        label_add(example=example, value=value, origin=LabelOrigin.MODEL, author=author,
                  audit=False)  # fmt: skip


def _update(example: Example, request, event, output: str, correction: str) -> Example:
    entry = {"event": event.name, "value": event.value, "event_id": event.event_id,
             "correction": event.correction}  # fmt: skip
    example.provenance = {
        **example.provenance,
        "events": [*example.provenance.get("events", []), entry],
    }
    update = ["provenance"]
    project = example.project
    if (
        correction
        and example.review_status == ReviewStatus.PENDING
        and not project.is_classification
    ):
        example.fields = _fields(project, example.fields[project.content_fields[0]], output,
                                 correction)  # fmt: skip
        example.content_hash = content_hash(example.fields)
        update += ["fields", "content_hash"]
    example.save(update_fields=update)
    return example


# --- review -------------------------------------------------------------------------


def _locked(example: Example, user=None) -> Example:
    example = Example.objects.select_for_update().select_related("project").get(pk=example.pk)
    if example.source != ExampleSource.FEEDBACK:
        raise AssayError(f"Example {example.external_id} is not a feedback example.")
    if example.review_status != ReviewStatus.PENDING:
        raise AssayError(
            f"Feedback example {example.external_id} was already reviewed "
            f"({example.get_review_status_display().lower()})."
        )
    if user is not None:
        require(user, example.project, Action.ANNOTATE)
    return example


def _decide(example: Example, status: str, *, by: str, user=None, note: str = "", **extra):
    example.review_status = status
    example.reviewed_by = user
    example.reviewed_at = timezone.now()
    entry = {"at": example.reviewed_at.isoformat(), "by": by, "decision": status, "note": note}
    example.review_history = [*example.review_history, {**entry, **extra}]
    example.save(update_fields=["review_status", "reviewed_by", "reviewed_at", "review_history"])
    audit_record(
        project=example.project,
        actor=user,
        action=f"feedback.{'accept' if status == ReviewStatus.ACCEPTED else 'reject'}",
        target=example,
        before={"review_status": ReviewStatus.PENDING},
        after={"review_status": status, "by": by, **extra},
        message=note or f"{status} {example.external_id} ({by})",
    )
    return example


def _corrected_copy(example: Example, response: str, *, by: str, user=None) -> Example:
    """A generation correction is a new example (prompt + corrected response), accepted;
    the original pair, whose response was wrong, is rejected."""
    project = example.project
    fields = {**example.fields, project.content_fields[-1]: response}
    copy = Example.objects.create(
        project=project,
        external_id=f"{example.external_id}-corrected",
        fields=fields,
        content_hash=content_hash(fields),
        source=ExampleSource.FEEDBACK,
        provenance={**example.provenance, "corrected_from": example.external_id},
        review_status=ReviewStatus.PENDING,
    )
    label_add(example=copy, value="accept", origin=LabelOrigin.ANNOTATOR, annotator=user,
              author=by, audit=False)  # fmt: skip
    copy.refresh_from_db()
    _decide(copy, ReviewStatus.ACCEPTED, by=by, user=user, note="corrected response")
    _decide(example, ReviewStatus.REJECTED, by=by, user=user, note="replaced by its correction")
    return copy


@transaction.atomic
def feedback_example_accept(
    *, example: Example, user, label: str = "", response: str = "", note: str = ""
) -> Example:
    """Accept a pending feedback example on the Assay page: classification with ``label``
    (default: the person's correction, else the current label); generation as it is, or
    with ``response`` as the corrected response. Returns the example that a version takes."""
    example = _locked(example, user)
    project = example.project
    by = user.get_username()
    if project.is_classification:
        corrections = [e["correction"] for e in example.provenance.get("events", [])
                       if e.get("correction")]  # fmt: skip
        label = label or (corrections[-1] if corrections else "") or example.resolved_label
        label = label.strip()
        if label not in project.label_set:
            raise AssayError(
                f"'{label}' is not in the label set ({', '.join(project.label_set)}); "
                "choose the right label to accept this example."
            )
        label_add(example=example, value=label, origin=LabelOrigin.ANNOTATOR, annotator=user,
                  author=by, audit=False)  # fmt: skip
        example.refresh_from_db()
        return _decide(example, ReviewStatus.ACCEPTED, by=by, user=user, note=note, label=label)
    if response.strip():
        return _corrected_copy(example, response.strip(), by=by, user=user)
    label_add(example=example, value="accept", origin=LabelOrigin.ANNOTATOR, annotator=user,
              author=by, audit=False)  # fmt: skip
    example.refresh_from_db()
    return _decide(example, ReviewStatus.ACCEPTED, by=by, user=user, note=note)


@transaction.atomic
def feedback_example_reject(*, example: Example, user, note: str = "") -> Example:
    """Reject a pending feedback example: no version will ever take it."""
    example = _locked(example, user)
    return _decide(example, ReviewStatus.REJECTED, by=user.get_username(), user=user, note=note)


@transaction.atomic
def feedback_reviews_apply(*, project: Project) -> dict[str, int]:
    """Turn Label Studio reviews (annotator labels pulled by `label_studio_pull`) of
    pending feedback examples into decisions: a class or ``accept`` accepts, ``reject``
    with a corrected response accepts the correction as a new example, ``reject`` alone
    rejects. Examples nobody annotated stay pending."""
    counts = {"accepted": 0, "corrected": 0, "rejected": 0}
    pending = Example.objects.filter(
        project=project, source=ExampleSource.FEEDBACK, review_status=ReviewStatus.PENDING
    )
    labels = Label.objects.filter(example__in=pending, origin=LabelOrigin.ANNOTATOR).exclude(
        external_ref=""
    )
    newest: dict[int, Label] = {}
    for label in labels.order_by("updated_at", "id"):
        newest[label.example_id] = label
    for example_id, label in newest.items():
        example = _locked(Example(pk=example_id))
        by = label.author or "label-studio"
        if project.is_classification or label.value == "accept":
            _decide(example, ReviewStatus.ACCEPTED, by=by, note="reviewed in Label Studio",
                    label=label.value)  # fmt: skip
            counts["accepted"] += 1
        elif label.meta.get("corrected_response"):
            _corrected_copy(example, label.meta["corrected_response"], by=by)
            counts["corrected"] += 1
        else:
            _decide(example, ReviewStatus.REJECTED, by=by, note="rejected in Label Studio")
            counts["rejected"] += 1
    return counts


def feedback_push_pending(*, project: Project, force: bool = False, created_by=None):
    """Queue a Label Studio push of the pending feedback examples that have no task yet,
    once there are at least the policy's batch size of them (or any, with ``force``).
    Returns the push run, or None when there is nothing to push (or no link)."""
    from labeling.models import LabelStudioLink, TaskLink
    from labeling.services.push import label_studio_push_start
    from loop.selectors.policy import loop_policy

    if not LabelStudioLink.objects.filter(project=project).exists():
        return None
    linked = TaskLink.objects.filter(link__project=project).values("example_id")
    waiting = list(
        Example.objects.filter(
            project=project, source=ExampleSource.FEEDBACK, review_status=ReviewStatus.PENDING
        )
        .exclude(pk__in=linked)
        .values_list("pk", flat=True)
    )
    if not waiting or (not force and len(waiting) < loop_policy(project).feedback_batch_size):
        return None
    return label_studio_push_start(project=project, example_ids=waiting, created_by=created_by)
