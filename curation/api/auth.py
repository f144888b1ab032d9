"""API authentication: a bearer token (`Authorization: Bearer <token>`) for scripts, or
the logged-in session (with its CSRF check) for the pages' own scripts."""

from ninja.security import HttpBearer, django_auth

from curation.services.api_tokens import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        return api_token_authenticate(raw=token) if token else None


api_auth = [BearerTokenAuth(), django_auth]
