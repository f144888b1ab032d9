"""Imports: a multipart upload plus options starts an import run."""

import json

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from curation.api.runs import run_out
from curation.api.schemas import ErrorOut, ImportOptionsIn, RunOut
from curation.exceptions import AssayError
from curation.forms import comma_list
from curation.permissions import Action, project_for_user

router = Router()


def _mapping(raw: str) -> dict:
    try:
        mapping = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise AssayError(f"mapping is not valid JSON: {exc.msg}.") from exc
    if not isinstance(mapping, dict):
        raise AssayError('mapping must be a JSON object, e.g. {"text": "review"}.')
    return mapping


def _synthetic(options: ImportOptionsIn) -> dict[str, str] | None:
    if not options.synthetic_generator:
        return None
    extra = {"method": options.synthetic_method, "seed": options.synthetic_seed}
    return {"generator": options.synthetic_generator, **{k: v for k, v in extra.items() if v}}


@router.post("/{project_id}/imports", response={202: RunOut, 400: ErrorOut})
def import_create(
    request, project_id: int, file: File[UploadedFile], options: Form[ImportOptionsIn]
):
    # Imported here: the import service is loaded only when an import is started.
    from curation.services.imports import ImportOptions, import_start, import_upload_store

    project = project_for_user(request.auth, project_id, Action.EDIT_DATA)
    import_options = ImportOptions(
        format=options.format,
        mapping=_mapping(options.mapping),
        has_header=options.has_header,
        columns=comma_list(options.columns or "") or None,
        delimiter=options.delimiter or None,
        quoting=options.quoting,
        encoding=options.encoding,
        split=options.split or None,
        synthetic=_synthetic(options),
    )
    path = import_upload_store(uploaded_file=file)
    run = import_start(
        project=project,
        path=path,
        options=import_options,
        display_name=file.name,
        created_by=request.auth,
    )
    return Status(202, run_out(run))
