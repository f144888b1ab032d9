"""Install, start, stop or check the local Label Studio server."""

from django.core.management.base import BaseCommand, CommandError

from labeling.lifecycle import (
    LabelStudioServerConfig,
    LabelStudioServerError,
    server_install,
    server_is_installed,
    server_run_foreground,
    server_start,
    server_status,
    server_stop,
)


class Command(BaseCommand):
    help = "Manage the local Label Studio server (its own virtualenv, bound to 127.0.0.1)."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=["install", "start", "stop", "status", "run"],
            help="run: in the foreground (for assay_serve); install skips an installed one "
            "unless --force.",
        )
        parser.add_argument("--force", action="store_true", help="Reinstall.")
        parser.add_argument(
            "--timeout", type=float, default=240.0, help="Seconds to wait for a healthy start."
        )

    def handle(self, *args, action: str, timeout: float, force: bool, **options):
        config = LabelStudioServerConfig.from_env()
        try:
            if action == "run":
                server_run_foreground(config)
            elif action == "install" and server_is_installed(config) and not force:
                self.stdout.write(f"Label Studio is installed in {config.venv_dir}.")
            elif action == "install":
                self.stdout.write(f"Installing Label Studio into {config.venv_dir} …")
                server_install(config)
                self.stdout.write(self.style.SUCCESS("Label Studio installed."))
            elif action == "start":
                pid = server_start(config, timeout=timeout)
                if pid is None:
                    self.stdout.write(f"Label Studio is already running at {config.url}.")
                else:
                    self.stdout.write(
                        self.style.SUCCESS(f"Label Studio (pid {pid}) at {config.url}")
                    )
            elif action == "stop":
                stopped = server_stop(config)
                self.stdout.write("Stopped." if stopped else "No Label Studio started here runs.")
            else:
                self._print_status(server_status(config))
        except LabelStudioServerError as exc:
            raise CommandError(str(exc)) from exc

    def _print_status(self, status: dict) -> None:
        health = "UP" if status["healthy"] else "DOWN"
        self.stdout.write(f"{status['url']}: {health}")
        self.stdout.write(f"installed: {status['installed']}, pid: {status['pid'] or '-'}")
        self.stdout.write(f"log: {status['log']}")
        if not status["healthy"]:
            raise CommandError(f"Label Studio is not answering at {status['url']}.")
