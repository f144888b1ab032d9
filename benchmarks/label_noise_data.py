"""Data and noise for ``label_noise.py``: three labelled text sets from ../shared/data and
labels flipped at a known rate, so every flag can be scored against the truth."""

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ASSAY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
NOISE_KINDS = ("uniform", "asymmetric")


@dataclass(frozen=True)
class TextSet:
    name: str
    texts: list[str]
    labels: np.ndarray  # class index per text
    classes: list[str]


def load_sms(folder: Path = DATA / "sms_spam") -> TextSet:
    """SMS Spam Collection: 5,574 messages, ham / spam."""
    texts, names = [], []
    with (folder / "SMSSpamCollection.tsv").open(encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            names.append(label)
            texts.append(text)
    return _text_set("sms_spam", texts, names)


def load_youtube(folder: Path = DATA / "youtube_spam") -> TextSet:
    """YouTube Spam Collection: the five videos' comments (1,956), ham / spam."""
    texts, names = [], []
    for path in sorted(folder.glob("Youtube0*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.append(row["CONTENT"])
                names.append("spam" if row["CLASS"].strip() == "1" else "ham")
    return _text_set("youtube_spam", texts, names)


def load_20news(folder: Path = DATA / "label_errors_20news") -> TextSet:
    """20 Newsgroups: the 7,532 test-split posts (the only raw texts in the shared data;
    about 1.1% of their given labels are already wrong, per Northcutt et al. 2021)."""
    rows = [json.loads(line) for line in (folder / "20news_test_label_errors.jsonl").open()]
    return _text_set("20news", [r["text"] for r in rows], [r["given_label_name"] for r in rows])


LOADERS = {"sms_spam": load_sms, "youtube_spam": load_youtube, "20news": load_20news}


def _text_set(name: str, texts: list[str], names: list[str]) -> TextSet:
    classes = sorted(set(names))
    index = {c: i for i, c in enumerate(classes)}
    return TextSet(name, texts, np.array([index[n] for n in names], dtype=np.int64), classes)


def inject_noise(
    labels: np.ndarray, *, n_classes: int, rate: float, kind: str, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(noisy labels, mask of the flipped rows).

    ``uniform``: each example is flipped with probability ``rate``, to any other class
    with equal odds. ``asymmetric`` (class-conditional, "pair flipping"): class k goes
    only to class k+1 (mod K), at a rate that alternates 0.5 x ``rate`` and 1.5 x
    ``rate`` across the classes in name order (binary: ham 0.5, spam 1.5), so both
    which class and how often depend on the true class. Every rate stays below 0.5,
    where the true class still has the plurality of its noisy labels."""
    rng = np.random.default_rng(seed)
    noisy = labels.copy()
    if kind == "uniform":
        flip = rng.random(len(labels)) < rate
        shift = rng.integers(1, n_classes, size=len(labels))
        noisy[flip] = (labels[flip] + shift[flip]) % n_classes
    elif kind == "asymmetric":
        class_rate = np.where(np.arange(n_classes) % 2 == 0, 0.5 * rate, 1.5 * rate)
        flip = rng.random(len(labels)) < class_rate[labels]
        noisy[flip] = (labels[flip] + 1) % n_classes
    else:
        raise ValueError(f"unknown noise kind {kind!r}; use one of {NOISE_KINDS}")
    return noisy, flip


def flag_scores(flagged: np.ndarray, flipped: np.ndarray) -> dict[str, float | int]:
    """Precision, recall and F1 of a boolean flag mask against the injected flips."""
    hits = int((flagged & flipped).sum())
    flags, flips = int(flagged.sum()), int(flipped.sum())
    precision = hits / flags if flags else 0.0
    recall = hits / flips if flips else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"flags": flags, "hits": hits, "precision": precision, "recall": recall, "f1": f1}
