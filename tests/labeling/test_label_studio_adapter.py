"""The adapter against the real server: both token kinds, and errors a user can act on."""

import pytest

from labeling.exceptions import LabelStudioError, LabelStudioUnavailable
from labeling.integrations.label_studio import LabelStudioClient


def test_the_legacy_token_authenticates_as_the_admin(ls_client, label_studio_server):
    assert ls_client.whoami() == label_studio_server.username


def test_a_personal_access_token_authenticates_too(ls_client, label_studio_server):
    # LS allows one live personal token per user: revoke it so the next run can make one.
    token = ls_client.personal_access_token_create()
    try:
        assert token.count(".") == 2  # a JWT, which the SDK exchanges for access tokens
        client = LabelStudioClient(url=label_studio_server.url, token=token)
        assert client.whoami() == label_studio_server.username
    finally:
        ls_client.personal_access_token_revoke(token)


def test_a_wrong_token_is_reported_as_such(label_studio_server):
    client = LabelStudioClient(url=label_studio_server.url, token="0" * 40)
    with pytest.raises(LabelStudioError, match="refused the API token"):
        client.whoami()


def test_an_unreachable_server_is_reported_with_its_url():
    client = LabelStudioClient(url="http://127.0.0.1:9", token="0" * 40, timeout=2)
    with pytest.raises(LabelStudioUnavailable, match="does not answer at http://127.0.0.1:9"):
        client.whoami()


def test_tasks_round_trip_with_their_external_id(ls_client):
    project = ls_client.project_create(
        title="adapter test",
        label_config='<View><Text name="text" value="$text"/></View>',
    )
    try:
        ids = ls_client.tasks_import(
            project.id, [{"text": f"t{i}", "assay_external_id": f"e{i}"} for i in range(3)]
        )
        tasks = {task.id: task for task in ls_client.tasks_iter(project.id)}
        assert sorted(tasks) == sorted(ids)
        assert [tasks[i].external_id for i in ids] == ["e0", "e1", "e2"]
    finally:
        ls_client.project_delete(project.id)


def test_annotated_pages_end_short_and_read_every_task_once(ls_client, monkeypatch):
    """A full pull's pages: full pages, then short ones for the last page's worth, each
    task once and in order (pages of 4 and 2 here stand for 1,000 and 250)."""
    from labeling.core.label_config import classification_label_config, classification_result
    from labeling.integrations import label_studio

    monkeypatch.setattr(label_studio, "LIST_PAGE_SIZE", 4)
    monkeypatch.setattr(label_studio, "TAIL_PAGE_SIZE", 2)
    config = classification_label_config(fields=["text"], labels=["ham", "spam"])
    project = ls_client.project_create(title="adapter pages", label_config=config)
    try:
        annotation = {"result": classification_result("spam", to_name="text")}
        tasks = [
            {"data": {"text": f"t{i}", "assay_external_id": f"e{i}"}, "annotations": [annotation]}
            for i in range(11)
        ]
        ids = ls_client.tasks_import(project.id, tasks)
        ls_client.tasks_import(project.id, [{"text": "not annotated"}])
        pages = list(ls_client.annotated_task_pages(project.id))
        assert [len(page) for page in pages] == [4, 4, 2, 1]
        read = [task for page in pages for task in page]
        assert [task.id for task in read] == sorted(ids)
        assert all(len(task.annotations) == 1 for task in read)
        assert [t.id for t in ls_client.annotated_tasks(project.id)] == sorted(ids)
    finally:
        ls_client.project_delete(project.id)


def test_a_model_version_label_studio_has_not_registered_yet_is_retried(monkeypatch):
    """A busy Label Studio may refuse a model version whose predictions it has just
    stored; selecting it is retried instead of failing the push."""
    from label_studio_sdk.core.api_error import ApiError

    from labeling.integrations import label_studio

    calls = []

    class Projects:
        def update(self, **fields):
            calls.append(fields)
            if len(calls) < 3:
                raise ApiError(
                    status_code=400,
                    body={
                        "validation_errors": {
                            "model_version": ["Model version doesn't exist either as live model"]
                        }
                    },
                )

    client = label_studio.LabelStudioClient.__new__(label_studio.LabelStudioClient)
    client.url = "http://ls.test"
    client._sdk = type("Sdk", (), {"projects": Projects()})()
    monkeypatch.setattr(label_studio.time, "sleep", lambda seconds: None)

    client.project_show_model_version(7, "deployment:bot")

    assert len(calls) == 3 and calls[-1]["model_version"] == "deployment:bot"
