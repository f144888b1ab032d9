"""Run handlers used only by the worker tests, and an entry point that starts a management
command (``db_worker``) with them registered, so a worker subprocess can execute them:
``python -m tests.worker_handlers db_worker --batch``.

``ASSAY_TEST_PROGRESS_DELAY=SECONDS`` makes every progress report of that process wait, so
a test can catch a run mid-way (and kill it) however fast the machine is.

``ASSAY_TEST_KILL_AT_PROGRESS=PERCENT`` is a fault point: the first progress report of that
process at or past PERCENT (below 100) is published, and then the process SIGKILLs itself,
wherever the handler is (inside its data transaction, between Label Studio batches...): a
worker dying mid-run at a chosen, reproducible point."""

import os
import sys

ECHO_KIND = "test_echo"
CRASH_KIND = "test_crash"
# The echo handler under a kind the queue tests route to the "gpu" queue.
GPU_ECHO_KIND = "test_gpu_echo"


def echo_handler(run, progress) -> dict:
    """Succeeds, returning its params with the pid of the process that ran it."""
    progress.update(50, "halfway")
    progress.log(f"echo from pid {os.getpid()}")
    return {"echo": run.params, "pid": os.getpid()}


def crash_handler(run, progress) -> dict:
    progress.log("about to crash")
    raise RuntimeError(f"handler crashed on purpose (run {run.pk})")


TEST_HANDLERS = {
    ECHO_KIND: f"{__name__}.echo_handler",
    CRASH_KIND: f"{__name__}.crash_handler",
    GPU_ECHO_KIND: f"{__name__}.echo_handler",
}


def register_test_handlers() -> None:
    from curation.services.runs import register_run_kind

    for kind, dotted_path in TEST_HANDLERS.items():
        register_run_kind(kind, handler=dotted_path, title=kind)


def slow_down_progress(seconds: float) -> None:
    import time

    from curation.services.runs import RunProgress

    publish = RunProgress.publish

    def slow_publish(self, percent: float, message: str = "") -> None:
        publish(self, percent, message)
        time.sleep(seconds)

    RunProgress.publish = slow_publish


def kill_at_progress(percent: float) -> None:
    import signal

    from curation.services.runs import RunProgress

    publish = RunProgress.publish

    def publish_then_die(self, reported: float, message: str = "") -> None:
        publish(self, reported, message)
        if percent <= reported < 100:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    RunProgress.publish = publish_then_die


def main(argv: list[str]) -> None:
    import django
    from django.core.management import execute_from_command_line

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.test")
    django.setup()
    register_test_handlers()
    if os.environ.get("ASSAY_TEST_PROGRESS_DELAY"):
        slow_down_progress(float(os.environ["ASSAY_TEST_PROGRESS_DELAY"]))
    if os.environ.get("ASSAY_TEST_KILL_AT_PROGRESS"):
        kill_at_progress(float(os.environ["ASSAY_TEST_KILL_AT_PROGRESS"]))
    execute_from_command_line(["manage.py", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
