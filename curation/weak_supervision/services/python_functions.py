"""Python LFs: loading the project's module and keeping one `LabelingFunction` (with a
version per distinct source) for each function it registers."""

from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Project
from curation.weak_supervision.core.python_lfs import LoadedLF, PythonLFError, load_python_lfs
from curation.weak_supervision.models import LabelingFunction, LabelingFunctionVersion, LFKind
from curation.weak_supervision.selectors.functions import project_vote_labels


def python_lfs_load(*, project: Project, module_path: str) -> list[LoadedLF]:
    try:
        return load_python_lfs(module_path, label_set=project_vote_labels(project))
    except PythonLFError as exc:
        raise AssayError(str(exc)) from exc


@transaction.atomic
def python_lfs_sync(
    *, project: Project, module_path: str
) -> list[tuple[LoadedLF, LabelingFunctionVersion]]:
    """Load the module; record a new version for each function whose source changed, and
    switch off Python LFs the module no longer has."""
    loaded = python_lfs_load(project=project, module_path=module_path)
    pairs = []
    for lf in loaded:
        row, _ = LabelingFunction.objects.get_or_create(
            project=project, name=lf.name, defaults={"kind": LFKind.PYTHON}
        )
        if row.kind != LFKind.PYTHON:
            raise AssayError(f"'{lf.name}' in {module_path} has the name of a declarative LF.")
        if not row.is_active:
            row.is_active = True
            row.save(update_fields=["is_active"])
        params = {"module": module_path, "source_sha256": lf.source_sha256}
        latest = row.latest_version
        if latest is None or latest.params != params:
            latest = LabelingFunctionVersion.objects.create(
                labeling_function=row,
                number=(latest.number if latest else 0) + 1,
                kind=LFKind.PYTHON,
                params=params,
            )
        pairs.append((lf, latest))
    LabelingFunction.objects.filter(project=project, kind=LFKind.PYTHON).exclude(
        name__in=[lf.name for lf in loaded]
    ).update(is_active=False)
    return pairs
