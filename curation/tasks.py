"""Background tasks: each takes ids, and calls one service."""

from django_tasks import task

from curation.services.runs import run_execute


@task()
def run_execute_task(run_id: int) -> None:
    run_execute(run_id)
