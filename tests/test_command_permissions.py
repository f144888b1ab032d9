"""Every command that acts on a project checks the acting user's role (``--user``), as the
pages and the API do: a non-member is told the project does not exist, a member whose role
lacks the action is refused, and nothing runs."""

import pytest
from django.core.management import CommandError, call_command

from curation.models import Run
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

# (command, extra positional arguments after PROJECT, role that may NOT run it)
COMMANDS = [
    ("labeling_link", [], "data_lead"),
    ("labeling_push", [], "annotator"),
    ("labeling_pull", [], "ml_engineer"),
    ("ws_apply", [], "annotator"),
    ("ws_fit", [], "ml_engineer"),
    ("ws_lfs_load", ["lfs.json"], "annotator"),
    ("quality_check", [], "annotator"),
    ("train_start", ["1"], "data_lead"),
]


@pytest.mark.parametrize(("command", "extra", "role"), COMMANDS)
def test_a_role_without_the_right_is_refused_and_nothing_runs(command, extra, role):
    project = ProjectFactory(name="Spam")
    member = MembershipFactory(project=project, role=role).user
    with pytest.raises(CommandError, match="does not allow"):
        call_command(command, "Spam", *extra, "--user", member.username)
    assert not Run.objects.exists()


@pytest.mark.parametrize(("command", "extra", "role"), [*COMMANDS, ("ws_analysis", [], "")])
def test_a_non_member_cannot_see_the_project(command, extra, role):
    ProjectFactory(name="Spam")
    outsider = UserFactory()
    with pytest.raises(CommandError, match="No project"):
        call_command(command, "Spam", *extra, "--user", outsider.username)
    assert not Run.objects.exists()


# Commands on a training run: (command, arguments before the run id, role that may NOT)
RUN_COMMANDS = [
    ("train_preference", ["create"], "annotator"),
    ("train_preference", ["pull"], "data_lead"),
]


def _training_run(project):
    from curation.services.versions import dataset_version_build
    from tests.factories import ExampleFactory
    from training.models import TrainingRun

    ExampleFactory.create_batch(4, project=project, resolved_label="ham")
    version = dataset_version_build(project=project, seed=0)
    return TrainingRun.objects.create(
        project=project, version=version, version_hash=version.content_hash,
        task_type="generation", method="lora", base_model="tiny", config={}, output_dir="/x",
    )  # fmt: skip


@pytest.mark.parametrize(("command", "before", "role"), RUN_COMMANDS)
def test_a_run_command_refuses_a_role_without_the_right_and_hides_from_outsiders(
    command, before, role
):
    from training.models import PreferenceStudy

    project = ProjectFactory(name="Spam", label_set=["ham", "spam"])
    training_run = _training_run(project)
    member = MembershipFactory(project=project, role=role).user
    with pytest.raises(CommandError, match="does not allow"):
        call_command(command, *before, str(training_run.pk), "--user", member.username)
    with pytest.raises(CommandError, match="No project"):
        call_command(command, *before, str(training_run.pk), "--user", UserFactory().username)
    assert not PreferenceStudy.objects.exists()
