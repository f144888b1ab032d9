"""Reading /metrics in tests, as Prometheus would."""

from prometheus_client.parser import text_string_to_metric_families


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """/metrics parsed: sample name -> {sorted label pairs: value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples
