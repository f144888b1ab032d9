"""`manage.py quality_check` and the web process staying free of heavy imports."""

import subprocess
import sys
from io import StringIO

from django.core.management import call_command

from curation.quality.models import Finding, FindingKind
from tests.factories import UserFactory


def test_quality_check_command_reports_and_stores_findings(quality_version):
    UserFactory(username="operator", is_superuser=True)  # commands act as the one superuser
    out = StringIO()
    call_command(
        "quality_check",
        str(quality_version.project.pk),
        str(quality_version.number),
        "--check",
        "duplicates",
        "--check",
        "label_issues",
        verbosity=0,
        stdout=out,
    )
    text = out.getvalue()
    assert "cross-split leaks   1" in text
    assert Finding.objects.filter(version=quality_version, kind=FindingKind.LABEL_ISSUE).exists()


def test_loading_the_urls_imports_no_heavy_library():
    code = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'curation.settings.test'); django.setup(); import curation.urls; "
        "import curation.quality.views.checks, curation.quality.api; "
        "heavy = {'great_expectations', 'cleanlab', 'sklearn', 'torch', 'transformers'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
