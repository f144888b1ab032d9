"""First-start set-up: an administrator account whose generated password is kept in a file
only the owner can read, so `make run` can show it again on every start."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

DEFAULT_ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class AdminCredentials:
    """What `assay_bootstrap` and `assay_serve` print. ``password`` is None when the
    credentials file is missing; ``password_current`` is False when it no longer works."""

    username: str
    password: str | None
    created: bool = False
    password_current: bool = True


def admin_credentials_read(*, credentials_file: Path) -> AdminCredentials | None:
    """The credentials stored by `admin_bootstrap`, or None when there is no such file."""
    try:
        text = credentials_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not values.get("username"):
        return None
    return AdminCredentials(username=values["username"], password=values.get("password"))


def _credentials_write(credentials_file: Path, *, username: str, password: str) -> None:
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 600 from the start: a chmod afterwards would leave a window in
    # which other users could read the password.
    descriptor = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"username={username}\npassword={password}\n")
    os.chmod(credentials_file, 0o600)  # O_CREAT keeps the mode of a file that already existed


@transaction.atomic
def admin_bootstrap(
    *, credentials_file: Path, username: str = DEFAULT_ADMIN_USERNAME
) -> AdminCredentials:
    """Create a superuser with a random password when no superuser exists, and write the
    credentials file; otherwise report the existing administrator from that file."""
    users = get_user_model().objects
    if not users.filter(is_superuser=True).exists():
        password = secrets.token_urlsafe(18)
        users.create_superuser(username=username, email="", password=password)
        # Inside the transaction: if the file cannot be written, no account is left
        # behind whose password nobody knows.
        _credentials_write(credentials_file, username=username, password=password)
        return AdminCredentials(username=username, password=password, created=True)
    stored = admin_credentials_read(credentials_file=credentials_file)
    if stored is None:
        existing = users.filter(is_superuser=True).order_by("pk").first()
        return AdminCredentials(username=existing.get_username(), password=None)
    user = users.filter(username=stored.username).first()
    current = bool(user and stored.password and user.check_password(stored.password))
    return AdminCredentials(
        username=stored.username, password=stored.password, password_current=current
    )


def admin_credentials_describe(credentials: AdminCredentials | None, *, credentials_file) -> str:
    """One line for the terminal."""
    if credentials is None:
        return f"No admin credentials in {credentials_file}; run `manage.py assay_bootstrap`."
    if credentials.password is None:
        return (
            f"Admin user: {credentials.username} (password set by hand; "
            f"{credentials_file} does not exist)"
        )
    line = f"Admin user: {credentials.username}  password: {credentials.password}"
    if not credentials.password_current:
        line += f"  (changed since; {credentials_file} is out of date)"
    return line
