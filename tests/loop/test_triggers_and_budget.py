"""Bad trigger input is refused by name and creates nothing; a launch over the project's
budget is refused with the budget and the estimate in the message."""

import pytest

from curation.exceptions import AssayError
from loop.models import LoopPolicy, RetrainingTrigger
from loop.services.triggers import retraining_trigger_create
from tests.factories import ProjectFactory
from tests.training.conftest import approved_version, tiny_values
from training.models import TrainingRun
from training.services.launch import training_run_prepare

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "schedule", "cron": "61 * * * *"}, "minute field takes 0-59"),
        ({"kind": "schedule", "cron": "weekly"}, "five fields"),
        ({"kind": "drift_above", "metric": "embedding_auc", "threshold": 1.7}, "between 0 and 1"),
        ({"kind": "metric_below", "metric": "vibes", "threshold": 0.5}, "not a monitored metric"),
        ({"kind": "new_examples", "count": 0}, "at least 1"),
        ({"kind": "sometimes"}, "Unknown trigger kind"),
    ],
)
def test_bad_triggers_are_refused_and_nothing_is_created(fields, message):
    with pytest.raises(AssayError, match=message):
        retraining_trigger_create(project=ProjectFactory(), **fields)
    assert not RetrainingTrigger.objects.exists()


def test_a_valid_schedule_trigger_is_kept():
    trigger = retraining_trigger_create(project=ProjectFactory(), kind="schedule",
                                        cron="0 3 * * 1")  # fmt: skip
    assert trigger.cron == "0 3 * * 1"


def test_a_launch_over_budget_is_refused_naming_budget_and_estimate(spam_project, tiny_bert):
    version = approved_version(spam_project)
    LoopPolicy.objects.create(project=spam_project, budget=0.0)

    with pytest.raises(AssayError, match=r"Over budget: this launch is estimated at .*budget of"):
        training_run_prepare(version=version, values=tiny_values(tiny_bert))
    assert not TrainingRun.objects.exists()

    LoopPolicy.objects.filter(project=spam_project).update(budget=1000.0)
    assert training_run_prepare(version=version, values=tiny_values(tiny_bert)).pk
