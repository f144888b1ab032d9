"""Configuration and control of the local Label Studio server."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labeling.lifecycle import LabelStudioServerConfig, server_health, server_start


def test_port_and_url_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_PORT", "9123")
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert LabelStudioServerConfig.from_env().url == "http://127.0.0.1:9123"
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://ls.internal:8080/")
    assert LabelStudioServerConfig.from_env().url == "http://ls.internal:8080"


def test_the_server_gets_a_fixed_secret_legacy_token_and_no_telemetry(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "curation.settings.test")
    monkeypatch.setenv("LABEL_STUDIO_TOKEN", "f" * 40)
    env = LabelStudioServerConfig.from_env().server_env()
    assert env["LABEL_STUDIO_USER_TOKEN"] == "f" * 40
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert env["SECRET_KEY"] and env["SSRF_PROTECTION_ENABLED"] == "false"
    assert env["COLLECT_ANALYTICS"] == "false" and env["SENTRY_DSN"] == ""
    # Assay's settings module would make Label Studio's Django load the wrong settings.
    assert "DJANGO_SETTINGS_MODULE" not in env


def test_health_is_false_where_nothing_listens():
    assert server_health("http://127.0.0.1:9", timeout=0.5) is False


def test_starting_beside_a_running_server_starts_nothing(label_studio_server):
    assert server_start(label_studio_server) is None


def test_status_command_reports_a_running_server(label_studio_server, capsys):
    call_command("labeling_server", "status")
    assert f"{label_studio_server.url}: UP" in capsys.readouterr().out


def test_status_command_fails_when_the_server_is_down(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    with pytest.raises(CommandError, match="not answering at http://127.0.0.1:9"):
        call_command("labeling_server", "status")
