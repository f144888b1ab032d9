"""The Label Studio adapter: the only module that imports ``label_studio_sdk``.

It speaks in Assay's records (`label_studio_records`: `LsProject`, `LsTask`, ...) and turns every
failure into a `LabelStudioError` whose message a user can act on. The SDK is imported
when a client is made, so nothing the web process loads at start-up pays for it.

Tokens: a legacy token (40 hex, ``Authorization: Token …``) and a personal access token
(a JWT refresh token, exchanged by the SDK for short-lived access tokens sent as
``Bearer``) both work; SDK 2.1.2 tells them apart by trying to decode the key as a JWT.
"""

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from labeling.core.task_filters import ANNOTATED_FILTER, updated_after_filter
from labeling.exceptions import LabelStudioError, LabelStudioUnavailable
from labeling.integrations.label_studio_records import (
    LsAnnotation,
    LsPrediction,
    LsProject,
    LsTask,
)

# LS answers 404 "Invalid page" past the last page; the SDK's pager walks into it, so
# pages are requested one by one up to the reported total instead.
LIST_PAGE_SIZE = 1000
# Full task pages are read in pages this small for their last LIST_PAGE_SIZE tasks: a pull
# writes each page while LS builds the next, and only the last page's writes are left to
# wait for, so a short last page shortens the wait (a page costs LS a few ms per task and
# far less per request).
TAIL_PAGE_SIZE = 250


def _flatten(pages: Iterable[list]) -> Iterator:
    for page in pages:
        yield from page


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class LabelStudioClient:
    """A thin, typed wrapper over ``label_studio_sdk.LabelStudio``."""

    def __init__(self, *, url: str, token: str, timeout: float = 60.0) -> None:
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        with self._errors("connect"):
            self._sdk = LabelStudio(base_url=self.url, api_key=token, timeout=timeout)
        self._emails: dict[int, str] | None = None

    @classmethod
    def from_settings(cls) -> "LabelStudioClient":
        from django.conf import settings

        from labeling.lifecycle import LabelStudioServerConfig

        config = LabelStudioServerConfig.from_env()
        url = getattr(settings, "LABEL_STUDIO_URL", None) or config.url
        token = getattr(settings, "LABEL_STUDIO_TOKEN", None) or config.token
        return cls(url=url, token=token)

    @contextmanager
    def _errors(self, what: str):
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            yield
        except (httpx.ConnectError, httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
            raise LabelStudioUnavailable(
                f"Label Studio does not answer at {self.url} ({what}: {exc}). "
                "Is it running? Try `manage.py labeling_server status`."
            ) from exc
        except ApiError as exc:
            detail = exc.body
            if isinstance(exc.body, dict):
                detail = exc.body.get("validation_errors") or exc.body.get("detail")
            if exc.status_code in (401, 403):
                raise LabelStudioError(
                    f"Label Studio at {self.url} refused the API token ({what}): {detail}. "
                    "Check LABEL_STUDIO_TOKEN."
                ) from exc
            raise LabelStudioError(
                f"Label Studio could not {what} (HTTP {exc.status_code}): {detail}"
            ) from exc

    def whoami(self) -> str:
        with self._errors("identify the API user"):
            return self._sdk.users.whoami().email or ""

    def project_create(self, *, title: str, label_config: str, description: str = "") -> LsProject:
        # LS wants 3 to 50 characters.
        title = (title if len(title) >= 3 else f"Assay {title}")[:50]
        with self._errors("create the project"):
            project = self._sdk.projects.create(
                title=title, label_config=label_config, description=description
            )
        return LsProject(
            id=project.id, title=project.title or title, url=self.project_url(project.id)
        )

    def project_get(self, project_id: int) -> LsProject:
        with self._errors(f"read project {project_id}"):
            project = self._sdk.projects.get(id=project_id)
        return LsProject(
            id=project.id,
            title=project.title or "",
            url=self.project_url(project.id),
            label_config=project.label_config or "",
            model_version=project.model_version or "",
            maximum_annotations=project.maximum_annotations or 1,
        )

    def project_update_config(self, project_id: int, *, label_config: str) -> None:
        with self._errors(f"update the labelling interface of project {project_id}"):
            self._sdk.projects.update(id=project_id, label_config=label_config)

    def project_show_model_version(self, project_id: int, model_version: str) -> None:
        """Make annotators see this version's predictions as pre-annotations. A busy Label
        Studio can refuse a version whose predictions it has just stored ("doesn't exist
        either as live model or as static predictions"): that refusal is retried briefly."""
        for delay in (0.5, 1.0, 2.0, None):
            try:
                with self._errors(
                    f"select model version '{model_version}' in project {project_id}"
                ):
                    self._sdk.projects.update(
                        id=project_id, model_version=model_version, show_collab_predictions=True
                    )
                return
            except LabelStudioError as exc:
                if delay is None or "doesn't exist" not in str(exc):
                    raise
                time.sleep(delay)

    def project_set_overlap(self, project_id: int, annotators_per_task: int) -> None:
        """Every task is annotated by this many annotators (100% of tasks overlap)."""
        with self._errors(f"set the overlap of project {project_id}"):
            self._sdk.projects.update(
                id=project_id,
                maximum_annotations=annotators_per_task,
                overlap_cohort_percentage=100,
            )

    def project_delete(self, project_id: int) -> None:
        with self._errors(f"delete project {project_id}"):
            self._sdk.projects.delete(id=project_id)

    def project_url(self, project_id: int) -> str:
        return f"{self.url}/projects/{project_id}/data"

    def tasks_import(self, project_id: int, tasks: list[dict]) -> list[int]:
        """Create tasks; returns their ids in the order given."""
        with self._errors(f"import {len(tasks)} tasks into project {project_id}"):
            response = self._sdk.projects.import_tasks(
                id=project_id, request=tasks, return_task_ids=True
            )
        task_ids = list(getattr(response, "task_ids", None) or [])
        if len(task_ids) != len(tasks):
            raise LabelStudioError(
                f"Label Studio created {len(task_ids)} tasks for {len(tasks)} sent to project "
                f"{project_id}; push again to reconcile."
            )
        return task_ids

    def prediction_create(
        self, task_id: int, *, result: list[dict], score: float | None, model_version: str
    ) -> LsPrediction:
        with self._errors(f"add a prediction to task {task_id}"):
            made = self._sdk.predictions.create(
                task=task_id, result=result, score=score, model_version=model_version
            )
        return LsPrediction(made.id, task_id, made.model_version or "", made.score, made.result)

    def task_predictions(self, task_id: int) -> list[LsPrediction]:
        with self._errors(f"list the predictions of task {task_id}"):
            found = self._sdk.predictions.list(task=task_id)
        return [
            LsPrediction(p.id, task_id, p.model_version or "", p.score, list(p.result or []))
            for p in found
        ]

    def webhook_create(
        self, project_id: int, *, url: str, actions: list[str], headers: dict[str, str]
    ) -> int:
        with self._errors(f"register a webhook for project {project_id}"):
            hook = self._sdk.webhooks.create(
                url=url,
                project=project_id,
                send_payload=True,
                send_for_all_actions=False,
                actions=actions,
                headers=headers,
            )
        return hook.id

    def webhook_delete(self, webhook_id: int) -> None:
        with self._errors(f"delete webhook {webhook_id}"):
            self._sdk.webhooks.delete(id=webhook_id)

    def task_delete(self, task_id: int) -> None:
        with self._errors(f"delete task {task_id}"):
            self._sdk.tasks.delete(id=str(task_id))

    def _task_pages(
        self,
        project_id: int,
        *,
        fields: str,
        include: str | None,
        query: str | None = None,
        tail_page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[list]:
        """The tasks, a page (a list of SDK tasks) at a time: pages of LIST_PAGE_SIZE, and
        of ``tail_page_size`` (a divisor of it) once the rest fits in one full page."""
        seen, size = 0, LIST_PAGE_SIZE
        while True:
            with self._errors(f"list tasks of project {project_id}"):
                pager = self._sdk.tasks.list(
                    project=project_id,
                    page=seen // size + 1,  # ``seen`` is a multiple of ``size`` here
                    page_size=size,
                    fields=fields,
                    include=include,
                    query=query,
                )
            items = pager.items or []
            yield items
            seen += len(items)
            total = pager.response.total
            if not items or seen >= total:
                return
            if total - seen <= LIST_PAGE_SIZE and seen % tail_page_size == 0:
                size = tail_page_size

    def _task_items(self, project_id: int, **listing) -> Iterator:
        return _flatten(self._task_pages(project_id, **listing))

    def tasks_iter(self, project_id: int) -> Iterator[LsTask]:
        # Only id and data: the full task rows take LS about 2.5 times longer to build.
        for task in self._task_items(project_id, fields="task_only", include="id,data"):
            yield LsTask(id=task.id, data=dict(task.data or {}))

    def task_versions(self, project_id: int, *, updated_after: datetime) -> Iterator[LsTask]:
        """Every task LS changed since ``updated_after`` (an annotation made, changed or
        deleted touches its task), as id and ``updated_at`` only: a cheap listing that says
        which tasks to read in full (`annotated_tasks` with ``task_ids``)."""
        filters = {"conjunction": "and", "items": [updated_after_filter(updated_after)]}
        query = json.dumps({"filters": filters})
        for task in self._task_items(
            project_id, fields="task_only", include="id,updated_at", query=query
        ):
            yield LsTask(id=task.id, data={}, updated_at=_parse_time(task.updated_at))

    def annotated_tasks(
        self,
        project_id: int,
        *,
        updated_after: datetime | None = None,
        task_ids: list[int] | None = None,
    ) -> Iterator[LsTask]:
        """Tasks with their annotations (cancelled ones included, flagged): every task with
        an annotation; given ``updated_after``, every task LS changed since then, annotated
        or not; given ``task_ids``, those tasks (the ones LS no longer has are left out)."""
        if task_ids is not None:
            for start in range(0, len(task_ids), LIST_PAGE_SIZE):
                chunk = task_ids[start : start + LIST_PAGE_SIZE]
                query = {"selectedItems": {"all": False, "included": chunk}}
                yield from _flatten(self._annotated_pages(project_id, query))
            return
        filters = ANNOTATED_FILTER
        if updated_after is not None:
            filters = {"conjunction": "and", "items": [updated_after_filter(updated_after)]}
        yield from _flatten(self._annotated_pages(project_id, {"filters": filters}))

    def annotated_task_pages(self, project_id: int) -> Iterator[list[LsTask]]:
        """Every task with an annotation, as `annotated_tasks` gives them, a page at a time;
        the last pages are short (TAIL_PAGE_SIZE), for a reader that writes each page
        while the next is read."""
        return self._annotated_pages(
            project_id, {"filters": ANNOTATED_FILTER}, tail_page_size=TAIL_PAGE_SIZE
        )

    def _annotated_pages(
        self, project_id: int, query: dict, *, tail_page_size: int = LIST_PAGE_SIZE
    ) -> Iterator[list[LsTask]]:
        # No `include` here: with it LS shortens each annotation to its id.
        pages = self._task_pages(
            project_id,
            fields="all",
            include=None,
            query=json.dumps(query),
            tail_page_size=tail_page_size,
        )
        for page in pages:
            yield [self._annotated_task(task) for task in page]

    def _annotated_task(self, task) -> LsTask:
        data = dict(task.data or {})
        external_id = LsTask(id=task.id, data=data).external_id
        annotations = tuple(
            self._annotation(
                raw if isinstance(raw, dict) else raw.dict(),
                task.id,
                task_external_id=external_id,
            )
            for raw in getattr(task, "annotations", None) or []
        )
        return LsTask(task.id, data, _parse_time(task.updated_at), annotations)

    def annotations_iter(self, project_id: int) -> Iterator[LsAnnotation]:
        """Every annotation of the project, cancelled ones included (flagged)."""
        for task in self.annotated_tasks(project_id):
            yield from task.annotations

    def annotation_create(
        self,
        task_id: int,
        *,
        result: list[dict],
        lead_time: float | None = None,
        was_cancelled: bool = False,
        user_id: int | None = None,
    ) -> LsAnnotation:
        """Annotate a task, as ``user_id`` when given (an admin token may act for others)."""
        extra = {} if user_id is None else {"completed_by": user_id}
        with self._errors(f"annotate task {task_id}"):
            created = self._sdk.annotations.create(
                id=task_id,
                result=result,
                lead_time=lead_time,
                was_cancelled=was_cancelled,
                **extra,
            )
        return self._annotation(created.dict(), task_id)

    def annotation_update(self, annotation_id: int, *, result: list[dict]) -> LsAnnotation:
        with self._errors(f"update annotation {annotation_id}"):
            updated = self._sdk.annotations.update(id=annotation_id, result=result)
        return self._annotation(updated.dict(), updated.task)

    def annotation_delete(self, annotation_id: int) -> None:
        with self._errors(f"delete annotation {annotation_id}"):
            self._sdk.annotations.delete(id=annotation_id)

    def user_ensure(self, *, email: str) -> int:
        """The id of the LS user with this e-mail, created when missing."""
        with self._errors("list users"):
            for user in self._sdk.users.list():
                if (user.email or "").lower() == email.lower():
                    return user.id
        with self._errors(f"create user {email}"):
            user = self._sdk.users.create(email=email, username=email.split("@")[0])
        self._emails = None
        return user.id

    def personal_access_token_create(self) -> str:
        """A new personal access token (a JWT refresh token) for the calling user."""
        with self._errors("create a personal access token"):
            return self._sdk.tokens.create().token

    def personal_access_token_revoke(self, token: str) -> None:
        with self._errors("revoke a personal access token"):
            self._sdk.tokens.blacklist(refresh=token)

    def _annotation(
        self, raw: dict, task_id: int, *, task_external_id: str | None = None
    ) -> LsAnnotation:
        user_id = raw.get("completed_by")
        if isinstance(user_id, dict):
            user_id = user_id.get("id")
        return LsAnnotation(
            id=int(raw["id"]),
            task_id=int(raw.get("task") or task_id),
            user_id=user_id,
            user_email=self.user_email(user_id),
            task_external_id=task_external_id,
            result=list(raw.get("result") or []),
            lead_time=raw.get("lead_time"),
            was_cancelled=bool(raw.get("was_cancelled")),
            updated_at=_parse_time(raw.get("updated_at")),
        )

    def user_email(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if self._emails is None or user_id not in self._emails:
            with self._errors("list users"):
                self._emails = {user.id: user.email or "" for user in self._sdk.users.list()}
        return self._emails.get(user_id, f"label-studio-user-{user_id}")


def label_studio_client() -> LabelStudioClient:
    """The client for the configured server (``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_TOKEN``)."""
    return LabelStudioClient.from_settings()


__all__ = [
    "LabelStudioClient",
    "LsAnnotation",
    "LsPrediction",
    "LsProject",
    "LsTask",
    "label_studio_client",
]
