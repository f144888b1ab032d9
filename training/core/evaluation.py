"""Predictions and generations from a model, the final comparison on the test split
(fine-tuned vs the untouched base model vs a trivial baseline, with bootstrap intervals
and a verdict), and the forgetting check (perplexity on general-domain text)."""

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from training.core import data as training_data
from training.core import metrics
from training.core.config import TrainingConfig

SAMPLES_KEPT = 100  # outputs per system stored with the comparison (and for preference studies)


def _device(model):
    return next(model.parameters()).device


def classify(model, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int = 32):
    """Class probabilities (n × classes) for ``texts``."""
    import torch

    model.eval()
    chunks = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(_device(model))
            logits = model(**batch).logits.float()
            chunks.append(torch.softmax(logits, dim=-1).cpu().numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, 0))


def generate(model, tokenizer, records: Sequence[dict], *, config: TrainingConfig) -> list[str]:
    """Responses to the records' prompts (chat template applied), decoded as the config's
    `Decoding` says (greedy, beam search or seeded sampling)."""
    import torch

    model.eval()
    decoding = config.decoding
    options = decoding.generate_options()
    if decoding.seed is not None:
        torch.manual_seed(decoding.seed)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    outputs: list[str] = []
    try:
        with torch.no_grad():
            for start in range(0, len(records), config.generation_batch_size):
                chunk = records[start : start + config.generation_batch_size]
                prompts = [training_data.prompt_text(tokenizer, r) for r in chunk]
                batch = tokenizer(
                    prompts, return_tensors="pt", padding=True, add_special_tokens=False
                ).to(_device(model))
                generated = model.generate(
                    **batch,
                    **options,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=tokenizer.eos_token_id,
                )
                new_tokens = generated[:, batch["input_ids"].shape[1] :]
                texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                outputs.extend(text.strip() for text in texts)
    finally:
        tokenizer.padding_side = side
    return outputs


def perplexity(model, tokenizer, texts: Sequence[str], *, max_length: int = 256) -> float:
    """Token-weighted perplexity of ``texts`` under a causal LM."""
    import torch

    model.eval()
    total_loss, total_tokens = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
            ids = ids["input_ids"].to(_device(model))
            if ids.shape[1] < 2:
                continue
            loss = model(input_ids=ids, labels=ids).loss.item()
            total_loss += loss * (ids.shape[1] - 1)
            total_tokens += ids.shape[1] - 1
    return math.exp(total_loss / max(total_tokens, 1))


# -- scoring ------------------------------------------------------------------------------


def _classification_system(y_true, probabilities, *, config: TrainingConfig) -> dict:
    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(axis=1)
    result = metrics.classification_metrics(y_true, y_pred, probabilities)
    for name, fn in (("accuracy", _accuracy), ("macro_f1", _macro_f1)):
        interval = metrics.bootstrap_interval(
            lambda idx, fn=fn: fn(y_true[idx], y_pred[idx]),
            len(y_true),
            samples=config.bootstrap_samples,
            seed=config.seed,
        )
        result[f"{name}_ci"] = [interval.low, interval.high]
    return {"metrics": result, "predictions": y_pred.tolist()}


def _accuracy(y_true, y_pred) -> float:
    return float(np.mean(y_true == y_pred))


def _macro_f1(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def classification_comparison(
    test: Sequence[dict], *, tuned_probs, base_probs, config: TrainingConfig
) -> dict:
    """Fine-tuned vs base vs majority class on the test split."""
    index = {label: i for i, label in enumerate(config.labels)}
    y_true = np.array([index[r["label"]] for r in test])
    majority = Counter(y_true.tolist()).most_common(1)[0][0]
    majority_probs = np.zeros((len(y_true), len(config.labels)))
    majority_probs[:, majority] = 1.0
    systems = {
        "fine_tuned": _classification_system(y_true, tuned_probs, config=config),
        "base": _classification_system(y_true, base_probs, config=config),
        "baseline": _classification_system(y_true, majority_probs, config=config),
    }
    systems["baseline"]["name"] = f"majority class ({config.labels[majority]})"
    primary = "macro_f1" if config.best_metric in ("loss", "auc_roc") else config.best_metric
    statistic = _macro_f1 if primary == "macro_f1" else _accuracy
    preds = {name: np.array(s["predictions"]) for name, s in systems.items()}
    return _compare(
        systems,
        primary,
        len(y_true),
        config,
        lambda name, idx: statistic(y_true[idx], preds[name][idx]),
    )


def generation_comparison(
    groups: Sequence[training_data.PromptGroup],
    *,
    tuned_outputs: list[str],
    base_outputs: list[str],
    config: TrainingConfig,
) -> dict:
    """Fine-tuned vs base vs copying the prompt, multi-reference, on the test prompts."""
    references = [g.references for g in groups]
    copy_outputs = [g.record["prompt"] for g in groups]
    outputs = {"fine_tuned": tuned_outputs, "base": base_outputs, "baseline": copy_outputs}
    rouge = {name: metrics.rouge_l_scores(out, references) for name, out in outputs.items()}
    systems = {}
    for name, out in outputs.items():
        scores = metrics.generation_metrics(out, references)
        interval = metrics.bootstrap_interval(
            lambda idx, name=name: float(rouge[name][idx].mean()),
            len(groups),
            samples=config.bootstrap_samples,
            seed=config.seed,
        )
        scores["rouge_l_ci"] = [interval.low, interval.high]
        systems[name] = {"metrics": scores, "samples": out[:SAMPLES_KEPT]}
    systems["baseline"]["name"] = "copy the prompt"
    primary = "rouge_l"
    comparison = _compare(
        systems, primary, len(groups), config, lambda name, idx: float(rouge[name][idx].mean())
    )
    # The prompts and references of the kept samples, aligned with them: a blind human
    # preference study shows each prompt with both systems' responses.
    comparison["sample_prompts"] = copy_outputs[:SAMPLES_KEPT]
    comparison["sample_references"] = references[:SAMPLES_KEPT]
    return comparison


def _compare(systems: dict, primary: str, n: int, config: TrainingConfig, statistic) -> dict:
    """Paired bootstrap intervals of fine-tuned minus base and minus baseline."""
    differences = {}
    for other in ("base", "baseline"):
        interval = metrics.bootstrap_interval(
            lambda idx, other=other: statistic("fine_tuned", idx) - statistic(other, idx),
            n,
            samples=config.bootstrap_samples,
            seed=config.seed + 1,
        )
        differences[other] = interval.as_dict()
    vs_base = metrics.Interval(**differences["base"])
    return {
        "primary_metric": primary,
        "examples": n,
        "systems": systems,
        "differences": differences,
        "verdict": metrics.verdict(vs_base, metric=primary),
    }
