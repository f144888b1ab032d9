"""Production: DEBUG off, SECRET_KEY required, HTTPS enforced unless told otherwise.

Every security setting comes from the environment under Django's own name, so
`manage.py check --deploy --fail-level WARNING` passes with the defaults and an operator
who turns one off (a site served over plain HTTP inside a private network) sees it there.
"""

import os

from .base import *  # noqa: F403
from .base import env_bool, require_label_studio_secrets, require_secret_key

require_secret_key()
DEBUG = env_bool("DEBUG", False)
WEB_SERVER = os.environ.get("ASSAY_WEB_SERVER", "gunicorn")
SERVE_RESTART = env_bool("ASSAY_SERVE_RESTART", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes, scrapers and Label Studio's webhooks talk plain HTTP to the container inside its
# network; they are not redirected. ASSAY_SSL_REDIRECT_EXEMPT adds path regexes (comma-separated,
# without the leading slash), e.g. "^v1/" for applications calling the front door internally.
SECURE_REDIRECT_EXEMPT = [
    r"^healthz$",
    r"^readyz$",
    r"^metrics$",
    r"^labeling/webhooks/",
    *(p for p in os.environ.get("ASSAY_SSL_REDIRECT_EXEMPT", "").split(",") if p),
]
# Start short and raise it (31536000, a year) once HTTPS is known to work: browsers remember
# HSTS for this long, and a mistake cannot be taken back before it runs out.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "3600"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto. Only
# then: a client could send the header itself and pass for HTTPS.
if env_bool("ASSAY_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Label Studio is opt-in in production, and then its secrets must come from the environment.
LABEL_STUDIO_ENABLED = env_bool("LABEL_STUDIO_ENABLED", False)
require_label_studio_secrets(enabled=LABEL_STUDIO_ENABLED)
