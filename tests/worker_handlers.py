"""Run handlers used only by the worker tests, and an entry point that starts a management
command (``db_worker``) with them registered, so a worker subprocess can execute them:
``python -m tests.worker_handlers db_worker --batch``."""

import os
import sys

ECHO_KIND = "test_echo"
CRASH_KIND = "test_crash"


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
}


def register_test_handlers() -> None:
    from curation.services.runs import register_run_kind

    for kind, dotted_path in TEST_HANDLERS.items():
        register_run_kind(kind, handler=dotted_path, title=kind)


def main(argv: list[str]) -> None:
    import django
    from django.core.management import execute_from_command_line

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings.test")
    django.setup()
    register_test_handlers()
    execute_from_command_line(["manage.py", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
