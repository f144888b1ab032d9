"""E2E NLG through the one-click path: a project, an approved version, the launch page's
defaults for generation, a time budget; then the trained model on the official test MRs.

Each *arm* is one training run launched the way the launch page launches it
(`training_run_start` with the page's values for the version), differing from the page's
defaults only by the arm's overrides; the first arm is the reference the others are
compared with. Every arm's model is scored on the same test MRs with each decoding asked
for: multi-reference BLEU and ROUGE-L with 95% bootstrap intervals over MRs, and each
arm's difference from the reference with a paired bootstrap interval. Two definitions:
the platform's own (sacrebleu cased, rouge-score's best-reference F1) and the E2E
challenge script's (mteval-v13a case-insensitive BLEU; the COCO evaluator's ROUGE-L on
lower-cased PTB tokens, best precision and best recall over references, beta 1.2), which
the anchors report: TGen (68.5 ROUGE-L / 65.93 BLEU) and GPT-2 M + LoRA (71.8 / 70.4).
Each row's outputs are kept beside the report (``e2e_nlg_outputs/``), so they can be
rescored (``--rescore``), by the challenge's own script too, without training again.

    .venv/bin/python benchmarks/e2e_nlg.py [--max-minutes 40] [--arms default]
        [--decodings greedy beam4] [--test-mrs 0] [--output PATH] [--rescore]
    .venv/bin/python benchmarks/e2e_nlg.py --output PATH --model RUN/model --decodings beam8
        [--split dev --test-mrs 300]

Arms (``--arms``, first = reference): see ARMS. Decodings: see DECODINGS.
"""

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported
from e2e_nlg_scoring import print_table, score_rows  # noqa: E402
from pipeline import REPO_ROOT, machine_info, results_write, setup_django  # noqa: E402

sys.path.insert(0, str(REPO_ROOT))  # the platform's modules, for --model without Django

DATA = REPO_ROOT.parent / "shared" / "data" / "e2e_nlg"
SYSTEM = "Write one fluent restaurant description that states every attribute given."
ANCHORS = {
    "TGen": {"bleu": 65.93, "rouge_l": 68.50},
    "GPT-2 M + LoRA": {"bleu": 70.4, "rouge_l": 71.8},
}
# Launch values each arm changes; {} is the launch page's defaults for the version.
ARMS: dict[str, dict] = {
    "default": {},
    # The defaults before issue 14's ablation (LoRA on q,v at 1e-3, no warm-up, linear
    # decay by steps, shuffled batches, the loss projected on every position).
    "before": {
        "method": "lora",
        "learning_rate": 1e-3,
        "lr_schedule": "linear",
        "warmup_ratio": 0.0,
        "batching": "random",
    },
    "lora_qv": {"method": "lora", "learning_rate": 1e-3, "lora_targets": []},
    "lora_all_linear": {
        "method": "lora",
        "learning_rate": 1e-3,
        "lora_targets": "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
    },
    "full": {"method": "full", "learning_rate": 1e-4},
    "by_length": {"batching": "by_length"},
    "packed": {"batching": "packed"},
    # float32 weights, bf16 autocast: more steps in the budget on a CPU with native bf16.
    "mixed_bfloat16": {"precision": "mixed_bfloat16"},
    "constant_lr": {"lr_schedule": "constant", "warmup_ratio": 0.0},
    # Full fine-tuning at larger learning rates (the default is 1e-4); chosen on dev MRs.
    "lr_2e-4": {"learning_rate": 2e-4},
    "lr_3e-4": {"learning_rate": 3e-4},
}
DECODINGS = {
    "greedy": {"num_beams": 1},
    "beam4": {"num_beams": 4, "length_penalty": 1.0},
    "beam4_lp0.8": {"num_beams": 4, "length_penalty": 0.8},
    "beam4_lp1.2": {"num_beams": 4, "length_penalty": 1.2},
    "beam8": {"num_beams": 8, "length_penalty": 1.0},
    "beam10": {"num_beams": 10, "length_penalty": 1.0},
    "beam10_lp0.9": {"num_beams": 10, "length_penalty": 0.9},
}


def read_csv(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


SPLITS = {"test": "testset_w_refs.csv", "dev": "devset.csv"}


def mr_groups(limit: int, seed: int = 0, split: str = "test") -> tuple[list[str], list[list[str]]]:
    """A split's MRs (all of them, or a seeded subset) and their references: the official
    test set for the headline, the dev set for choosing anything (decodings) without test."""
    references: dict[str, list[str]] = {}
    for row in read_csv(SPLITS[split]):
        references.setdefault(row["mr"], []).append(row["ref"])
    prompts = sorted(references)
    if limit:
        prompts = sorted(random.Random(seed).sample(prompts, min(limit, len(prompts))))
    return prompts, [references[p] for p in prompts]


def approved_version(train_rows: int, folder: Path):
    """The E2E training set imported into a generation project, versioned and approved
    by a data lead, as a user would through the pages."""
    from django.contrib.auth import get_user_model

    from curation.services.imports import ImportOptions, examples_import
    from curation.services.projects import project_create, project_member_set
    from curation.services.versions import (
        dataset_version_approve,
        dataset_version_build,
        dataset_version_submit,
    )

    rows = read_csv("trainset.csv")
    if train_rows:
        rows = random.Random(0).sample(rows, train_rows)
    path = folder / "e2e_train.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["system", "prompt", "response"])
        out.writerows([SYSTEM, row["mr"], row["ref"]] for row in rows)
    users = get_user_model().objects
    lead = users.create_user("lead", password="x")
    engineer = users.create_user("engineer", password="x")
    project = project_create(
        name="E2E NLG",
        task_type="generation",
        field_schema=["system", "prompt", "response"],
        created_by=engineer,
    )
    project_member_set(project=project, user=lead, role="data_lead")
    mapping = {"system": "system", "prompt": "prompt", "response": "response"}
    examples_import(
        project=project, path=path, options=ImportOptions(format="csv", mapping=mapping)
    )
    version = dataset_version_submit(version=dataset_version_build(project=project, seed=0))
    version = dataset_version_approve(version=version, user=lead, comment="E2E benchmark")
    return version, engineer


def launch_arm(version, engineer, overrides: dict, max_minutes: float, run_test: int):
    """Launch one run as the launch page does: its values for the version, the arm's
    overrides and the budget. Returns the run and the values it was launched with."""
    from training.services.launch import launch_values, training_run_start

    values = {**launch_values(version=version), **overrides, "max_minutes": max_minutes}
    if run_test:
        values["test_max_examples"] = run_test
    return training_run_start(version=version, values=values, created_by=engineer), values


def arm_result(training_run, values: dict) -> dict:
    """A finished run's figures (the immediate task backend ran it on commit)."""
    training_run.refresh_from_db()
    run = training_run.run
    run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"Training run {training_run.pk} {run.status}: {run.error}")
    result = json.loads((Path(training_run.output_dir) / "result.json").read_text())
    return {
        "values": {k: values[k] for k in sorted(values)},
        "steps": result["global_step"],
        "train_minutes": result["train_seconds"] / 60,
        "stopped_at_budget": result["stopped_at_budget"],
        "model": result["artifact"],
        "base_model": result["base_model"],
        "config": training_run.config,
    }


def train_arm(version, engineer, overrides: dict, max_minutes: float, run_test: int) -> dict:
    started = time.monotonic()
    training_run, values = launch_arm(version, engineer, overrides, max_minutes, run_test)
    trained = arm_result(training_run, values)
    return {**trained, "run_minutes": (time.monotonic() - started) / 60}


def load_model(trained: dict):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from training.core.models import load_tokenizer

    folder = Path(trained["model"])
    if (folder / "adapter_config.json").exists():
        base = AutoModelForCausalLM.from_pretrained(trained["base_model"])
        model = PeftModel.from_pretrained(base, str(folder)).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(folder))
    return model.eval(), load_tokenizer(str(folder), padding_side="left")


def generate(trained: dict, prompts: list[str], decoding: dict) -> list[str]:
    import torch

    from training.core.config import config_from_dict
    from training.core.evaluation import generate as generate_batch

    model, tokenizer = load_model(trained)
    config = config_from_dict({**trained["config"], **decoding})
    records = [{"system": SYSTEM, "prompt": prompt} for prompt in prompts]
    with torch.no_grad():
        return generate_batch(model, tokenizer, records, config=config)


def outputs_folder(output: Path) -> Path:
    """Where each row's outputs are kept, so anyone can rescore them (the challenge's own
    script included) without training again."""
    return output.with_name(f"{output.stem}_outputs")


def decode_row(report: dict, kept: Path, arm: str, name: str, trained: dict, prompts) -> list:
    """Generate the test MRs with one decoding, keep the outputs, add the report's row."""
    started = time.monotonic()
    outputs = generate(trained, prompts, DECODINGS[name])
    (kept / f"{arm}_{name}.json").write_text(
        json.dumps({"prompts": prompts, "outputs": outputs}, indent=0)
    )
    report["rows"].append(
        {
            "arm": arm,
            "decoding": name,
            "steps": trained["steps"],
            "generation_minutes": (time.monotonic() - started) / 60,
            "samples": outputs[:3],
        }
    )
    return outputs


def split_report(output: Path, split: str, limit: int) -> Path:
    """The report that holds a split's decodings: ``output`` itself for test; for the dev
    set, ``<stem>_dev.json`` beside it, started from the headline report's arm (same
    model, no rows yet) so decodings are chosen there and never on test."""
    if split == "test":
        return output
    target = output.with_name(f"{output.stem}_{split}.json")
    if not target.exists():
        headline = json.loads(output.read_text())
        arm = next(iter(headline["arms"]))  # the reference arm comes first
        prompts, _references = mr_groups(limit, split=split)
        fresh = {key: headline[key] for key in ("machine", "version", "budget_minutes")}
        fresh.update(split=split, test_mrs=len(prompts), arms={arm: headline["arms"][arm]})
        fresh.update(rows=[], anchors={})
        results_write(target, fresh)
    return target


def decode_more(
    output: Path, model: Path, decodings: list[str], split: str = "test", limit: int = 0
) -> None:
    """More decodings of a finished report's reference arm from the model its run kept
    (the run's ``model`` folder), on the test MRs or on the dev set's (``split_report``):
    new rows, then every row rescored. Trains nothing."""
    output = split_report(output, split, limit)
    report = json.loads(output.read_text())
    arm = next(iter(report["arms"]))  # the reference arm comes first
    trained = {
        **report["arms"][arm],
        "model": str(model),
        "config": {**report["arms"][arm]["values"], "task_type": "generation"},
    }
    prompts, _references = report_groups(report)
    outputs_folder(output).mkdir(parents=True, exist_ok=True)
    done = {row["decoding"] for row in report["rows"] if row["arm"] == arm}
    for name in decodings:
        if name not in done:
            decode_row(report, outputs_folder(output), arm, name, trained, prompts)
            results_write(output, report)
    rescore(output)


def report_groups(report: dict) -> tuple[list[str], list[list[str]]]:
    """The MRs a report was scored on: its split (test unless it says), all or a subset."""
    return mr_groups(report["test_mrs"], split=report.get("split", "test"))


def rescore(output: Path) -> None:
    """Rescore a finished report from its kept outputs (after a change to the metrics)."""
    report = json.loads(output.read_text())
    prompts, references = report_groups(report)
    kept = []
    for row in report["rows"]:
        saved = json.loads(
            (outputs_folder(output) / f"{row['arm']}_{row['decoding']}.json").read_text()
        )
        if saved["prompts"] != prompts:
            raise SystemExit(f"{row['arm']}_{row['decoding']}: kept outputs are for other MRs")
        kept.append(saved["outputs"])
    score_rows(report, kept, references)
    results_write(output, report)
    print_table(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-minutes", type=float, default=40.0, help="training budget")
    parser.add_argument("--arms", nargs="+", default=["default"], choices=sorted(ARMS))
    parser.add_argument("--decodings", nargs="+", default=["greedy"], choices=sorted(DECODINGS))
    parser.add_argument("--test-mrs", type=int, default=0, help="0 = all 630")
    parser.add_argument("--train-rows", type=int, default=0, help="0 = all of trainset.csv")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--run-test",
        type=int,
        default=0,
        help="the run's own test-split comparison on this many prompts (0: the launch default)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "e2e_nlg.json"
    )
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="rescore the report at --output from its kept outputs; trains nothing",
    )
    parser.add_argument(
        "--split",
        choices=sorted(SPLITS),
        default="test",
        help="score on the test MRs or the dev set's. Training arms: into --output (dev, "
        "to choose an arm without test). With --model: test into --output, dev into "
        "<output stem>_dev.json, for choosing decodings without test",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="the kept model of the report at --output: add --decodings to it; trains nothing",
    )
    args = parser.parse_args()
    if args.rescore:
        rescore(args.output)
        return
    import torch

    torch.set_num_threads(args.threads)
    if args.model:
        decode_more(args.output, args.model, args.decodings, args.split, args.test_mrs)
        return
    folder = Path(tempfile.mkdtemp(prefix="e2e-oneclick-"))
    setup_django(folder)
    version, engineer = approved_version(args.train_rows, folder)
    prompts, references = mr_groups(args.test_mrs, split=args.split)
    report = {
        "split": args.split,
        "machine": machine_info(),
        "version": {
            "number": version.number,
            "hash": version.content_hash,
            "members": version.members.count(),
        },
        "budget_minutes": args.max_minutes,
        "test_mrs": len(prompts),
        "anchors": ANCHORS,
        "arms": {},
        "rows": [],
    }
    rows_outputs: list[list[str]] = []
    kept = outputs_folder(args.output)
    kept.mkdir(parents=True, exist_ok=True)
    for arm in args.arms:
        trained = train_arm(version, engineer, ARMS[arm], args.max_minutes, args.run_test)
        report["arms"][arm] = {k: v for k, v in trained.items() if k not in ("config", "model")}
        for name in args.decodings:
            rows_outputs.append(decode_row(report, kept, arm, name, trained, prompts))
            score_rows(report, rows_outputs, references, start=len(rows_outputs) - 1)
            results_write(args.output, report)
            print_table(report)


if __name__ == "__main__":
    main()
