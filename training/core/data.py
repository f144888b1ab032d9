"""Training data: split files, tokenization for both task types, and padding.

A data folder holds ``train.jsonl``, ``validation.jsonl`` and ``test.jsonl``. A
classification record is ``{"text": ..., "label": ...}``; a generation record is
``{"prompt": ..., "response": ..., "system": ...?}``. Generation examples that share a
prompt are one prompt with several references when evaluating (E2E NLG style).
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("train", "validation", "test")
IGNORE_INDEX = -100
GENERAL_TEXT = Path(__file__).with_name("general_text.txt")
FALLBACK_TEMPLATE = "User: {prompt}\nAssistant: "


def read_split(data_dir: Path, split: str) -> list[dict]:
    path = Path(data_dir) / f"{split}.jsonl"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_split(data_dir: Path, split: str, records: Sequence[dict]) -> None:
    path = Path(data_dir) / f"{split}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def sample(records: Sequence, limit: int, *, seed: int) -> list:
    """At most ``limit`` records, a seeded choice that keeps their order (0 = all)."""
    if limit <= 0 or len(records) <= limit:
        return list(records)
    chosen = sorted(random.Random(seed).sample(range(len(records)), limit))
    return [records[i] for i in chosen]


# -- classification ----------------------------------------------------------------------


def classification_features(records, tokenizer, *, labels: Sequence[str], max_length: int):
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({r["label"] for r in records} - set(index))
    if unknown:
        raise ValueError(f"Labels not in the label set: {', '.join(unknown)}.")
    encoded = tokenizer(
        [r["text"] for r in records], truncation=True, max_length=max_length, padding=False
    )
    return [
        {"input_ids": ids, "attention_mask": mask, "labels": index[r["label"]]}
        for ids, mask, r in zip(
            encoded["input_ids"], encoded["attention_mask"], records, strict=True
        )
    ]


# -- generation ---------------------------------------------------------------------------


def prompt_text(tokenizer, record: dict) -> str:
    """The prompt as the model sees it: its chat template with the assistant turn opened."""
    messages = []
    if record.get("system"):
        messages.append({"role": "system", "content": record["system"]})
    messages.append({"role": "user", "content": record["prompt"]})
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return FALLBACK_TEMPLATE.format(prompt=record["prompt"])


def generation_features(records, tokenizer, *, max_length: int):
    """Prompt + response + end-of-turn tokens; the loss is on the response only."""
    features = []
    end = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    for record in records:
        prompt_ids = tokenizer(prompt_text(tokenizer, record), add_special_tokens=False)[
            "input_ids"
        ]
        response_ids = tokenizer(record["response"], add_special_tokens=False)["input_ids"] + end
        prompt_ids = prompt_ids[-max(1, max_length // 2) :]  # keep room for the response
        ids = (prompt_ids + response_ids)[:max_length]
        labels = ([IGNORE_INDEX] * len(prompt_ids) + response_ids)[:max_length]
        features.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
    return features


def plain_text_features(texts: Sequence[str], tokenizer, *, max_length: int):
    """General-domain text for mixing in: the loss is on every token."""
    if not texts:
        return []
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    return [
        {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": list(ids)}
        for ids in encoded["input_ids"]
    ]


@dataclass
class CausalCollator:
    """Right-pads input ids with the pad token and labels with IGNORE_INDEX."""

    pad_token_id: int
    fields: tuple[str, ...] = field(default=("input_ids", "attention_mask", "labels"))

    def __call__(self, features: list[dict]):
        import torch

        width = max(len(f["input_ids"]) for f in features)
        pads = {"input_ids": self.pad_token_id, "attention_mask": 0, "labels": IGNORE_INDEX}
        batch = {
            name: [f[name] + [pads[name]] * (width - len(f[name])) for f in features]
            for name in self.fields
        }
        return {name: torch.tensor(values) for name, values in batch.items()}


@dataclass
class PackedCollator:
    """A batch as one row without padding ("padding-free" packing): the examples side by
    side, position ids restarting at each, so the model's attention keeps every example to
    itself (transformers builds a block-diagonal causal mask from the positions when no
    attention mask is given and no cache is used). The first token of each example is not
    a target, so no example learns to predict the next one. Same loss as `CausalCollator`
    on the same examples, with no padding computed."""

    def __call__(self, features: list[dict]):
        import torch

        ids: list[int] = []
        positions: list[int] = []
        labels: list[int] = []
        for f in features:
            ids += f["input_ids"]
            positions += range(len(f["input_ids"]))
            labels += [IGNORE_INDEX, *f["labels"][1:]]
        return {
            "input_ids": torch.tensor([ids]),
            "position_ids": torch.tensor([positions]),
            "labels": torch.tensor([labels]),
            # A cache switches off the packed-sequence mask (checked by a test).
            "use_cache": False,
        }


@dataclass(frozen=True)
class PromptGroup:
    """One prompt with every reference response the split holds for it."""

    record: dict
    references: list[str]


def prompt_groups(records: Sequence[dict]) -> list[PromptGroup]:
    groups: dict[tuple[str, str], PromptGroup] = {}
    for record in records:
        key = (record.get("system", ""), record["prompt"])
        if key not in groups:
            groups[key] = PromptGroup(record=record, references=[])
        groups[key].references.append(record["response"])
    return list(groups.values())


# -- general-domain text ------------------------------------------------------------------


def general_passages() -> tuple[list[str], list[str]]:
    """The bundled public-domain sample as paragraphs: (for mixing in, held out)."""
    paragraphs = [p.strip() for p in GENERAL_TEXT.read_text().split("\n\n") if p.strip()]
    return paragraphs[::2], paragraphs[1::2]


def general_mix(train_size: int, ratio: float) -> list[str]:
    """Enough general passages (cycled) to make ``ratio`` of the mixed training set."""
    if ratio <= 0:
        return []
    passages, _holdout = general_passages()
    wanted = round(train_size * ratio / (1 - ratio))
    return [passages[i % len(passages)] for i in range(wanted)]
