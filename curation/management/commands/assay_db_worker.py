"""django-tasks-db's ``db_worker``, except that a locked SQLite database is waited out.

On SQLite an import holds the only write lock for as long as it runs (one all-or-nothing
transaction, minutes for a large file). ``db_worker`` claims tasks in an exclusive
transaction; when that transaction cannot even begin within the busy timeout, the library
lets the "database is locked" error end the worker. This worker polls again instead: the
lock ends with the import, and queued runs start then. Every other error still ends it.
Options are db_worker's; autoreload is not offered (`assay_serve` passes --no-reload).
"""

import logging

from django.db import OperationalError, close_old_connections
from django_tasks_db.management.commands import db_worker
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger("curation.worker")


class LockTolerantWorker(db_worker.Worker):
    def run(self) -> None:
        while True:
            try:
                return super().run()
            except OperationalError as exc:
                if not self.running or not is_locked_database_exception(exc):
                    raise
                logger.info("The database is locked by a long write; polling again: %s", exc)
                close_old_connections()


class Command(db_worker.Command):
    help = "Run the database task worker; a locked SQLite database is waited out, not fatal."

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay,
               max_tasks, worker_id, exclude_queues, **options) -> None:  # fmt: skip
        self.configure_logging(verbosity)
        worker = LockTolerantWorker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        worker.run()
