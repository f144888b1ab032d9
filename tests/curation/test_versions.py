import csv
from collections import Counter, defaultdict

import pytest

from curation.core.hashing import content_hash
from curation.exceptions import AssayError, InvalidTransition
from curation.models import DatasetVersion, Example, RunStatus
from curation.selectors.versions import (
    project_versions,
    version_label_distribution,
    version_split_counts,
)
from curation.services.versions import (
    build,
    dataset_version_approve,
    dataset_version_build,
    dataset_version_reject,
    dataset_version_submit,
    dataset_version_verify,
    version_build_start,
)
from tests.factories import ExampleFactory, GenerationExampleFactory

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def labelled(project, count, label, **kwargs):
    return ExampleFactory.create_batch(
        count, project=project, resolved_label=label, resolved_label_origin="annotator", **kwargs
    )


def assert_split_proportions(counts: Counter, total: int) -> None:
    for split, ratio in RATIOS.items():
        assert abs(counts[split] - total * ratio) <= 1, (split, counts, total)


def member_splits(version):
    return dict(version.members.values_list("external_id", "split"))


def test_build_freezes_eligible_examples_split_80_10_10_per_class(classification_project, user):
    labelled(classification_project, 203, "ham")
    labelled(classification_project, 47, "spam")
    ExampleFactory.create_batch(6, project=classification_project)  # unlabelled
    labelled(classification_project, 4, "maybe")  # not in the label set

    version = dataset_version_build(project=classification_project, seed=3, created_by=user)

    assert (version.number, version.status, version.created_by) == (1, "draft", user)
    assert version.members.count() == 250
    assert set(version.members.values_list("label", flat=True)) == {"ham", "spam"}
    for label, total in (("ham", 203), ("spam", 47)):
        counts = Counter(version.members.filter(label=label).values_list("split", flat=True))
        assert_split_proportions(counts, total)
    assert version.manifest["split_counts"] == version_split_counts(version)
    assert version.manifest["label_distribution"] == version_label_distribution(version)
    assert version.manifest["member_count"] == 250
    assert version.manifest["sources"] == {"imported": 250}
    assert (version.manifest["seed"], version.manifest["parent"]) == (3, None)
    assert dataset_version_verify(version=version).ok


def test_members_copy_the_example_and_ignore_later_edits(classification_project):
    (example,) = labelled(classification_project, 1, "spam", fields={"text": "win a prize"})
    version = dataset_version_build(project=classification_project)

    Example.objects.filter(pk=example.pk).update(fields={"text": "edited"}, resolved_label="ham")

    member = version.members.get()
    assert (member.external_id, member.fields, member.label) == (
        example.external_id,
        {"text": "win a prize"},
        "spam",
    )
    assert member.content_hash == content_hash({"text": "win a prize"})
    assert dataset_version_verify(version=version).ok


def test_same_seed_gives_the_same_version_and_another_seed_does_not(classification_project):
    labelled(classification_project, 120, "ham")
    labelled(classification_project, 40, "spam")

    first = dataset_version_build(project=classification_project, seed=11)
    again = dataset_version_build(project=classification_project, seed=11)
    other = dataset_version_build(project=classification_project, seed=12)

    assert [v.number for v in (first, again, other)] == [1, 2, 3]
    assert member_splits(first) == member_splits(again)
    assert first.content_hash == again.content_hash
    assert set(first.members.values_list("row_hash", flat=True)) == set(
        again.members.values_list("row_hash", flat=True)
    )
    assert member_splits(other) != member_splits(first)
    assert other.content_hash != first.content_hash


def test_duplicates_never_land_in_two_splits(classification_project):
    for n in range(40):
        labelled(classification_project, 1 + n % 6, "ham", fields={"text": f"repeated {n}"})
    labelled(classification_project, 150, "ham")
    labelled(classification_project, 60, "spam")
    labelled(classification_project, 3, "spam", fields={"text": "repeated 0"})  # label clash

    version = dataset_version_build(project=classification_project, seed=5)

    splits_per_hash = defaultdict(set)
    for digest, split in version.members.values_list("content_hash", "split"):
        splits_per_hash[digest].add(split)
    assert max(len(splits) for splits in splits_per_hash.values()) == 1
    assert len(splits_per_hash) < version.members.count()  # there were duplicates


def test_nothing_to_version_is_a_clear_error_and_creates_nothing(classification_project):
    ExampleFactory.create_batch(3, project=classification_project)  # none labelled

    with pytest.raises(AssayError, match="no labelled examples to version"):
        dataset_version_build(project=classification_project)
    assert not DatasetVersion.objects.exists()


def test_bad_ratios_are_refused(classification_project):
    labelled(classification_project, 5, "ham")
    with pytest.raises(AssayError, match="non-negative"):
        dataset_version_build(
            project=classification_project, ratios={"train": -1, "validation": 1, "test": 1}
        )


def test_generation_versions_leave_out_rejected_examples(generation_project):
    GenerationExampleFactory.create_batch(30, project=generation_project, resolved_label="accept")
    GenerationExampleFactory.create_batch(10, project=generation_project)  # not reviewed yet
    GenerationExampleFactory.create_batch(5, project=generation_project, resolved_label="reject")

    version = dataset_version_build(project=generation_project)

    assert version.members.count() == 40
    assert "reject" not in set(version.members.values_list("label", flat=True))
    assert_split_proportions(Counter(version.members.values_list("split", flat=True)), 40)


def generation_examples(project, prompts: int, references: int, *, start: int = 0):
    for n in range(start, start + prompts):
        for r in range(references):
            GenerationExampleFactory(
                project=project,
                resolved_label="accept",
                fields={"prompt": f"name[Place {n}], food[Thai]", "response": f"Place {n} {r}."},
            )


def prompt_splits(version) -> dict[str, set[str]]:
    splits = defaultdict(set)
    for fields, split in version.members.values_list("fields", "split"):
        splits[fields["prompt"]].add(split)
    return splits


def test_every_reference_of_a_prompt_lands_in_one_split(generation_project):
    generation_examples(generation_project, prompts=60, references=5)

    version = dataset_version_build(project=generation_project, seed=4)

    by_prompt = prompt_splits(version)
    assert len(by_prompt) == 60
    assert all(len(splits) == 1 for splits in by_prompt.values())
    counts = Counter(version.members.values_list("split", flat=True))
    assert counts == {"train": 240, "validation": 30, "test": 30}


def test_a_prompt_a_parent_tested_on_is_never_trained_on_later(
    generation_project, user, monkeypatch
):
    generation_examples(generation_project, prompts=30, references=3)
    # A parent built before prompts were grouped, by content hash alone.
    with monkeypatch.context() as patched:
        patched.setattr(build, "prompt_group", content_hash)
        first = dataset_version_build(project=generation_project, seed=1)
    spread = {p: s for p, s in prompt_splits(first).items() if len(s) > 1}
    assert any("test" in splits for splits in spread.values())  # the old leak
    dataset_version_submit(version=first, user=user)
    dataset_version_approve(version=first, user=user)
    generation_examples(generation_project, prompts=20, references=3, start=30)

    second = dataset_version_build(project=generation_project, seed=99)

    by_prompt = prompt_splits(second)
    assert all(len(splits) == 1 for splits in by_prompt.values())
    for prompt, splits in prompt_splits(first).items():
        if "test" in splits:
            assert by_prompt[prompt] == {"test"}, prompt
        elif len(splits) == 1:
            assert by_prompt[prompt] == splits, prompt


def test_a_new_version_keeps_the_splits_of_the_last_approved_one(classification_project, user):
    labelled(classification_project, 100, "ham")
    labelled(classification_project, 30, "spam")
    first = dataset_version_build(project=classification_project, seed=1)
    dataset_version_submit(version=first, user=user)
    dataset_version_approve(version=first, user=user)
    tested = first.members.filter(split="test").first()
    labelled(classification_project, 100, "ham")
    labelled(classification_project, 2, "ham", fields=tested.fields)  # copies of a test item

    second = dataset_version_build(project=classification_project, seed=99)

    assert second.parent == first
    assert second.manifest["parent"] == 1
    before = member_splits(first)
    after = member_splits(second)
    assert all(after[external_id] == split for external_id, split in before.items())
    copies = second.members.filter(content_hash=tested.content_hash)
    assert set(copies.values_list("split", flat=True)) == {"test"}
    assert copies.count() == 3


def test_submit_approve_records_the_review(classification_project, user):
    labelled(classification_project, 10, "ham")
    labelled(classification_project, 10, "spam")
    version = dataset_version_build(project=classification_project)

    version = dataset_version_submit(version=version, user=user)
    assert version.status == "in_review"
    version = dataset_version_approve(version=version, user=user, comment="looks right")

    version.refresh_from_db()
    assert (version.status, version.reviewed_by, version.review_comment) == (
        "approved",
        user,
        "looks right",
    )
    assert version.reviewed_at is not None


def test_reject_needs_a_comment_and_works_from_draft_or_review(classification_project, user):
    labelled(classification_project, 10, "ham")
    draft = dataset_version_build(project=classification_project)
    in_review = dataset_version_submit(
        version=dataset_version_build(project=classification_project), user=user
    )

    with pytest.raises(AssayError, match="needs a comment"):
        dataset_version_reject(version=draft, user=user, comment=" ")
    for version in (draft, in_review):
        rejected = dataset_version_reject(version=version, user=user, comment="labels are off")
        assert (rejected.status, rejected.review_comment) == ("rejected", "labels are off")


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ((), "approve", "is draft; only in review versions can be approved"),
        (("submit",), "submit", "is in review; only draft versions can be submitted"),
        (("reject",), "submit", "is rejected; only draft versions can be submitted"),
        (("reject",), "reject", "is rejected; only draft or in review versions"),
    ],
)
def test_invalid_transitions_name_the_current_status(
    classification_project, user, steps, action, message
):
    labelled(classification_project, 10, "ham")
    version = dataset_version_build(project=classification_project)
    calls = {
        "submit": lambda v: dataset_version_submit(version=v, user=user),
        "approve": lambda v: dataset_version_approve(version=v, user=user),
        "reject": lambda v: dataset_version_reject(version=v, user=user, comment="no"),
    }
    for step in steps:
        version = calls[step](version)

    with pytest.raises(InvalidTransition, match=message):
        calls[action](version)


def test_reviewing_needs_a_signed_in_user(classification_project):
    labelled(classification_project, 10, "ham")
    version = dataset_version_submit(
        version=dataset_version_build(project=classification_project), user=None
    )
    with pytest.raises(AssayError, match="signed-in user"):
        dataset_version_approve(version=version, user=None)
    version.refresh_from_db()
    assert version.status == "in_review"


def test_version_build_run_records_its_result(
    classification_project, user, django_capture_on_commit_callbacks
):
    labelled(classification_project, 20, "spam")
    with django_capture_on_commit_callbacks(execute=True):
        run = version_build_start(
            project=classification_project, seed=4, note="first cut", created_by=user
        )
    run.refresh_from_db()

    assert run.status == RunStatus.SUCCEEDED, run.error
    version = project_versions(classification_project).get()
    assert run.result["number"] == version.number == 1
    assert run.result["content_hash"] == version.content_hash
    assert (version.seed, version.note, version.created_by) == (4, "first cut", user)


def load_sms_spam(path, project) -> int:
    """A tiny local loader (the import service is built separately): label<TAB>text."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    Example.objects.bulk_create(
        Example(
            project=project,
            external_id=f"sms-{line}",
            fields={"text": text},
            content_hash=content_hash({"text": text}),
            resolved_label=label,
            resolved_label_origin="import",
        )
        for line, (label, text) in enumerate(rows, start=1)
    )
    return len(rows)


@pytest.mark.slow
def test_sms_spam_versions_are_stratified_and_leak_free(shared_data, classification_project):
    rows = load_sms_spam(shared_data / "sms_spam" / "SMSSpamCollection.tsv", classification_project)
    assert rows == 5574

    version = dataset_version_build(project=classification_project, seed=0)

    assert version.members.count() == 5574
    per_label = Counter(version.members.values_list("label", flat=True))
    assert per_label == {"ham": 4827, "spam": 747}
    for label, total in per_label.items():
        counts = Counter(version.members.filter(label=label).values_list("split", flat=True))
        assert_split_proportions(counts, total)
    splits_per_hash = defaultdict(set)
    for digest, split in version.members.values_list("content_hash", "split"):
        splits_per_hash[digest].add(split)
    assert len(splits_per_hash) < 5574  # the collection has exact duplicates
    assert all(len(splits) == 1 for splits in splits_per_hash.values())
