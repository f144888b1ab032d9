"""Issue 12's fault suite: for every run kind, a real worker process is SIGKILLed in the
middle of a run. Nothing partial may be visible, the dead run must end failed before a
user could start another (within the minute), and the rerun must end exactly where a
twin project that never saw a fault ends."""

import time

import pytest

from curation.models import Run, RunStatus
from curation.selectors.runs import run_live_state
from tests.factories import UserFactory
from tests.faults import cases_data, cases_integrations
from tests.faults.conftest import was_killed
from tests.faults.seed import FaultCase, FaultEnv, seeded_project

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "case", cases_data.CASES + cases_integrations.CASES, ids=lambda case: case.name
)
def test_a_worker_killed_mid_run_leaves_nothing_partial_and_the_rerun_matches(
    case: FaultCase, worker, tmp_path, transactional_db, request
):
    # transactional_db: the workers are other processes, which see only committed rows.
    env = FaultEnv(tmp_path, UserFactory(username="owner"), request.getfixturevalue)
    faulted, twin = seeded_project("Faulted"), seeded_project("Twin")
    for project in (faulted, twin):
        case.prepare(project, env)
    # What starting a run makes (a training run's registry row) is there before the work.
    killed = case.begin(faulted, env)
    before = case.visible(faulted)
    dying = worker(kill_at=case.kill_at)

    assert was_killed(dying), dying.stderr[-3000:]
    died_at = time.monotonic()
    killed.refresh_from_db()
    assert killed.status == RunStatus.RUNNING  # what a dead worker leaves in its row,
    assert run_live_state(killed)["status"] == RunStatus.FAILED  # not what a user sees
    if case.partial is None:
        assert case.visible(faulted) == before  # nothing partial
    else:
        case.partial(before, case.visible(faulted))

    rerun = case.begin(faulted, env)  # refused while the dead run still blocked
    reference = case.begin(twin, env)
    killed.refresh_from_db()
    assert killed.status == RunStatus.FAILED
    assert "abandoned" in killed.error
    assert time.monotonic() - died_at < 60

    finished = worker()

    assert finished.returncode == 0, finished.stderr[-3000:]
    for run in (rerun, reference):
        run = Run.objects.get(pk=run.pk)
        assert run.status == RunStatus.SUCCEEDED, run.error
    after = case.visible(faulted)
    assert after != before
    assert after == case.visible(twin)
