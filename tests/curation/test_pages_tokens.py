import re

import pytest
from django.urls import reverse

from curation.models import ApiToken
from curation.services.api_tokens import api_token_authenticate, api_token_create
from tests.factories import UserFactory


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_create_shows_the_token_once(logged_in, user):
    created = logged_in.post(reverse("token-list"), {"name": "laptop"}).content.decode()
    raw = re.search(r'<pre class="token" id="new-token">([^<]+)</pre>', created).group(1)
    assert api_token_authenticate(raw=raw) == user

    again = logged_in.get(reverse("token-list")).content.decode()
    assert "laptop" in again and raw not in again


def test_revoke_removes_the_token(logged_in, user):
    token, raw = api_token_create(user=user, name="old")
    page = logged_in.post(reverse("token-revoke", args=[token.pk]), follow=True)
    assert "Token “old” revoked" in page.content.decode()
    assert api_token_authenticate(raw=raw) is None


def test_someone_elses_token_cannot_be_seen_or_revoked(logged_in):
    other, _raw = api_token_create(user=UserFactory(), name="theirs")
    assert "theirs" not in logged_in.get(reverse("token-list")).content.decode()
    assert logged_in.post(reverse("token-revoke", args=[other.pk])).status_code == 404
    assert ApiToken.objects.filter(pk=other.pk).exists()
