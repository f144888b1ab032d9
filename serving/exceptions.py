"""Errors of the front door, in the shape OpenAI's clients understand."""

from curation.exceptions import AssayError


class GatewayError(AssayError):
    """A front-door request that cannot be answered: HTTP ``status`` with an OpenAI-style
    error body (``type``, ``code``, ``param``), so the official clients raise the matching
    exception (AuthenticationError, NotFoundError, BadRequestError, ...)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "invalid_request",
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param
        self.error_type = error_type

    def as_body(self) -> dict:
        return {
            "error": {
                "message": str(self),
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }
