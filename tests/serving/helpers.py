"""Building blocks of the serving tests: finished training runs pointing at the tiny test
models, deployments on them, application keys, and a fake engine for unit tests."""

import threading
from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from curation.models import Run, RunStatus
from serving.core.engine import ChatResult, ClassifyResult, Decoding, ModelSpec, UnknownModel
from serving.models import Application, Deployment
from serving.services.applications import application_create
from tests.factories import ExampleFactory
from tests.training.conftest import approved_version
from training.models import TrainingRun


def finished_training_run(
    project,
    *,
    base: str,
    adapter: str | None,
    labels: Sequence[str] = (),
    max_new_tokens: int = 8,
) -> TrainingRun:
    """A training run that finished with ``adapter`` (a LoRA folder) or, without one, with
    full weights in ``base``; its version is approved and content-hashed like a real one."""
    if not project.examples.exists():
        for n in range(12):
            if project.is_classification:
                ExampleFactory(
                    project=project, fields={"text": f"text {n}"}, resolved_label=labels[n % 2]
                )
            else:
                ExampleFactory(project=project, fields={"prompt": f"p{n}", "response": f"r{n}"})
    version = approved_version(project)
    training_run = TrainingRun.objects.create(
        project=project,
        version=version,
        version_hash=version.content_hash,
        task_type=project.task_type,
        method="lora" if adapter else "full",
        base_model=base,
        config={"labels": list(labels), "max_length": 64, "max_new_tokens": max_new_tokens},
        output_dir="",
        artifact_path=adapter or base,
        artifact_kind="LoRA adapter" if adapter else "full weights",
        finished_at=timezone.now(),
    )
    run = Run.objects.create(
        kind="training",
        status=RunStatus.SUCCEEDED,
        project=project,
        target_type=ContentType.objects.get_for_model(TrainingRun),
        target_id=training_run.pk,
    )
    TrainingRun.objects.filter(pk=training_run.pk).update(run=run)
    training_run.refresh_from_db()
    return training_run


def active_deployment(training_run: TrainingRun, name: str, **fields) -> Deployment:
    """A deployment marked active without starting it (for tests of what comes after)."""
    from serving.services.deployments import _model_fields

    return Deployment.objects.create(
        project=training_run.project,
        training_run=training_run,
        name=name,
        status=Deployment.Status.ACTIVE,
        **{**_model_fields(training_run), **fields},
    )


def app_key(project, name: str = "app") -> tuple[Application, str]:
    return application_create(project=project, name=name)


class FakeEngine:
    """Answers every chat with the deployment's name and every text with the first label:
    enough to test routing, logging and experiments without a model."""

    name = "fake"

    def __init__(self) -> None:
        self.specs: dict[str, ModelSpec] = {}
        self.calls = 0
        self.decodings: list[Decoding] = []  # what each chat was asked to decode with
        self.lock = threading.Lock()

    def load(self, spec: ModelSpec) -> None:
        self.specs[spec.name] = spec

    def unload(self, name: str) -> None:
        self.specs.pop(name, None)

    def loaded(self) -> list[str]:
        return list(self.specs)

    def chat(self, name: str, messages: list[dict], decoding: Decoding) -> ChatResult:
        if name not in self.specs:
            raise UnknownModel(name)
        with self.lock:
            self.calls += 1
            self.decodings.append(decoding)
        text = f"answer from {name}"
        return ChatResult(text=text, prompt_tokens=len(messages), completion_tokens=4)

    def classify(self, name: str, texts: list[str]) -> list[ClassifyResult]:
        labels = self.specs[name].labels
        return [ClassifyResult(labels[0], {labels[0]: 1.0}, tokens=len(t)) for t in texts]
