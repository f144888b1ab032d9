"""Prometheus metrics of the front door: latency and tokens of every answered request.

Unlike runs (read from the database when /metrics is scraped, see curation/metrics.py),
these are counted in the web process that answered, as they happen: a scrape must not read
the request log, which grows by one row a request. Under gunicorn, prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR) adds up the worker processes' counts.

Labels are the deployment's name and the endpoint, both bounded by what an engineer
deployed; never the application, unit or request.
"""

from prometheus_client import Counter, Histogram

# Upper bounds (seconds): from a batched classification to a long generation on CPU.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

SERVING_LATENCY = Histogram(
    "assay_serving_request_seconds",
    "Seconds the front door took to answer a routed request, by deployment, endpoint "
    "and outcome (ok, or error when the engine failed).",
    ["deployment", "endpoint", "outcome"],
    buckets=LATENCY_BUCKETS,
)
SERVING_TOKENS = Counter(
    "assay_serving_tokens",
    "Tokens the engines read (prompt) and wrote (completion), by deployment and endpoint.",
    ["deployment", "endpoint", "kind"],
)


def serving_request_observe(
    *,
    deployment: str,
    endpoint: str,
    seconds: float,
    failed: bool,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
) -> None:
    """Count one request that reached an engine (refused requests are not served)."""
    outcome = "error" if failed else "ok"
    SERVING_LATENCY.labels(deployment, endpoint, outcome).observe(seconds)
    if prompt_tokens:
        SERVING_TOKENS.labels(deployment, endpoint, "prompt").inc(prompt_tokens)
    if completion_tokens:
        SERVING_TOKENS.labels(deployment, endpoint, "completion").inc(completion_tokens)
