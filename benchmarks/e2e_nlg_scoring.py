"""Scoring for the E2E NLG benchmark: two metric definitions (the platform's and the E2E
challenge script's), bootstrap intervals over MRs, paired differences between rows, and
the table that prints them."""

from functools import partial

import numpy as np


def metric_definitions() -> dict:
    """Each scoring convention: (corpus BLEU, per-example ROUGE-L). "library" is the
    platform's own (sacrebleu cased, rouge-score F1); "challenge" is the E2E challenge
    script's (mteval-v13a case-insensitive BLEU, COCO ROUGE-L), the one the anchors used."""
    from training.core import metrics

    return {
        "library": (metrics.corpus_bleu, metrics.rouge_l_scores),
        "challenge": (partial(metrics.corpus_bleu, lowercase=True), metrics.e2e_rouge_l_scores),
    }


def scores(outputs: list[str], references: list[list[str]], rng_seed: int = 0) -> dict:
    """BLEU and ROUGE-L with 95% bootstrap intervals over MRs: the library definitions at
    the top level, the challenge's under "challenge"."""
    draws = bootstrap_indices(len(outputs), rng_seed)
    result = {}
    for name, (bleu, rouge_l) in metric_definitions().items():
        rouge = rouge_l(outputs, references)
        bleu_draws = [bleu(*_take(outputs, references, d)) for d in draws]
        result[name] = {
            "bleu": bleu(outputs, references),
            "bleu_ci": np.percentile(bleu_draws, [2.5, 97.5]).tolist(),
            "rouge_l": float(rouge.mean()),
            "rouge_l_ci": np.percentile([rouge[d].mean() for d in draws], [2.5, 97.5]).tolist(),
        }
    return {**result["library"], "challenge": result["challenge"]}


def difference(outputs, reference_outputs, references, rng_seed: int = 0) -> dict:
    """These outputs minus the reference outputs, paired over the same MR resamples, by
    both definitions (as in ``scores``)."""
    draws = bootstrap_indices(len(outputs), rng_seed)
    result = {}
    for name, (bleu, rouge_l) in metric_definitions().items():
        rouge = rouge_l(outputs, references) - rouge_l(reference_outputs, references)
        bleu_diff = [
            bleu(*_take(outputs, references, d)) - bleu(*_take(reference_outputs, references, d))
            for d in draws
        ]
        result[name] = {
            "bleu": bleu(outputs, references) - bleu(reference_outputs, references),
            "bleu_ci": np.percentile(bleu_diff, [2.5, 97.5]).tolist(),
            "rouge_l": float(rouge.mean()),
            "rouge_l_ci": np.percentile([rouge[d].mean() for d in draws], [2.5, 97.5]).tolist(),
        }
    return {**result["library"], "challenge": result["challenge"]}


def bootstrap_indices(n: int, seed: int, samples: int = 200) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, n) for _ in range(samples)]


def _take(outputs, references, indices):
    return [outputs[i] for i in indices], [references[i] for i in indices]


def score_rows(
    report: dict, rows_outputs: list[list[str]], references: list[list[str]], *, start: int = 0
) -> None:
    """Fill each row's scores, its difference from the first arm's outputs with the same
    decoding, and from its own arm's first decoding. Rows before ``start`` are already
    scored (while a benchmark runs, only its newest row is new)."""
    first_by_decoding: dict[str, list[str]] = {}
    first_by_arm: dict[str, list[str]] = {}
    for index, (row, outputs) in enumerate(zip(report["rows"], rows_outputs, strict=True)):
        same_decoding = first_by_decoding.setdefault(row["decoding"], outputs)
        same_arm = first_by_arm.setdefault(row["arm"], outputs)
        if index < start:
            continue
        row["scores"] = scores(outputs, references)
        row.pop("difference", None)
        row.pop("difference_from_first_decoding", None)
        if same_decoding is not outputs:
            row["difference"] = difference(outputs, same_decoding, references)
        if same_arm is not outputs:
            row["difference_from_first_decoding"] = difference(outputs, same_arm, references)


def print_table(report: dict) -> None:
    print(
        "\n| arm | decoding | steps | BLEU [95% CI] | ROUGE-L [95% CI] "
        "| challenge BLEU | challenge ROUGE-L | Δ BLEU | Δ ROUGE-L |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in report["rows"]:
        s, c, d = row["scores"], row["scores"]["challenge"], row.get("difference")
        delta = (
            (
                f"{d['bleu']:+.2f} [{d['bleu_ci'][0]:+.2f}, {d['bleu_ci'][1]:+.2f}]",
                f"{d['rouge_l']:+.2f} [{d['rouge_l_ci'][0]:+.2f}, {d['rouge_l_ci'][1]:+.2f}]",
            )
            if d
            else ("reference", "reference")
        )
        print(
            f"| {row['arm']} | {row['decoding']} | {row['steps']} | "
            f"{s['bleu']:.2f} [{s['bleu_ci'][0]:.1f}, {s['bleu_ci'][1]:.1f}] | "
            f"{s['rouge_l']:.2f} [{s['rouge_l_ci'][0]:.1f}, {s['rouge_l_ci'][1]:.1f}] | "
            f"{c['bleu']:.2f} [{c['bleu_ci'][0]:.1f}, {c['bleu_ci'][1]:.1f}] | "
            f"{c['rouge_l']:.2f} [{c['rouge_l_ci'][0]:.1f}, {c['rouge_l_ci'][1]:.1f}] | "
            f"{delta[0]} | {delta[1]} |"
        )
