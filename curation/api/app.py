"""The NinjaAPI instance: routers, authentication, and the error shape.

Every error a user can act on (`AssayError`) is a 400 with ``{"detail": message}``; an
unreadable import file adds its ``file``, ``line``, ``field`` and ``option`` (the import
option that fixes it). A request that does not fit its endpoint's schema is a 422 whose
``detail`` says what is wrong in words, unknown fields by name (every request schema
forbids them, `curation.api.schemas.InputSchema`), with pydantic's list in ``errors``.
Permissions follow
`curation.permissions`: 404 for a project the caller is not a member of, 403 for an action
their role lacks, 401 without credentials.
"""

from django.core.exceptions import PermissionDenied
from ninja import NinjaAPI
from ninja.errors import ValidationError

from curation.api import examples, governance, imports, projects, runs, versions
from curation.api.auth import api_auth
from curation.api.schemas import ErrorOut, ValidationErrorOut
from curation.exceptions import AssayError, ImportFileError
from curation.quality import api as quality_api
from curation.weak_supervision import api as weak_supervision_api
from loop import api as loop_api
from serving import api as serving_api
from training import api as training_api

# The answers every operation can give, whatever its own responses say: the handlers below
# and the authentication apply to all of them. (status, description, schema)
ERROR_RESPONSES = [
    (400, "Refused: the request cannot be carried out, and why", ErrorOut),
    (401, "No credentials, or credentials that are not valid", ErrorOut),
    (403, "The caller's role in the project lacks this action", ErrorOut),
    (404, "No such object, or one in a project the caller is not a member of", ErrorOut),
    (422, "The request does not fit this operation's parameters or body", ValidationErrorOut),
]


class AssayAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI schema declares the error answers of every operation, so
    clients (and tests/curation/test_api_schema.py) can hold every response to it."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for _, _, model in ERROR_RESPONSES:
            components.setdefault(model.__name__, model.model_json_schema())
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description, model in ERROR_RESPONSES:
                    if status == 401 and not operation.get("security"):
                        continue
                    responses.setdefault(
                        str(status),
                        {
                            "description": description,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                                }
                            },
                        },
                    )
        return schema


api = AssayAPI(
    title="Assay API",
    version="1",
    description="Projects, examples, imports, dataset versions and exports.",
    auth=api_auth,
    urls_namespace="api",
)
api.add_router("/projects", projects.router, tags=["projects"])
api.add_router("/projects", examples.router, tags=["examples"])
api.add_router("/projects", imports.router, tags=["imports"])
api.add_router("/runs", runs.router, tags=["runs"])
api.add_router("", versions.router, tags=["versions"])
api.add_router("", governance.router, tags=["governance"])
api.add_router("", weak_supervision_api.router, tags=["weak supervision"])
api.add_router("", training_api.router, tags=["training"])
api.add_router("", quality_api.router, tags=["data quality"])
api.add_router("", serving_api.router, tags=["serving"])
api.add_router("", loop_api.router, tags=["loop"])


@api.exception_handler(AssayError)
def assay_error(request, exc: AssayError):
    payload: dict = {"detail": str(exc)}
    if isinstance(exc, ImportFileError):
        payload.update(file=exc.file, line=exc.line, field=exc.field, option=exc.option)
    return api.create_response(request, payload, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc: PermissionDenied):
    """A member whose role lacks the action: 403 with the reason (non-members get 404)."""
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(ValidationError)
def invalid_request(request, exc: ValidationError):
    return api.create_response(
        request, {"detail": validation_message(exc.errors), "errors": exc.errors}, status=422
    )


def validation_message(errors: list[dict]) -> str:
    """One sentence per kind of problem: unknown fields by name, then the others."""
    unknown = [str(error["loc"][-1]) for error in errors if error.get("type") == "extra_forbidden"]
    others = [
        f"{'.'.join(str(part) for part in error['loc'][1:]) or 'request'}: {error['msg']}"
        for error in errors
        if error.get("type") != "extra_forbidden"
    ]
    sentences = []
    if unknown:
        sentences.append(
            f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: this endpoint "
            f"does not take {'them' if len(unknown) > 1 else 'it'} (see /api/docs)."
        )
    if others:
        sentences.append("Invalid request: " + "; ".join(others) + ".")
    return " ".join(sentences)
