"""A data lead in a real browser, from the pages alone: writes a keyword and a regex
labeling function, applies them and reads their coverage and dev accuracy, fits the label
model and sees which model won, runs the quality checks, and dismisses or resolves
findings with a reason that the page shows and the database and audit log keep.

The expected numbers are worked out here from the data, in plain Python, not read from a
previous run."""

import random
import re
from dataclasses import dataclass

import pytest
from django.template.defaultfilters import floatformat

from curation.models import AuditEvent, Example, LabelOrigin
from curation.quality.models import Finding, FindingKind, FindingStatus
from curation.services.labels import label_add
from curation.weak_supervision.models import LabelModelFit
from curation.weak_supervision.services.functions import labeling_function_create
from tests.browser import log_in
from tests.factories import ExampleFactory, MembershipFactory, ProjectFactory, UserFactory

HAM_WORDS = "love voice guitar lyrics memories beautiful chorus melody".split()
SPAM_WORDS = "free prize click winner cash offer deal bonus".split()
KEYWORD = "subscribe"  # the keyword LF the lead writes votes spam on it
LINK = re.compile(r"https?://\S+", re.IGNORECASE)  # the regex LF, also spam
SONG = "song"  # the LF already there votes ham on it


@dataclass(frozen=True)
class Row:
    external_id: str
    text: str
    human: str | None  # the imported label; these rows are the dev set


def comments() -> list[Row]:
    """84 YouTube-style comments, 62 with imported labels (the dev set).

    Spam says "subscribe", carries a link, or both; ham says "song". Three ham comments
    also ask to subscribe and carry a link (the spam LFs outvote the ham one there); two
    ham comments are labelled spam by mistake; one spam comment comes again in capitals
    (an exact duplicate) and one ham comment again with a word added (a near duplicate).
    """
    rng = random.Random(11)

    def words(vocabulary, n=10):
        return rng.choices(vocabulary, k=n)

    rows = []
    for i in range(30):
        text = words(SPAM_WORDS)
        if i % 3 != 2:
            text.insert(4, KEYWORD)
        if i % 3 != 1:
            text.append(f"http://promo.example/{i}")
        rows.append(Row(f"spam-{i}", " ".join(text), "spam"))
    for i in range(30):
        text = words(HAM_WORDS)
        text.insert(3, SONG)
        if i % 10 == 0:
            text += [KEYWORD, f"https://covers.example/{i}"]
        rows.append(Row(f"ham-{i}", " ".join(text), "ham"))
    for i in range(2):
        text = words(HAM_WORDS)
        text.insert(5, SONG)
        rows.append(Row(f"mislabelled-{i}", " ".join(text), "spam"))
    for i in range(10):
        rows.append(Row(f"new-ham-{i}", " ".join(words(HAM_WORDS) + [SONG] * (i % 3 > 0)), None))
        spam = words(SPAM_WORDS) + ([KEYWORD] if i % 2 else [f"http://x.example/{i}"])
        rows.append(Row(f"new-spam-{i}", " ".join(spam), None))
    by_id = {row.external_id: row for row in rows}
    rows.append(Row("spam-4-again", "  " + by_id["spam-4"].text.upper(), None))
    rows.append(Row("ham-3-again", by_id["ham-3"].text + " today", None))
    return rows


@dataclass(frozen=True)
class Votes:
    """What the test expects the page to show for one LF."""

    coverage: float
    votes: int
    dev_votes: int
    correct: int


def has_word(text: str, word: str) -> bool:
    return word in re.findall(r"\w+", text.lower())


LF_RULES = {  # the colleague's LF and the two the lead writes: (its label, where it votes)
    "keyword_song": ("ham", lambda text: has_word(text, SONG)),
    "keyword_subscribe": ("spam", lambda text: has_word(text, KEYWORD)),
    "regex_link": ("spam", lambda text: LINK.search(text) is not None),
}


def expected_votes(rows: list[Row], label: str, rule) -> Votes:
    voted = [row for row in rows if rule(row.text)]
    on_dev = [row for row in voted if row.human]
    return Votes(
        coverage=len(voted) / len(rows),
        votes=len(voted),
        dev_votes=len(on_dev),
        correct=sum(row.human == label for row in on_dev),
    )


def expected_majority_vote_accuracy(rows: list[Row]) -> float:
    """Majority vote on the dev rows. The data is made so that every dev row gets a vote
    and none is a tie, so no random tie-break is involved."""
    correct = 0
    dev = [row for row in rows if row.human]
    for row in dev:
        tally = {"ham": 0, "spam": 0}
        for label, rule in LF_RULES.values():
            tally[label] += rule(row.text)
        assert tally["ham"] != tally["spam"], f"{row.external_id} is a tie: fix the data"
        correct += max(tally, key=tally.get) == row.human
    return correct / len(dev)


def three(value: float) -> str:
    """A number as the pages print it (Django's floatformat:3)."""
    return floatformat(value, 3)


@pytest.fixture
def comments_project(transactional_db):
    """The lead's project: the comments above, the human labels imported from a file, and
    the ham LF a colleague already wrote."""
    lead = UserFactory(username="hedy")
    project = ProjectFactory(name="YouTube comments", label_set=["ham", "spam"])
    MembershipFactory(project=project, user=lead, role="data_lead")
    for row in comments():
        example = ExampleFactory(
            project=project, external_id=row.external_id, fields={"text": row.text}
        )
        if row.human:
            label_add(example=example, value=row.human, origin=LabelOrigin.IMPORT, author="x.csv")
    labeling_function_create(
        project=project,
        name="keyword_song",
        kind="keyword",
        label="ham",
        params={"keywords": [SONG]},
    )
    return project, lead


@pytest.mark.browser
@pytest.mark.slow
def test_a_data_lead_writes_lfs_fits_the_label_model_and_reviews_findings(
    live_server, transactional_db, browser_page, tmp_path, comments_project
):
    from playwright.sync_api import expect

    page = browser_page
    project, lead = comments_project
    rows = comments()
    expected = {name: expected_votes(rows, label, rule) for name, (label, rule) in LF_RULES.items()}

    log_in(page, f"{live_server.url}/login/", "hedy")
    page.click(f"text={project.name}")
    page.click("a.button:has-text('Labeling functions')")
    expect(page.locator("h1")).to_have_text("Labeling functions")

    # 1. Two LFs through the editor; its preview counts the votes while the lead types.
    def write_lf(name: str, kind: str, label: str, fill: dict) -> None:
        page.click("text=New labeling function")
        page.fill("#id_name", name)
        page.select_option("#id_kind", kind)
        page.select_option("#id_label", label)
        for selector, value in fill.items():
            page.fill(selector, value)
        votes = expected[name].votes
        expect(page.locator("#preview")).to_contain_text(
            f"votes on {votes} of the first {len(rows)} examples"
        )
        page.screenshot(path=str(tmp_path / f"lf-{name}.png"), full_page=True)
        page.click("#lf-form button[type=submit]")
        expect(page.locator(".message.success")).to_have_text(f"Saved {name} (version 1).")

    write_lf("keyword_subscribe", "keyword", "spam", {"#id_keywords": KEYWORD})
    write_lf("regex_link", "regex", "spam", {"#id_pattern": LINK.pattern})

    # 2. Apply: the run finishes on its page; the table shows each LF's numbers.
    page.click("button:has-text('Apply & analyse')")
    expect(page.locator("#run-state [data-status]")).to_have_text("succeeded")
    page.click("#run-state a:has-text('Labeling functions')")
    for name, votes in expected.items():
        row = page.locator(f"#lf-table tr[data-lf={name}]")
        expect(row.locator("[data-stat=coverage]")).to_have_text(three(votes.coverage))
        expect(row.locator("[data-stat=accuracy]")).to_have_text(
            f"{three(votes.correct / votes.dev_votes)} ({votes.correct}/{votes.dev_votes})"
        )
        bar = page.locator("#coverage-chart table.bars tr", has_text=name)
        expect(bar.locator("td.num").first).to_have_text(str(votes.votes))
    expect(page.locator("#coverage-chart table.bars tr")).to_have_count(len(expected))
    expect(page.get_by_label("Conflict matrix")).to_be_visible()
    page.screenshot(path=str(tmp_path / "analysis.png"), full_page=True)

    # 3. Fit: both models' dev accuracy, the better one chosen (majority vote on a tie).
    page.click("button:has-text('Apply & fit label model')")
    expect(page.locator("#run-state [data-status]")).to_have_text("succeeded")
    page.click("#run-state a:has-text('Labeling functions')")
    fit = LabelModelFit.objects.get(project=project)
    majority_vote = expected_majority_vote_accuracy(rows)
    assert fit.majority_vote_accuracy == pytest.approx(majority_vote)
    assert fit.label_model_accuracy is not None  # three LFs: the label model is fitted too
    chosen = "label_model" if fit.label_model_accuracy > majority_vote else "majority_vote"
    row = page.locator("#fits tr[data-fit='1']")
    expect(row).to_have_attribute("data-chosen", chosen)
    expect(row.locator("[data-stat=chosen]")).to_have_text(
        "label model v1" if chosen == "label_model" else "majority vote"
    )
    expect(row.locator("[data-stat=majority_vote]")).to_have_text(three(majority_vote))
    expect(row.locator("[data-stat=label_model]")).to_have_text(three(fit.label_model_accuracy))
    expect(row.locator(f"[data-stat={chosen}]")).to_have_class("num chosen")
    page.screenshot(path=str(tmp_path / "fit.png"), full_page=True)

    # 4. Quality checks: label issues and duplicates only.
    page.click(f"nav.crumbs a:has-text('{project.name}')")
    page.click("a.button:has-text('Data quality')")
    page.uncheck("input[name=checks][value=expectations]")
    page.uncheck("input[name=checks][value=outliers]")
    page.click("button:has-text('Run quality check')")
    expect(page.locator("#run-state [data-status]")).to_have_text("succeeded")
    page.click("#run-state a:has-text('Open quality check')")
    for example in ("mislabelled-0", "mislabelled-1"):
        expect(page.locator(f"tr[data-example={example}] [data-suggested]")).to_have_text("ham")
    exact = page.locator("[data-kind=exact_duplicate]")
    expect(exact).to_contain_text("spam-4")
    expect(exact).to_contain_text("spam-4-again")
    near = page.locator("[data-kind=duplicate]")
    expect(near).to_contain_text("ham-3-again")
    page.screenshot(path=str(tmp_path / "check.png"), full_page=True)

    def show_findings(kind: str, status: str = "open") -> None:
        page.click("nav.tabs a:has-text('Findings')")
        page.select_option("#id_kind", kind)
        page.select_option("#id_status", status)
        page.click("button:has-text('Filter')")

    def review(row: str, button: str, reason: str, *, status: str, resolution: str) -> None:
        page.click(f"{row} a")
        page.fill("#id_reason", reason)
        page.click(f"button:has-text('{button}')")
        expect(page.locator("h1 [data-status]")).to_have_text(status)
        expect(page.locator("#review-record")).to_contain_text(
            f"by hedy · {resolution}: “{reason}”"
        )

    page.click("nav.tabs a:has-text('Findings')")
    expect(page.locator("tr[data-finding]")).to_have_count(Finding.objects.count())
    show_findings(FindingKind.LABEL_ISSUE)
    label_issues = Finding.objects.filter(kind=FindingKind.LABEL_ISSUE).count()
    expect(page.locator("tr[data-finding][data-kind=label_issue]")).to_have_count(label_issues)
    expect(page.locator("tr[data-finding]")).to_have_count(label_issues)
    page.screenshot(path=str(tmp_path / "findings.png"), full_page=True)

    # 5. Resolve a label issue by taking the suggested label, dismiss the near duplicate.
    fixed_reason = "Clearly about the song; the import had it wrong."
    review(
        "tr[data-finding]:has-text('mislabelled-0')",
        "Accept suggested label",
        fixed_reason,
        status="Resolved",
        resolution="accepted_suggested_label",
    )
    page.screenshot(path=str(tmp_path / "resolved.png"), full_page=True)
    kept_reason = "Two fans wrote the same thing; both comments are real."
    show_findings(FindingKind.DUPLICATE)
    review(
        "tr[data-finding][data-kind=duplicate]",
        "Dismiss",
        kept_reason,
        status="Dismissed",
        resolution="not_an_issue",
    )

    show_findings("", status="")
    closed = page.locator("tr[data-finding]:not([data-status=open])")
    expect(closed).to_have_count(2)
    expect(closed.filter(has_text="mislabelled-0")).to_contain_text(f"by hedy: “{fixed_reason}”")
    expect(closed.filter(has_text="ham-3-again")).to_contain_text(f"by hedy: “{kept_reason}”")
    page.screenshot(path=str(tmp_path / "reviewed.png"), full_page=True)

    page.click("nav.tabs a:has-text('Audit log')")
    page.fill("#id_action", "finding")
    page.click("button:has-text('Filter')")
    audit_rows = page.locator("table.audit tbody tr")
    expect(audit_rows).to_have_count(2)
    expect(audit_rows.filter(has_text="finding_dismissed")).to_contain_text(kept_reason)
    expect(audit_rows.filter(has_text="finding_resolved")).to_contain_text(fixed_reason)
    expect(audit_rows.filter(has_text="hedy")).to_have_count(2)

    # Stored: the findings, the label the lead accepted, and the audit log.
    resolved = Finding.objects.get(status=FindingStatus.RESOLVED)
    dismissed = Finding.objects.get(status=FindingStatus.DISMISSED)
    assert (resolved.kind, resolved.resolution, resolved.reason, resolved.reviewed_by) == (
        FindingKind.LABEL_ISSUE, "accepted_suggested_label", fixed_reason, lead,
    )  # fmt: skip
    assert list(resolved.examples.values_list("external_id", flat=True)) == ["mislabelled-0"]
    assert (dismissed.kind, dismissed.resolution, dismissed.reason, dismissed.reviewed_by) == (
        FindingKind.DUPLICATE, "not_an_issue", kept_reason, lead,
    )  # fmt: skip
    example = Example.objects.get(project=project, external_id="mislabelled-0")
    assert (example.resolved_label, example.resolved_label_origin) == ("ham", "annotator")
    events = AuditEvent.objects.filter(project=project, action__startswith="finding_")
    assert sorted(events.values_list("action", "actor", "target_id", "message")) == sorted(
        [
            ("finding_resolved", lead.pk, str(resolved.pk), fixed_reason),
            ("finding_dismissed", lead.pk, str(dismissed.pk), kept_reason),
        ]
    )
