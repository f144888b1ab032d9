"""Production: DEBUG off, SECRET_KEY required, secure cookies unless told otherwise."""

from .base import *  # noqa: F403
from .base import env_bool, require_label_studio_secrets, require_secret_key

require_secret_key()
DEBUG = env_bool("DEBUG", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
# Label Studio is opt-in in production, and then its secrets must come from the environment.
LABEL_STUDIO_ENABLED = env_bool("LABEL_STUDIO_ENABLED", False)
require_label_studio_secrets(enabled=LABEL_STUDIO_ENABLED)
