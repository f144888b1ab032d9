"""gunicorn's configuration for Assay's web process, from the same environment as Django.

    gunicorn -c python:curation.gunicorn_config curation.wsgi

`assay_serve` runs exactly this when ASSAY_WEB_SERVER=gunicorn (the production default), and
the container image runs it too. Anything else gunicorn knows can be added through its own
GUNICORN_CMD_ARGS. No Django here: the master process stays small.
"""

import os
import shutil
from pathlib import Path

bind = f"{os.environ.get('ASSAY_HOST', '127.0.0.1')}:{os.environ.get('ASSAY_PORT', '8000')}"
# Threads, not only processes: the serving front door streams answers for as long as a model
# generates, and a sync worker would be held by one such client.
worker_class = "gthread"
workers = int(os.environ.get("ASSAY_WEB_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 8)))
threads = int(os.environ.get("ASSAY_WEB_THREADS", "4"))
# Uploads of up to ASSAY_UPLOAD_MAX_BYTES (100 MB) over a slow link must not be cut off.
timeout = int(os.environ.get("ASSAY_WEB_TIMEOUT", "120"))
graceful_timeout = 30
# Idle connections stay open longer than the proxies and client pools in front keep theirs
# (nginx 75 s, load balancers 60 s, httpx 5 s): with gunicorn's 2 s a client reusing its
# connection can send a request into a socket the server is closing, and gets no answer.
# gthread keeps idle connections in its poller, not in a thread.
keepalive = int(os.environ.get("ASSAY_WEB_KEEPALIVE", "75"))
# A worker is replaced after this many requests (with jitter), so a slow leak cannot grow.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

if os.environ.get("ASSAY_LOG_FORMAT", "text") == "json":
    _stream = {"class": "logging.StreamHandler", "formatter": "json"}
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "curation.log_format.JsonLogFormatter"}},
        "handlers": {
            "stdout": {**_stream, "stream": "ext://sys.stdout"},
            "stderr": {**_stream, "stream": "ext://sys.stderr"},
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }

# Prometheus: with several worker processes each keeps its own counters; prometheus_client's
# multiprocess mode (PROMETHEUS_MULTIPROC_DIR, an empty folder per server) adds them up.
_METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server):
    if _METRICS_DIR:  # numbers of a previous server would be added to this one's
        shutil.rmtree(_METRICS_DIR, ignore_errors=True)
        Path(_METRICS_DIR).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if _METRICS_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
