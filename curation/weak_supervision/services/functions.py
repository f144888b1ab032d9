"""Labeling-function services: create, edit (a new version each time), switch on and off,
the built-in generation library, and the project's Python LF module."""

from django.db import transaction

from curation.exceptions import AssayError
from curation.models import Project
from curation.weak_supervision.core.declarative import KINDS, LFSpecError, compile_spec
from curation.weak_supervision.models import (
    LabelingFunction,
    LabelingFunctionVersion,
    LFKind,
    LFModuleSetting,
)
from curation.weak_supervision.selectors.functions import project_vote_labels


def _clean_params(project: Project, kind: str, params: dict, label: str) -> dict:
    """Validate by compiling; return the params with the field filled in."""
    labels = project_vote_labels(project)
    if label not in labels:
        raise AssayError(f"An LF must vote one of {', '.join(labels)}, not '{label}'.")
    if kind not in KINDS:
        raise AssayError(f"Unknown LF kind '{kind}'; expected one of {', '.join(KINDS)}.")
    params = {**params, "field": params.get("field") or project.content_fields[0]}
    try:
        compile_spec(name="check", kind=kind, params=params, vote=0, fields=project.content_fields)
    except LFSpecError as exc:
        raise AssayError(str(exc)) from exc
    return params


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise AssayError(
            f"An LF name needs letters, digits, '_' or '-' only (got {name!r}), e.g. keyword_my."
        )
    return name


@transaction.atomic
def labeling_function_create(
    *,
    project: Project,
    name: str,
    kind: str,
    label: str,
    params: dict,
    description: str = "",
    created_by=None,
) -> LabelingFunction:
    """A declarative LF with its first version."""
    name = _clean_name(name)
    if LabelingFunction.objects.filter(project=project, name=name).exists():
        raise AssayError(f"Project '{project.name}' already has an LF named '{name}'.")
    params = _clean_params(project, kind, params, label)
    lf = LabelingFunction.objects.create(
        project=project, name=name, kind=kind, description=description, created_by=created_by
    )
    LabelingFunctionVersion.objects.create(
        labeling_function=lf, number=1, kind=kind, label=label, params=params, created_by=created_by
    )
    return lf


@transaction.atomic
def labeling_function_update(
    *,
    labeling_function: LabelingFunction,
    label: str,
    params: dict,
    kind: str | None = None,
    description: str | None = None,
    created_by=None,
) -> LabelingFunctionVersion:
    """Edit a declarative LF: a new version when the rule or vote changed (the old versions
    stay, so applications made with them keep their meaning)."""
    lf = LabelingFunction.objects.select_for_update().get(pk=labeling_function.pk)
    if lf.kind == LFKind.PYTHON:
        raise AssayError(f"'{lf.name}' is a Python LF: edit it in its module.")
    kind = kind or lf.kind
    params = _clean_params(lf.project, kind, params, label)
    if description is not None and description != lf.description:
        lf.description = description
        lf.save(update_fields=["description"])
    latest = lf.latest_version
    if latest and (latest.kind, latest.label, latest.params) == (kind, label, params):
        return latest
    if kind != lf.kind:
        lf.kind = kind
        lf.save(update_fields=["kind"])
    return LabelingFunctionVersion.objects.create(
        labeling_function=lf,
        number=(latest.number if latest else 0) + 1,
        kind=kind,
        label=label,
        params=params,
        created_by=created_by,
    )


@transaction.atomic
def labeling_function_set_active(
    *, labeling_function: LabelingFunction, is_active: bool
) -> LabelingFunction:
    labeling_function.is_active = is_active
    labeling_function.save(update_fields=["is_active"])
    return labeling_function


@transaction.atomic
def labeling_functions_add_library(*, project: Project, created_by=None) -> list[LabelingFunction]:
    """Add the built-in accept/reject LFs of a generation project (those not there yet)."""
    from curation.weak_supervision.core.library import GENERATION_LIBRARY

    if project.is_classification:
        raise AssayError("The built-in LF library is for generation (prompt → response) projects.")
    missing = {"prompt", "response"} - set(project.content_fields)
    if missing:
        raise AssayError(f"The built-in LFs read fields this project lacks: {sorted(missing)}.")
    existing = set(project.labeling_functions.values_list("name", flat=True))
    return [
        labeling_function_create(
            project=project,
            name=spec["name"],
            kind=spec["kind"],
            label=spec["label"],
            params=spec["params"],
            description=spec["description"],
            created_by=created_by,
        )
        for spec in GENERATION_LIBRARY
        if spec["name"] not in existing
    ]


@transaction.atomic
def lf_module_set(*, project: Project, module_path: str) -> LFModuleSetting:
    """Point the project at its Python LF module (checked by loading it now)."""
    from curation.weak_supervision.services.python_functions import python_lfs_load

    module_path = module_path.strip()
    setting, _ = LFModuleSetting.objects.update_or_create(
        project=project, defaults={"module_path": module_path}
    )
    if module_path:
        python_lfs_load(project=project, module_path=module_path)
    return setting


@transaction.atomic
def labeling_functions_load(*, project: Project, specs: list[dict], created_by=None):
    """Create the LFs ``specs`` names, or add a version to those that exist; all or
    nothing. Returns (created, updated)."""
    if not isinstance(specs, list):
        raise AssayError("Expected a JSON list of labeling functions.")
    created = updated = 0
    for number, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            raise AssayError(f"Labeling function {number} is not an object: {spec!r:.60}.")
        missing = {"name", "kind", "label", "params"} - set(spec)
        if missing:
            raise AssayError(f"Labeling function {number} lacks {', '.join(sorted(missing))}.")
        try:
            outcome = _labeling_function_load_one(project=project, spec=spec, created_by=created_by)
        except AssayError as exc:  # say which of the file's LFs: a file may hold dozens
            raise AssayError(f"Labeling function {number} ('{spec['name']}'): {exc}") from exc
        created += outcome == "created"
        updated += outcome == "updated"
    return created, updated


def _labeling_function_load_one(*, project: Project, spec: dict, created_by) -> str:
    """Create or update one LF of a file: 'created', 'updated' or 'unchanged'."""
    if not isinstance(spec["params"], dict):
        raise AssayError(f"'params' must be an object, not {spec['params']!r:.60}.")
    lf = LabelingFunction.objects.filter(project=project, name=spec["name"]).first()
    if lf is None:
        labeling_function_create(
            project=project,
            name=spec["name"],
            kind=spec["kind"],
            label=spec["label"],
            params=spec["params"],
            description=spec.get("description", ""),
            created_by=created_by,
        )
        return "created"
    before = lf.latest_version
    version = labeling_function_update(
        labeling_function=lf,
        kind=spec["kind"],
        label=spec["label"],
        params=spec["params"],
        description=spec.get("description"),
        created_by=created_by,
    )
    return "updated" if version.pk != before.pk else "unchanged"
