"""Install, start, stop or check local vLLM servers (one per base model)."""

from django.core.management.base import BaseCommand, CommandError

from serving.engines.vllm_server import (
    VllmServerConfig,
    VllmServerError,
    server_install,
    server_start,
    server_status,
    server_stop,
    servers_running,
)


def _lora_module(value: str) -> tuple[str, str]:
    name, separator, path = value.partition("=")
    if not separator or not name or not path:
        raise CommandError(f"--lora takes NAME=DIR, not {value!r}.")
    return name, path


class Command(BaseCommand):
    help = (
        "Manage local vLLM servers (their own virtualenv, bound to 127.0.0.1). "
        "Configured by ASSAY_VLLM_* environment variables (see serving/engines/vllm_server.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["install", "start", "stop", "status"])
        parser.add_argument("--base-model", help="start: a local Hugging Face model folder.")
        parser.add_argument(
            "--lora",
            action="append",
            default=[],
            metavar="NAME=DIR",
            help="start: serve a PEFT LoRA adapter under NAME (repeatable).",
        )
        parser.add_argument("--port", type=int, help="start/stop: the port (ASSAY_VLLM_PORT).")
        parser.add_argument(
            "--timeout", type=float, default=600.0, help="start: seconds to wait until ready."
        )

    def handle(self, *args, action: str, base_model, lora, port, timeout, **options):
        config = VllmServerConfig.from_env()
        if port:
            config = config.on_port(port)
        try:
            if action == "install":
                self.stdout.write(
                    f"Installing vLLM into {config.venv_dir} (log: {config.install_log}) …"
                )
                installed = server_install(config)
                self.stdout.write(
                    self.style.SUCCESS("Installed." if installed else "Already installed.")
                )
            elif action == "start":
                if not base_model:
                    raise CommandError("start needs --base-model PATH.")
                modules = dict(_lora_module(value) for value in lora)
                pid = server_start(
                    config, base_model=base_model, lora_modules=modules, timeout=timeout
                )
                self.stdout.write(
                    self.style.SUCCESS(f"vLLM (pid {pid}) at {config.url}, log {config.log_file}")
                )
            elif action == "stop":
                self._stop(config, all_servers=not port)
            else:
                self._print_status(server_status(config))
        except VllmServerError as exc:
            raise CommandError(str(exc)) from exc

    def _stop(self, config: VllmServerConfig, *, all_servers: bool) -> None:
        """Without --port, stops every server started from this run directory."""
        ports = [state.port for state in servers_running(config)] if all_servers else [config.port]
        stopped = [port for port in ports if server_stop(config.on_port(port))]
        self.stdout.write(
            f"Stopped vLLM on port(s) {', '.join(map(str, stopped))}."
            if stopped
            else "No vLLM started here runs."
        )

    def _print_status(self, status: dict) -> None:
        self.stdout.write(f"installed: {status['installed']} ({status['venv']})")
        if not status["servers"]:
            self.stdout.write("no server running")
        for server in status["servers"]:
            health = "UP" if server["models"] is not None else "DOWN"
            models = ", ".join(server["models"] or [])
            self.stdout.write(
                f"{server['url']} pid {server['pid']}: {health}  base {server['base_model']}"
            )
            self.stdout.write(f"  models: {models or '-'}")
