"""YouTube spam, Snorkel tutorial split: labeling functions written in Assay, majority vote
and label-model test accuracy next to the tutorial's 84.0% and 86.0%.

    .venv/bin/python benchmarks/youtube_spam_weak_supervision.py [--data DIR] [--output PATH]

In a fresh SQLite database under a temporary folder it creates a classification project
(ham, spam), imports all 1,956 comments through `examples_import` with only the dev labels
(the tutorial's 100-row dev sample of train and the 120-row valid split: the human labels a
data lead has), creates the declarative LFs below through `labeling_functions_load`, and runs
the same ``label_model_fit`` run the page's button starts (apply, fit both models, choose on
the dev rows, write weak labels). Test labels never enter Assay; they only score the result.

Scoring follows the tutorial: every one of the 250 test rows counts, ties and rows without a
vote are broken at random (seeded). The LFs were written looking at train texts and dev
labels only, never at test rows.
"""

import argparse
import csv
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write, setup_django  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "youtube_spam"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "youtube_spam_weak_supervision.json"
TUTORIAL = {"majority_vote": 0.840, "label_model": 0.860, "end_model": 0.944}


def _kw(name, words, label, **options):
    return {
        "name": name,
        "kind": "keyword",
        "label": label,
        "params": {"keywords": words, **options},
    }


def _re(name, pattern, label):
    return {"name": name, "kind": "regex", "label": label, "params": {"pattern": pattern}}


# The tutorial's rules first (keyword_my is whole-word here: "my" inside "economy" is no
# sign of spam), then what the train texts and dev labels suggested.
LABELING_FUNCTIONS = [
    _kw("keyword_my", ["my"], "spam"),
    _kw("keyword_subscribe", ["subscrib"], "spam", whole_word=False),
    _re("keyword_link", r"http|www\.|\.com\b|\.ly/|\.net\b", "spam"),
    _kw("keyword_please", ["please", "plz", "pls"], "spam"),
    _kw("keyword_song", ["song"], "ham", whole_word=False),
    _re("regex_check_out", r"check.*out", "spam"),
    {
        "name": "short_comment",
        "kind": "length",
        "label": "ham",
        "params": {"unit": "words", "max": 4},
    },
    _kw("keyword_channel", ["channel", "my video", "my new video", "my music"], "spam"),
    _re("money", r"money|\$\s?\d|\bcash\b|\bearn|dollars|paypal|gift ?card|\bfree\b", "spam"),
    _kw(
        "promotion", ["share", "visit", "click", "website", "sign up", "join", "follow me"], "spam"
    ),
    _re(
        "ask_for_likes", r"like this comment|thumbs up|give (me )?a like|like my|\blike if", "spam"
    ),
    _kw("love", ["love", "loved", "loving"], "ham"),
    _kw("praise", ["beautiful", "amazing", "awesome", "best", "perfect", "legend"], "ham"),
    _kw("artist", ["shakira", "katy", "perry", "eminem", "psy", "lmfao", "gangnam", "waka"], "ham"),
    _re("view_count", r"\b\d[\d,.]*\s*(billion|million|views)\b|\bviews\b", "ham"),
]


def load_rows(data_dir: Path) -> list[dict]:
    """The tutorial split's rows with their text: key, text, label, split, in_dev_sample."""
    texts: dict[tuple[str, int], str] = {}
    for path in sorted(data_dir.glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for number, record in enumerate(csv.DictReader(handle)):
                texts[(path.name, number)] = record["CONTENT"]
    rows = []
    with (data_dir / "snorkel_tutorial_split.csv").open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            key = (record["source_file"], int(record["row_in_file"]))
            rows.append(
                {
                    "key": f"{key[0]}:{key[1]}",
                    "text": texts[key],
                    "label": "spam" if record["CLASS"] == "1" else "ham",
                    "split": record["split"],
                    "dev": record["split"] == "valid" or record["in_dev_sample"] == "True",
                }
            )
    return rows


def write_import_file(rows: list[dict], path: Path) -> None:
    """Only dev rows carry their label into Assay."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "text", "label"])
        for row in rows:
            out.writerow([row["key"], row["text"], row["label"] if row["dev"] else ""])


def run_in_assay(rows: list[dict], folder: Path, lfs: list[dict]) -> dict:
    """Import, create LFs and fit through Assay's services; score on the test rows."""
    project, run_result = fit_in_assay(rows, folder, lfs)
    return score(project, rows, run_result)


def fit_in_assay(rows: list[dict], folder: Path, lfs: list[dict]):
    """A project holding ``rows`` (only dev rows labelled), the LFs, and the result of the
    ``label_model_fit`` run that applied them and wrote the chosen model's weak labels.
    Needs Django set up (`benchmarks.pipeline.setup_django`)."""
    from curation.management.cli import run_inline
    from curation.services.imports import ImportOptions, examples_import
    from curation.services.projects import project_create
    from curation.weak_supervision.services.functions import labeling_functions_load

    project = project_create(
        name="YouTube spam", task_type="classification", label_set=["ham", "spam"]
    )
    path = folder / "youtube.csv"
    write_import_file(rows, path)
    options = ImportOptions(format="csv", mapping={"id": "id", "text": "text", "label": "label"})
    examples_import(project=project, path=path, options=options)
    labeling_functions_load(project=project, specs=lfs)
    run = run_inline(kind="label_model_fit", target=project, project=project, params={}, quiet=True)
    return project, run.result


def score(project, rows: list[dict], result: dict) -> dict:
    """Test accuracy of both models, the tutorial's way, from the stored label matrix."""
    import numpy as np

    from curation.weak_supervision.core.label_models import accuracy, fit_and_choose
    from curation.weak_supervision.models import LabelModelFit
    from curation.weak_supervision.selectors.applications import application_matrix

    fit = LabelModelFit.objects.get(project=project, number=result["fit"])
    ids, matrix = application_matrix(fit.application)
    by_key = {row["key"]: row for row in rows}
    keys = dict(project.examples.values_list("id", "external_id"))
    ordered = [by_key[keys[int(pk)]] for pk in ids]
    labels = fit.application.labels
    dev = np.array([labels.index(r["label"]) if r["dev"] else -1 for r in ordered])
    test = np.array([r["split"] == "test" for r in ordered])
    truth = np.array([labels.index(r["label"]) for r in ordered])
    best, models = fit_and_choose(matrix, dev, cardinality=len(labels))  # as the run did
    assert best.name == fit.chosen, "the benchmark must score the model the run chose"
    test_accuracy = {m.name: accuracy(m.probabilities[test], truth[test]) for m in models}
    return {
        "examples": len(ids),
        "dev_examples": int((dev >= 0).sum()),
        "test_examples": int(test.sum()),
        "labeling_functions": matrix.shape[1],
        "test_coverage": round(float((matrix[test] >= 0).any(axis=1).mean()), 4),
        "dev_accuracy": {
            "majority_vote": fit.majority_vote_accuracy,
            "label_model": fit.label_model_accuracy,
        },
        "test_accuracy": test_accuracy,
        "chosen": fit.chosen,
        "chosen_test_accuracy": test_accuracy[fit.chosen],
        "weak_labels_written": fit.labels_written,
        "lf_analysis": {
            name: {k: stats[k] for k in ("coverage", "overlaps", "conflicts", "accuracy")}
            for name, stats in zip(
                fit.application.analysis["names"], fit.application.analysis["lfs"], strict=True
            )
        },
    }


def print_table(result: dict) -> None:
    print(f"\nYouTube spam, Snorkel tutorial split: {result['test_examples']} test comments")
    print(f"{'method':<34}{'Assay test':>12}{'tutorial':>10}{'Assay dev':>11}")
    for name in ("majority_vote", "label_model"):
        assay, dev = result["test_accuracy"].get(name), result["dev_accuracy"][name]
        method = name.replace("_", " ")
        print(f"{method:<34}{_pct(assay):>12}{_pct(TUTORIAL[name]):>10}{_pct(dev):>11}")
    print(
        f"chosen on the dev set: {result['chosen'].replace('_', ' ')} -> "
        f"{_pct(result['chosen_test_accuracy'])} test; {result['labeling_functions']} LFs, "
        f"test coverage {_pct(result['test_coverage'])}"
    )


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    rows = load_rows(args.data)
    with tempfile.TemporaryDirectory(prefix="assay-bench-yt-") as folder:
        setup_django(Path(folder) / "data")
        result = run_in_assay(rows, Path(folder), LABELING_FUNCTIONS)
    result = {"benchmark": "youtube_spam_weak_supervision", **result, "tutorial": TUTORIAL}
    result["machine"] = machine_info()
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
