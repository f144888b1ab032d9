"""LF services: creation, versioning, validation, the generation library, Python LFs."""

import sys
import textwrap

import pytest

from curation.exceptions import AssayError
from curation.weak_supervision.models import LabelingFunction, LabelingFunctionVersion
from curation.weak_supervision.services.functions import (
    labeling_function_create,
    labeling_function_update,
    labeling_functions_add_library,
    labeling_functions_load,
    lf_module_set,
)
from curation.weak_supervision.services.python_functions import python_lfs_sync
from tests.factories import ProjectFactory


def test_editing_an_lf_makes_a_new_version_and_keeps_the_old(spam_project):
    lf = labeling_function_create(
        project=spam_project, name="kw", kind="keyword", label="spam", params={"keywords": ["my"]}
    )
    same = labeling_function_update(labeling_function=lf, label="spam", params={"keywords": ["my"]})
    assert same.number == 1  # nothing changed: no new version
    second = labeling_function_update(
        labeling_function=lf, label="spam", params={"keywords": ["my", "plz"]}
    )
    assert second.number == 2
    versions = LabelingFunctionVersion.objects.filter(labeling_function=lf).order_by("number")
    assert [v.params["keywords"] for v in versions] == [["my"], ["my", "plz"]]
    assert lf.latest_version == second


def test_bad_input_is_refused_and_nothing_changes(spam_project):
    lf = labeling_function_create(
        project=spam_project, name="kw", kind="keyword", label="spam", params={"keywords": ["a"]}
    )
    with pytest.raises(AssayError, match="not a valid regular expression"):
        labeling_function_update(
            labeling_function=lf, kind="regex", label="spam", params={"pattern": "(x"}
        )
    with pytest.raises(AssayError, match="must vote one of ham, spam"):
        labeling_function_create(
            project=spam_project,
            name="k2",
            kind="keyword",
            label="eggs",
            params={"keywords": ["a"]},
        )
    with pytest.raises(AssayError, match="already has an LF named 'kw'"):
        labeling_function_create(
            project=spam_project, name="kw", kind="keyword", label="ham", params={"keywords": ["b"]}
        )
    assert lf.versions.count() == 1 and LabelingFunction.objects.count() == 1
    lf.refresh_from_db()
    assert lf.kind == "keyword"


def test_generation_library_adds_accept_reject_lfs_once(db):
    project = ProjectFactory(
        task_type="generation", label_set=[], field_schema=["prompt", "response"]
    )
    added = labeling_functions_add_library(project=project)
    assert {lf.latest_version.label for lf in added} == {"accept", "reject"}
    assert "refusal_phrase" in {lf.name for lf in added}
    assert labeling_functions_add_library(project=project) == []


def test_library_is_refused_for_classification(spam_project):
    with pytest.raises(AssayError, match="generation"):
        labeling_functions_add_library(project=spam_project)


def test_load_from_specs_is_all_or_nothing(spam_project):
    good = {"name": "a", "kind": "keyword", "label": "spam", "params": {"keywords": ["x"]}}
    bad = {"name": "b", "kind": "regex", "label": "spam", "params": {"pattern": "("}}
    with pytest.raises(AssayError):
        labeling_functions_load(project=spam_project, specs=[good, bad])
    assert not LabelingFunction.objects.exists()
    assert labeling_functions_load(project=spam_project, specs=[good]) == (1, 0)
    changed = {**good, "params": {"keywords": ["y"]}}
    assert labeling_functions_load(project=spam_project, specs=[changed]) == (0, 1)


@pytest.fixture
def lf_module(tmp_path, monkeypatch):
    """Writes ``assay_test_lfs_<n>.py`` on sys.path; returns (name, write)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"assay_test_lfs_{abs(hash(tmp_path)) % 10**8}"

    def write(source: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)

    yield name, write
    sys.modules.pop(name, None)


MODULE = """
from snorkel.labeling import labeling_function as snorkel_lf
from curation.weak_supervision.core.python_lfs import labeling_function

@labeling_function(label="spam")
def has_link(x):
    return "http" in x.text

@labeling_function()
def tiny(x):
    return "ham" if len(x.text) < 5 else None

@snorkel_lf()
def snorkel_please(x):
    return 1 if "please" in x.text else -1
"""


def test_python_lfs_are_registered_loaded_and_versioned_by_source(spam_project, lf_module):
    name, write = lf_module
    write(MODULE)
    lf_module_set(project=spam_project, module_path=name)
    pairs = python_lfs_sync(project=spam_project, module_path=name)
    assert [lf.name for lf, _ in pairs] == ["has_link", "snorkel_please", "tiny"]
    assert all(version.number == 1 for _, version in pairs)
    write(MODULE.replace('"http" in x.text', '"http" in x.text.lower()'))
    versions = {
        lf.name: v.number for lf, v in python_lfs_sync(project=spam_project, module_path=name)
    }
    assert versions == {"has_link": 2, "snorkel_please": 1, "tiny": 1}


def test_a_broken_module_is_reported(spam_project, lf_module):
    name, write = lf_module
    write("this is not python\n")
    with pytest.raises(AssayError, match=f"Cannot import LF module '{name}'"):
        lf_module_set(project=spam_project, module_path=name)
