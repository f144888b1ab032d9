"""Loading the URLconf (the web process) imports none of the heavy libraries."""

import subprocess
import sys

HEAVY = ["torch", "snorkel", "sklearn", "pandas", "cleanlab", "transformers"]


def test_web_process_does_not_import_heavy_libraries():
    code = (
        "import django, sys; django.setup(); "
        "from django.urls import get_resolver; get_resolver().url_patterns; "
        "import curation.weak_supervision.api, curation.weak_supervision.views.functions; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "curation.settings.test", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
