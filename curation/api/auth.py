"""API authentication: a bearer token (`Authorization: Bearer <token>`) for scripts, or
the logged-in session (with its CSRF check) for the pages' own scripts."""

from ninja.security import HttpBearer, SessionAuth

from curation.services.api_tokens import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        return api_token_authenticate(raw=token) if token else None


class SignedInSessionAuth(SessionAuth):
    """The session, with ninja's CSRF check only when a signed-in session is there to
    protect. Without one the request has no credentials at all: it falls through to 401,
    not to a 403 "CSRF check failed" that would send a script's author looking for a token
    the API never asks them for."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


api_auth = [BearerTokenAuth(), SignedInSessionAuth()]
