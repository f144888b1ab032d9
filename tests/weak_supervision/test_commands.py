"""The ``ws_*`` management commands: what a user reads on success, and a CommandError that
names the problem (unknown project, bad LF file, broken LF module) with nothing stored."""

import json
import re
import sys
import textwrap
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.models import Label, LabelOrigin
from curation.weak_supervision.models import (
    LabelingFunction,
    LabelingFunctionVersion,
    LabelModelFit,
    LFApplication,
)
from curation.weak_supervision.services.functions import lf_module_set
from tests.factories import UserFactory

SPECS = [
    {"name": "keyword_my", "kind": "keyword", "label": "spam", "params": {"keywords": ["my"]}},
    {
        "name": "regex_link",
        "kind": "regex",
        "label": "spam",
        "params": {"pattern": r"http|free"},
        "description": "Links and freebies.",
    },
    {"name": "keyword_song", "kind": "keyword", "label": "ham", "params": {"keywords": ["song"]}},
]


@pytest.fixture(autouse=True)
def operator(db):
    """Commands act as the one superuser."""
    return UserFactory(username="operator", is_superuser=True)


def run(command: str, *args) -> str:
    """The command's standard output (the runs' progress bars switched off)."""
    out = StringIO()
    quiet = ["--quiet"] if command in {"ws_apply", "ws_fit"} else []
    call_command(command, *args, *quiet, stdout=out)
    return out.getvalue()


def write_specs(tmp_path, specs, name="lfs.json"):
    path = tmp_path / name
    path.write_text(json.dumps(specs), encoding="utf-8")
    return path


def stored_lfs() -> list[tuple[str, int]]:
    return sorted(LabelingFunctionVersion.objects.values_list("labeling_function__name", "number"))


# ws_lfs_load


def test_lfs_load_creates_then_versions_changed_lfs(spam_project, tmp_path):
    out = run("ws_lfs_load", "YouTube spam", str(write_specs(tmp_path, SPECS)))
    assert out.strip() == "3 labeling functions created, 0 given a new version."
    changed = [SPECS[0], {**SPECS[1], "params": {"pattern": "https?://"}}, SPECS[2]]
    out = run("ws_lfs_load", str(spam_project.pk), str(write_specs(tmp_path, changed)))
    assert out.strip() == "0 labeling functions created, 1 given a new version."
    assert stored_lfs() == [
        ("keyword_my", 1),
        ("keyword_song", 1),
        ("regex_link", 1),
        ("regex_link", 2),
    ]
    assert LabelingFunction.objects.get(name="regex_link").description == "Links and freebies."


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (
            [SPECS[0], {**SPECS[1], "params": {"pattern": "http("}}],
            r"Labeling function 2 \('regex_link'\): 'pattern' is not a valid regular expression",
        ),
        (
            [SPECS[0], {**SPECS[2], "kind": "keywords"}],
            r"Labeling function 2 \('keyword_song'\): Unknown LF kind 'keywords'",
        ),
        (
            [{**SPECS[0], "label": "eggs"}],
            r"Labeling function 1 \('keyword_my'\): An LF must vote one of ham, spam, not 'eggs'",
        ),
        (
            [SPECS[0], {**SPECS[1], "params": {"pattern": "x", "field": "body"}}],
            r"Labeling function 2 \('regex_link'\): 'field' must be one of text, not 'body'",
        ),
        ([SPECS[0], {"name": "half", "kind": "regex"}], "Labeling function 2 lacks label, params"),
        ([SPECS[0], "keyword_my"], "Labeling function 2 is not an object"),
        ({"name": "keyword_my"}, "Expected a JSON list of labeling functions"),
    ],
)
def test_lfs_load_names_the_bad_lf_and_field_and_stores_nothing(
    spam_project, tmp_path, specs, message
):
    run("ws_lfs_load", "YouTube spam", str(write_specs(tmp_path, [SPECS[2]])))
    with pytest.raises(CommandError, match=message):
        run("ws_lfs_load", "YouTube spam", str(write_specs(tmp_path, specs, "bad.json")))
    assert stored_lfs() == [("keyword_song", 1)]


def test_lfs_load_names_a_missing_or_unreadable_file(spam_project, tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(CommandError, match=f"{re.escape(str(missing))}: .*No such file"):
        run("ws_lfs_load", "YouTube spam", str(missing))
    broken = tmp_path / "broken.json"
    broken.write_text('[{"name": "x",', encoding="utf-8")
    with pytest.raises(CommandError, match=f"{re.escape(str(broken))}: Expecting"):
        run("ws_lfs_load", "YouTube spam", str(broken))
    assert not LabelingFunction.objects.exists()


@pytest.mark.parametrize("command", ["ws_lfs_load", "ws_apply", "ws_fit", "ws_analysis"])
def test_an_unknown_project_is_named(spam_project, tmp_path, command):
    extra = [str(write_specs(tmp_path, SPECS))] if command == "ws_lfs_load" else []
    with pytest.raises(CommandError, match="No project with id or name 'YouTube spma'"):
        run(command, "YouTube spma", *extra)
    assert not LabelingFunction.objects.exists() and not LFApplication.objects.exists()


# ws_apply and ws_analysis


def test_apply_prints_the_analysis_and_analysis_repeats_it(spam_project, spam_lfs):
    out = run("ws_apply", "YouTube spam")
    lines = out.strip().splitlines()
    assert lines[0].split() == ["LF", "votes", "coverage", "overlaps", "conflicts", "accuracy"]
    by_name = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(by_name) == {"keyword_my", "keyword_link", "keyword_song"}
    # "my" is in c0, c1, c6 and c8 of the 12 texts; both dev rows it votes on are spam
    assert by_name["keyword_my"][1:3] == ["spam", f"{4 / 12:.3f}"]
    assert by_name["keyword_my"][-1] == "1.000"
    assert lines[-1].startswith("12 examples, coverage ") and lines[-1].endswith("dev set 6")
    assert LFApplication.objects.count() == 1
    assert run("ws_analysis", "YouTube spam") == out


def test_analysis_before_any_apply_says_what_to_do(spam_project, spam_lfs):
    with pytest.raises(CommandError, match="YouTube spam: no LF application yet; run ws_apply"):
        run("ws_analysis", "YouTube spam")


def test_apply_without_lfs_says_so_and_stores_nothing(spam_project):
    with pytest.raises(CommandError, match="YouTube spam has no active labeling functions"):
        run("ws_apply", "YouTube spam")
    assert not LFApplication.objects.exists()


@pytest.fixture
def lf_module(tmp_path, monkeypatch):
    """Writes ``assay_command_lfs_<n>.py`` on sys.path; returns (name, path)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"assay_command_lfs_{abs(hash(tmp_path)) % 10**8}"
    path = tmp_path / f"{name}.py"
    path.write_text(
        textwrap.dedent(
            """
            from curation.weak_supervision.core.python_lfs import labeling_function

            @labeling_function(label="spam")
            def says_please(x):
                return "please" in x.text

            @labeling_function()
            def counts_words(x):
                return "ham" if 10 / (len(x.text) - 13) > 4 else None
            """
        )
    )
    yield name, path
    sys.modules.pop(name, None)


def test_apply_runs_the_python_lfs_of_the_project_module(spam_project, spam_lfs, lf_module):
    name, _ = lf_module
    spam_project.examples.filter(external_id="c8").update(fields={"text": "nice song"})
    lf_module_set(project=spam_project, module_path=name)
    out = run("ws_apply", "YouTube spam")
    by_name = {line.split()[0]: line.split() for line in out.strip().splitlines()[1:-1]}
    assert set(by_name) == {
        *("keyword_my", "keyword_link", "keyword_song"),
        *("says_please", "counts_words"),
    }
    assert by_name["says_please"][1:3] == ["spam", f"{1 / 12:.3f}"]  # c1 only, after the edit


def test_apply_names_a_python_lf_that_raises_and_its_example(spam_project, spam_lfs, lf_module):
    name, path = lf_module
    spam_project.examples.filter(external_id="c8").update(fields={"text": "thirteen char"})
    lf_module_set(project=spam_project, module_path=name)
    with pytest.raises(CommandError) as raised:
        run("ws_apply", "YouTube spam")
    message = str(raised.value)
    assert f"Python LF 'counts_words' ({name}) failed on example 'c8'" in message
    assert f"ZeroDivisionError: division by zero ({path.name}, line 10)" in message
    assert not LFApplication.objects.exists()


def test_apply_names_a_missing_lf_module_and_stores_nothing(spam_project, spam_lfs, lf_module):
    name, path = lf_module
    lf_module_set(project=spam_project, module_path=name)
    path.unlink()
    sys.modules.pop(name, None)
    with pytest.raises(CommandError, match=f"Cannot import LF module '{name}'.*No module named"):
        run("ws_apply", "YouTube spam")
    assert not LFApplication.objects.exists()
    assert not LabelingFunction.objects.filter(kind="python").exists()


# ws_fit


@pytest.mark.slow
def test_fit_prints_both_models_and_writes_weak_labels(spam_project, spam_lfs):
    out = run("ws_fit", "YouTube spam")
    fit = LabelModelFit.objects.get()
    lines = out.strip().splitlines()
    assert lines[0] == "Fit 1 on 6 human-labelled dev examples:"
    assert lines[1].split()[:2] == ["majority", "vote"] and lines[1].endswith("%")
    assert lines[2].split()[:2] == ["label", "model"]
    chosen = fit.chosen.replace("_", " ")
    written = Label.objects.filter(origin=LabelOrigin.LABELING_FUNCTION).count()
    assert written == fit.labels_written > 0
    assert lines[3].startswith(f"Chosen: {chosen}; {written} weak labels written, ")


def test_fit_without_lfs_says_so_and_writes_no_labels(spam_project):
    with pytest.raises(CommandError, match="YouTube spam has no active labeling functions"):
        run("ws_fit", "YouTube spam")
    assert not LabelModelFit.objects.exists()
    assert not Label.objects.filter(origin=LabelOrigin.LABELING_FUNCTION).exists()
