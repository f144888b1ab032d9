"""The NinjaAPI instance: routers, authentication, and the error shape.

Every error a user can act on (`AssayError`) is a 400 with ``{"detail": message}``; an
unreadable import file adds its ``file``, ``line`` and ``field``.
"""

from ninja import NinjaAPI

from curation.api import examples, imports, projects, runs, versions
from curation.api.auth import api_auth
from curation.exceptions import AssayError, ImportFileError

api = NinjaAPI(
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


@api.exception_handler(AssayError)
def assay_error(request, exc: AssayError):
    payload: dict = {"detail": str(exc)}
    if isinstance(exc, ImportFileError):
        payload.update(file=exc.file, line=exc.line, field=exc.field)
    return api.create_response(request, payload, status=400)
