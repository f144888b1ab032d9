"""Label Studio beside web and worker under `assay_serve`, and its settings in production."""

import os
import subprocess
import sys
from pathlib import Path

from curation.management.commands.assay_serve import served_processes

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_label_studio_starts_first_and_the_reconcile_loop_runs_beside_the_worker():
    processes = served_processes(
        host="127.0.0.1", port=8000, task_backend="database", label_studio=True
    )

    assert [p.name for p in processes] == [
        "label-studio",
        "web",
        "worker",
        "experiments",
        "reconcile",
    ]
    assert processes[0].argv[-2:] == ["labeling_server", "run"]
    assert processes[-1].argv[-2:] == ["labeling_reconcile", "--loop"]


def _prod_settings(**env: str) -> subprocess.CompletedProcess:
    names = ("LABEL_STUDIO_", "DATABASE_URL", "ASSAY_DATABASE_NAME")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "curation.settings.prod", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_with_label_studio_requires_its_secrets(tmp_path):
    refused = _prod_settings(ASSAY_DATA_DIR=str(tmp_path), LABEL_STUDIO_ENABLED="true")
    assert refused.returncode != 0
    assert "LABEL_STUDIO_TOKEN, LABEL_STUDIO_WEBHOOK_SECRET" in refused.stderr

    secrets = {
        name: "s3cret"
        for name in (
            "LABEL_STUDIO_TOKEN",
            "LABEL_STUDIO_WEBHOOK_SECRET",
            "LABEL_STUDIO_PASSWORD",
            "LABEL_STUDIO_SECRET_KEY",
        )
    }
    started = _prod_settings(ASSAY_DATA_DIR=str(tmp_path), LABEL_STUDIO_ENABLED="true", **secrets)
    assert started.returncode == 0, started.stderr
