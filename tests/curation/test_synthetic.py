"""Synthetic examples: kept out of every version until a person accepts them, imported
from files or generated (built-in augmentation or an OpenAI-compatible endpoint),
flagged when they nearly duplicate a real example, capped per version."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.urls import reverse

from curation.core.readers import ImportOptions
from curation.core.synthetic import augment, jaccard, near_duplicates, normalised_tokens
from curation.exceptions import AssayError
from curation.models import AuditEvent, Example
from curation.services.exports import dataset_version_export
from curation.services.imports import examples_import
from curation.services.synthetic import (
    synthetic_example_accept,
    synthetic_example_edit,
    synthetic_example_reject,
    synthetic_generate,
)
from curation.services.versions import dataset_version_build
from tests.factories import ExampleFactory, MembershipFactory, SyntheticExampleFactory

SENTENCE = "the quick brown fox jumps over the lazy dog near the quiet river bank at dawn today"


def real_examples(project, count=20):
    return [
        ExampleFactory(
            project=project,
            fields={"text": f"real message {n} about {('lunch', 'prizes')[n % 2]}"},
            resolved_label=("ham", "spam")[n % 2],
            resolved_label_origin="annotator",
        )
        for n in range(count)
    ]


def exported_texts(version) -> set[str]:
    export = dataset_version_export(version=version, formats=["jsonl"])
    texts = set()
    for path in Path(export.path).glob("jsonl/*.jsonl"):
        for line in path.read_text().splitlines():
            texts.add(json.loads(line)["text"])
    return texts


# --- the pure core ----------------------------------------------------------------------


def test_near_duplicate_is_token_jaccard_over_the_threshold():
    words = SENTENCE.split()
    one_word_less = " ".join(words[:-1])  # 14 of 15 distinct tokens: 0.93
    rewritten = "a slow red cat sleeps under a busy table"
    assert jaccard(normalised_tokens(SENTENCE), normalised_tokens(one_word_less.upper())) >= 0.9

    found = near_duplicates({"a": one_word_less + "!", "b": rewritten}, {"real": SENTENCE})

    assert set(found) == {"a"} and found["a"][0] == "real"


def test_augmentation_is_deterministic_and_seeded():
    for method in ("synonym", "template", "drop", "swap"):
        assert augment(SENTENCE, method=method, seed=3) == augment(SENTENCE, method=method, seed=3)
    variants = {augment(SENTENCE, method="drop", seed=seed) for seed in range(10)}
    assert len(variants) > 1 and SENTENCE not in variants
    with pytest.raises(ValueError, match="unknown augmentation method"):
        augment(SENTENCE, method="magic", seed=0)


# --- the rule: no version before acceptance ---------------------------------------------


def test_synthetic_example_reaches_an_exported_version_only_after_acceptance(
    classification_project, user
):
    real_examples(classification_project)
    synthetic = SyntheticExampleFactory(
        project=classification_project,
        fields={"text": "Claim your free prize today"},
        resolved_label="spam",
        resolved_label_origin="model",
    )
    classification_project.synthetic_share_cap = 0.5
    classification_project.save()

    before = dataset_version_build(project=classification_project)
    assert "Claim your free prize today" not in exported_texts(before)
    assert not before.members.filter(example=synthetic).exists()

    synthetic_example_accept(example=synthetic, user=user)
    after = dataset_version_build(project=classification_project)

    assert "Claim your free prize today" in exported_texts(after)
    member = after.members.get(example=synthetic)
    assert (member.source, member.label, member.label_origin) == ("synthetic", "spam", "annotator")


def test_rejected_synthetic_examples_never_enter(classification_project, user):
    real_examples(classification_project)
    synthetic = SyntheticExampleFactory(project=classification_project, resolved_label="spam")
    synthetic_example_reject(example=synthetic, user=user, note="reads like a bot")
    version = dataset_version_build(project=classification_project)
    assert not version.members.filter(example=synthetic).exists()
    synthetic.refresh_from_db()
    assert synthetic.review_history[-1]["note"] == "reads like a bot"


def test_the_cap_keeps_synthetic_examples_to_their_share(classification_project, user):
    real_examples(classification_project, 14)
    for example in SyntheticExampleFactory.create_batch(
        10, project=classification_project, resolved_label="spam"
    ):
        synthetic_example_accept(example=example, user=user)
    classification_project.synthetic_share_cap = 0.3
    classification_project.save()

    first = dataset_version_build(project=classification_project, seed=1)
    again = dataset_version_build(project=classification_project, seed=1)

    synthetic = first.members.filter(source="synthetic")
    assert synthetic.count() == 6  # 6 of 20 = 30%
    assert first.manifest["synthetic_left_out_by_cap"] == 4
    assert set(synthetic.values_list("external_id", flat=True)) == set(
        again.members.filter(source="synthetic").values_list("external_id", flat=True)
    )


# --- reviewing ------------------------------------------------------------------------------


def test_edit_changes_the_content_keeps_the_old_one_and_accepts(classification_project, user):
    synthetic = SyntheticExampleFactory(project=classification_project, resolved_label="spam")
    old = synthetic.fields["text"]

    edited = synthetic_example_edit(
        example=synthetic, user=user, fields={"text": "  A fixed sentence  "}, label="ham"
    )

    assert (edited.fields["text"], edited.review_status, edited.resolved_label) == (
        "A fixed sentence",
        "accepted",
        "ham",
    )
    assert edited.review_history[-1]["edited_from"] == {"text": old}
    assert AuditEvent.objects.filter(action="synthetic.accept", target_id=str(edited.pk)).exists()


def test_accepting_needs_a_label_from_the_set_and_a_reviewing_role(classification_project, user):
    synthetic = SyntheticExampleFactory(project=classification_project)
    with pytest.raises(AssayError, match="label"):
        synthetic_example_accept(example=synthetic, user=user)
    with pytest.raises(AssayError, match="not in the label set"):
        synthetic_example_accept(example=synthetic, user=user, label="eggs")
    engineer = MembershipFactory(project=classification_project, role="ml_engineer").user
    with pytest.raises(AssayError, match="may not review"):
        synthetic_example_accept(example=synthetic, user=engineer, label="ham")
    synthetic.refresh_from_db()
    assert synthetic.review_status == "pending"


def test_the_queue_page_reviews_with_the_keyboard_script(client, classification_project):
    annotator = MembershipFactory(project=classification_project, role="annotator").user
    synthetic = SyntheticExampleFactory(project=classification_project, resolved_label="spam")
    client.force_login(annotator)

    page = client.get(reverse("synthetic-queue", args=[classification_project.pk]))
    html = page.content.decode()
    assert synthetic.external_id in html and "review-queue.js" in html
    assert 'data-key="a"' in html and "csrfmiddlewaretoken" in html
    assert "Generate from seed examples" not in html  # annotators do not generate

    url = reverse("synthetic-decide", args=[classification_project.pk, synthetic.pk])
    client.post(url, {"decision": "accept", "label": "spam"})
    synthetic.refresh_from_db()
    assert (synthetic.review_status, synthetic.reviewed_by) == ("accepted", annotator)


# --- importing and generating ---------------------------------------------------------------


def test_importing_synthetic_examples_records_provenance_and_flags_near_duplicates(
    classification_project, tmp_path
):
    ExampleFactory(project=classification_project, external_id="seed-1",
                   fields={"text": SENTENCE}, resolved_label="ham")  # fmt: skip
    path = tmp_path / "generated.csv"
    near = " ".join(SENTENCE.split()[:-1])
    path.write_text(f"text,label,parent\n{near},ham,seed-1\nsomething new entirely,spam,seed-1\n")
    options = ImportOptions(
        mapping={"parent": "parent"},
        synthetic={"generator": "gpt-4o-mini", "method": "paraphrase", "seed": "7"},
    )

    report = examples_import(project=classification_project, path=path, options=options)
    from curation.services.synthetic import synthetic_near_duplicates_flag

    flagged = synthetic_near_duplicates_flag(project=classification_project)

    imported = Example.objects.filter(source="synthetic").order_by("id")
    assert report.created == 2 and report.source == "synthetic"
    assert {e.review_status for e in imported} == {"pending"}
    assert imported[0].provenance == {
        "file": "generated.csv", "line": 2, "format": "csv", "generator": "gpt-4o-mini",
        "method": "paraphrase", "seed": "7", "parent": "seed-1",
    }  # fmt: skip
    assert flagged == 1 and imported[0].near_duplicate_of.external_id == "seed-1"
    assert imported[1].near_duplicate_of is None


def test_a_synthetic_import_needs_a_generator_name():
    with pytest.raises(AssayError, match="generator"):
        ImportOptions(synthetic={"method": "x"})
    with pytest.raises(AssayError, match="Only a synthetic import"):
        ImportOptions(mapping={"parent": "p"})


def test_generation_from_seeds_is_deterministic_and_pending(classification_project, user):
    seeds = real_examples(classification_project, 4)

    made = synthetic_generate(project=classification_project, seeds=seeds, per_example=2,
                              methods=["synonym", "template"], seed=5, actor=user)  # fmt: skip

    assert len(made) == 8
    assert {e.review_status for e in made} == {"pending"}
    first = made[0]
    assert first.provenance["parent"] == seeds[0].external_id
    assert first.provenance["generator"] == "assay-augment" and first.provenance["seed"] == 5
    assert first.resolved_label == seeds[0].resolved_label
    assert AuditEvent.objects.filter(action="synthetic.generate").count() == 1
    texts = [e.fields["text"] for e in made]
    Example.objects.filter(pk__in=[e.pk for e in made]).delete()
    again = synthetic_generate(project=classification_project, seeds=seeds, per_example=2,
                               methods=["synonym", "template"], seed=5)  # fmt: skip
    assert [e.fields["text"] for e in again] == texts


class _ChatCompletions(BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ChatCompletions.requests.append((self.path, self.headers.get("Authorization"), body))
        reply = {"choices": [{"message": {"content": f"  paraphrased #{body['seed']}  "}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    server = HTTPServer(("127.0.0.1", 0), _ChatCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatCompletions.requests = []
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_an_openai_compatible_endpoint_paraphrases_when_configured(
    classification_project, settings, chat_server
):
    seeds = real_examples(classification_project, 2)
    settings.ASSAY_SYNTHETIC_ENDPOINT = {"base_url": chat_server, "model": "tiny", "api_key": "k"}

    made = synthetic_generate(project=classification_project, seeds=seeds, per_example=1,
                              seed=11, use_endpoint=True)  # fmt: skip

    assert [e.fields["text"] for e in made] == ["paraphrased #11", "paraphrased #11"]
    assert made[0].provenance["generator"] == "openai-compatible:tiny"
    path, auth, body = _ChatCompletions.requests[0]
    assert (path, auth, body["model"]) == ("/v1/chat/completions", "Bearer k", "tiny")
    assert seeds[0].fields["text"] in body["messages"][0]["content"]


def test_the_endpoint_must_be_configured_and_reachable(classification_project, settings):
    seeds = real_examples(classification_project, 1)
    settings.ASSAY_SYNTHETIC_ENDPOINT = None
    with pytest.raises(AssayError, match="No synthetic-data endpoint"):
        synthetic_generate(project=classification_project, seeds=seeds, use_endpoint=True)
    settings.ASSAY_SYNTHETIC_ENDPOINT = {"base_url": "http://127.0.0.1:9", "model": "m"}
    with pytest.raises(AssayError, match="endpoint http://127.0.0.1:9 failed"):
        synthetic_generate(project=classification_project, seeds=seeds, use_endpoint=True)
    assert not Example.objects.filter(source="synthetic").exists()
