import pytest

from curation.exceptions import AssayError
from curation.models import Project
from curation.services.projects import project_create, project_label_set_extend

pytestmark = pytest.mark.django_db


def test_defaults_field_schema_by_task_type():
    classification = project_create(
        name="Spam", task_type="classification", label_set=["ham", "spam"]
    )
    generation = project_create(name="Summaries", task_type="generation")
    assert classification.content_fields == ["text"]
    assert generation.content_fields == ["prompt", "response"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " ", "task_type": "classification"}, "needs a name"),
        ({"name": "X", "task_type": "regression"}, "Unknown task type 'regression'"),
        (
            {"name": "X", "task_type": "classification", "label_set": ["a", "a"]},
            "lists a more than once",
        ),
        ({"name": "X", "task_type": "generation", "label_set": ["a"]}, "no label set"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(kwargs, message):
    with pytest.raises(AssayError, match=message):
        project_create(**kwargs)
    assert not Project.objects.exists()


def test_duplicate_name_is_refused():
    project_create(name="Spam", task_type="classification")
    with pytest.raises(AssayError, match="already exists"):
        project_create(name="Spam", task_type="generation")


def test_label_set_extend_keeps_order_and_skips_known_labels():
    project = project_create(name="Spam", task_type="classification", label_set=["ham"])
    project_label_set_extend(project=project, labels=["spam", "ham"])
    project.refresh_from_db()
    assert project.label_set == ["ham", "spam"]
