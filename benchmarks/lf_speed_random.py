"""Labeling-function speed on LF sets nobody tuned for: random keyword and regex LFs over
three text distributions, Assay's vectorised applier against Snorkel's ``PandasLFApplier``
running the same rules row by row (`core.snorkel_bridge`), every label matrix compared.

    .venv/bin/python benchmarks/lf_speed_random.py            # a few minutes
    .venv/bin/python benchmarks/lf_speed_random.py --quick    # under a minute; writes no JSON

Distributions (from ``../shared/data`` or ``$ASSAY_SHARED_DATA``):

- ``short_ascii``: SMS and YouTube spam texts (the ASCII ones), repeated with variation;
- ``unicode_heavy``: the same texts with emoji, accents (composed and combining) and
  case-folding traps (ß/ẞ, İ/ı, ﬁ/ﬂ ligatures, Greek final sigma, ſ, the Kelvin sign,
  titlecase ǅ), some rows upper-cased (ß becomes SS);
- ``long_docs``: 20news posts and SciTLDR abstracts concatenated into documents of 5-50 kB.

Each LF set (``--sets`` per distribution, seeded) has ``--lfs`` LFs, each a keyword LF
(1-3 keywords drawn from the distribution's own vocabulary, weighted towards frequent
words; any/all, case-sensitive or not, whole word or not) or a regex LF from a small
grammar (vocabulary words, classes, alternation, greedy and lazy quantifiers, anchors,
look-arounds; IGNORECASE unless case-sensitive). Both sides include their own preparation
(Assay: compiling the specs and building the columns; Snorkel: the LFs and the DataFrame).
Each side runs ``--repeat`` times per cell and its fastest run counts. Target: median
speed-up >= 20x, worst >= 10x, every matrix identical.
"""

import argparse
import csv
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.pipeline import machine_info, results_write  # noqa: E402

DATA = Path(os.environ.get("ASSAY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "lf_speed_random.json"
DISTRIBUTIONS = ("short_ascii", "unicode_heavy", "long_docs")
# Rows per distribution: sized so Snorkel takes a few seconds per LF set.
DEFAULT_ROWS = {"short_ascii": 30_000, "unicode_heavy": 20_000, "long_docs": 600}
QUICK_ROWS = {"short_ascii": 6_000, "unicode_heavy": 4_000, "long_docs": 150}

EMOJI = ["😀", "🔥", "👍🏽", "❤️", "🎵", "💰", "🚀", "👨‍👩‍👧", "✅", "🤔", "😂", "🇬🇧"]
TRAPS = [
    "straße",
    "STRASSE",
    "Straße",
    "GROẞ",
    "İstanbul",
    "ıspanak",
    "DİKKAT",
    "ﬁnal",
    "ﬂow",
    "ΣΊΣΥΦΟΣ",
    "σοφός",
    "ὀδυσσεύς",
    "ſong",
    "\u212aelvin",  # the Kelvin sign
    "ǅemal",
    "café",
    "cafe\u0301",  # e + a combining acute accent
    "naïve",
    "Ångström",
    "Москва",
    "東京",
    "مرحبا",
    "ＦＲＥＥ",
    "①②③",
    "١٢٣",
]


def _short_texts() -> list[str]:
    texts = []
    for path in sorted((DATA / "youtube_spam").glob("Youtube0*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts += [record["CONTENT"] for record in csv.DictReader(handle)]
    with (DATA / "sms_spam" / "SMSSpamCollection.tsv").open(encoding="utf-8") as handle:
        texts += [line.rstrip("\n").split("\t", 1)[1] for line in handle if "\t" in line]
    return texts


def _vary(text: str, words: list[str], rng: random.Random) -> str:
    parts = text.split(" ")
    parts.insert(rng.randrange(len(parts) + 1), rng.choice(words))
    text = " ".join(parts)
    return text.upper() if rng.random() < 0.1 else text


def short_ascii_rows(count: int, rng: random.Random) -> list[str]:
    texts = [t for t in _short_texts() if t.isascii()]
    words = [word for text in texts[:2000] for word in text.split()]
    return [_vary(rng.choice(texts), words, rng) for _ in range(count)]


def unicode_heavy_rows(count: int, rng: random.Random) -> list[str]:
    texts = _short_texts()
    words = [word for text in texts[:2000] for word in text.split()]
    rows = []
    for _ in range(count):
        parts = rng.choice(texts).split(" ")
        for _ in range(rng.randint(1, 4)):
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(TRAPS + EMOJI + words))
        if rng.random() < 0.5:  # an emoji glued to a word
            at = rng.randrange(len(parts))
            parts[at] += rng.choice(EMOJI)
        text = " ".join(parts)
        roll = rng.random()
        rows.append(text.upper() if roll < 0.15 else text.lower() if roll < 0.25 else text)
    return rows


def _long_sources() -> list[str]:
    sources = []
    with (DATA / "label_errors_20news" / "20news_test_label_errors.jsonl").open() as handle:
        sources += [json.loads(line)["text"] for line in handle]
    with (DATA / "scitldr" / "test.jsonl").open() as handle:
        sources += [" ".join(json.loads(line)["source"]) for line in handle]
    return [s for s in sources if s.strip()]


def long_doc_rows(count: int, rng: random.Random) -> list[str]:
    sources = _long_sources()
    rows = []
    for _ in range(count):
        target, parts, size = rng.randint(5_000, 50_000), [], 0
        while size < target:
            parts.append(rng.choice(sources))
            size += len(parts[-1]) + 2
        rows.append("\n\n".join(parts)[:target])
    return rows


ROW_MAKERS = {
    "short_ascii": short_ascii_rows,
    "unicode_heavy": unicode_heavy_rows,
    "long_docs": long_doc_rows,
}


def vocabulary(rows: list[str], *, sample: int = 3_000, seed: int = 0) -> list[tuple[str, int]]:
    """The distribution's words (``\\w+``, as written) with their counts, from a sample."""
    rng = random.Random(seed)
    counts = Counter(
        word
        for text in rng.sample(rows, min(sample, len(rows)))
        for word in re.findall(r"\w+", text)
    )
    return counts.most_common(3_000)


class LFSetGenerator:
    """Random keyword and regex specs over one vocabulary, from one seeded generator."""

    CLASSES = [
        r"[a-z]",
        r"[A-Z]",
        r"\d",
        r"\w",
        r"\s",
        r"[aeiou]",
        r"[^\s]",
        ".",
        r"\W",
        r"[0-9a-f]",
        r"[^a-z ]",
    ]
    QUANTIFIERS = ["", "", "+", "*", "?", "{1,3}", "{2,}", "+?", "*?"]
    LOOKAROUNDS = [r"(?=\s)", r"(?!\w)", r"(?<=\s)", r"(?<!\w)", r"(?<=[.!?])", r"(?![a-z])"]

    def __init__(self, vocab: list[tuple[str, int]], rng: random.Random) -> None:
        self.rng = rng
        self.words = [word for word, _ in vocab]
        # sqrt-damped frequencies: common words often, rare words sometimes
        self.weights = [count**0.5 for _, count in vocab]

    def word(self) -> str:
        return self.rng.choices(self.words, self.weights)[0]

    def keyword_spec(self) -> dict:
        rng = self.rng
        keywords = list(dict.fromkeys(self.word() for _ in range(rng.randint(1, 3))))
        if rng.random() < 0.15:  # a two-word phrase or a word fragment
            keywords[0] = f"{keywords[0]} {self.word()}" if rng.random() < 0.5 else keywords[0][:3]
        if rng.random() < 0.1:
            keywords.append(rng.choice(EMOJI + TRAPS))
        case_sensitive = rng.random() < 0.4
        if not case_sensitive and rng.random() < 0.5:
            keywords = [k.upper() if rng.random() < 0.5 else k.title() for k in keywords]
        return {
            "keywords": keywords,
            "mode": "all" if rng.random() < 0.3 else "any",
            "case_sensitive": case_sensitive,
            "whole_word": rng.random() < 0.6,
        }

    def _atom(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            word = self.word()
            return re.escape(word[: rng.randint(2, len(word))] if len(word) > 3 else word)
        if roll < 0.6:
            return "(?:" + "|".join(re.escape(self.word()) for _ in range(rng.randint(2, 4))) + ")"
        return rng.choice(self.CLASSES)

    def regex_spec(self) -> dict:
        rng = self.rng
        pieces = []
        for _ in range(rng.randint(1, 4)):
            atom = self._atom()
            pieces.append(atom + rng.choice(self.QUANTIFIERS))
            if rng.random() < 0.2:
                pieces.append(rng.choice([r"\s+", r"\s*", r".{0,20}", r"\W+", " "]))
        if rng.random() < 0.25:
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(self.LOOKAROUNDS))
        if rng.random() < 0.2:
            pieces.insert(0, rng.choice(["^", r"\b", r"^\W*"]))
        if rng.random() < 0.2:
            pieces.append(rng.choice(["$", r"\b", r"\W*$"]))
        return {"pattern": "".join(pieces), "case_sensitive": rng.random() < 0.3}

    def lf_set(self, size: int) -> list[tuple[str, str, dict, int]]:
        specs = []
        for n in range(size):
            if self.rng.random() < 0.5:
                specs.append(
                    (f"lf{n}_keyword", "keyword", self.keyword_spec(), self.rng.randint(0, 1))
                )
            else:
                specs.append((f"lf{n}_regex", "regex", self.regex_spec(), self.rng.randint(0, 1)))
        return specs


def time_assay(rows: list[str], specs):
    from curation.weak_supervision.core.declarative import apply_compiled, columns_for, compile_spec

    started = time.perf_counter()
    lfs = [compile_spec(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in specs]
    matrix = apply_compiled(lfs, columns_for({"text": rows}), len(rows))
    return time.perf_counter() - started, matrix


def time_snorkel(rows: list[str], specs):
    import pandas as pd
    from snorkel.labeling import PandasLFApplier

    from curation.weak_supervision.core.snorkel_bridge import snorkel_lf

    started = time.perf_counter()
    lfs = [snorkel_lf(name=n, kind=k, params=p, vote=v, fields=["text"]) for n, k, p, v in specs]
    matrix = PandasLFApplier(lfs).apply(pd.DataFrame({"text": rows}), progress_bar=False)
    return time.perf_counter() - started, matrix


def warm_up() -> None:
    """One tiny run of each side first, so neither pays its one-off imports and library
    set-up (pyarrow's first array conversion alone takes most of a second) inside a cell."""
    specs = [
        ("warm", "regex", {"pattern": r"(?<!x)a\\w+"}, 1),
        ("kw", "keyword", {"keywords": ["a"]}, 0),
    ]
    time_assay(["a bc", "é a"], specs)
    time_snorkel(["a bc", "é a"], specs)


def run_cell(rows: list[str], specs, repeat: int) -> dict:
    import numpy as np

    assay_runs = [time_assay(rows, specs) for _ in range(repeat)]
    snorkel_runs = [time_snorkel(rows, specs) for _ in range(repeat)]
    assay_seconds = min(run[0] for run in assay_runs)
    snorkel_seconds = min(run[0] for run in snorkel_runs)
    reference = snorkel_runs[0][1]
    identical = all(np.array_equal(run[1], reference) for run in assay_runs + snorkel_runs)
    if not identical:
        ours = assay_runs[0][1]
        differing = [
            specs[j] for j in range(len(specs)) if not np.array_equal(ours[:, j], reference[:, j])
        ]
        raise AssertionError(f"label matrices differ on {differing}")
    return {
        "seconds": {"assay": round(assay_seconds, 3), "snorkel_pandas": round(snorkel_seconds, 3)},
        "speedup": round(snorkel_seconds / assay_seconds, 1),
        "matrices_identical": identical,
        "votes": int((reference >= 0).sum()),
        "specs": [{"name": n, "kind": k, "params": p, "vote": v} for n, k, p, v in specs],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and sets; no JSON")
    parser.add_argument("--sets", type=int, default=4, help="LF sets per distribution")
    parser.add_argument("--lfs", type=int, default=12, help="LFs per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2, help="runs per side; the fastest counts")
    parser.add_argument(
        "--distributions", nargs="+", choices=DISTRIBUTIONS, default=list(DISTRIBUTIONS)
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    sizes = QUICK_ROWS if args.quick else DEFAULT_ROWS
    sets = 2 if args.quick else args.sets
    repeat = 1 if args.quick else args.repeat

    warm_up()
    load_before = os.getloadavg()[0]
    cells = []
    print(
        f"{'distribution':<15}{'set':>4}{'rows':>8}{'assay s':>10}{'snorkel s':>11}{'speed-up':>10}"
    )
    for d, name in enumerate(args.distributions):
        rng = random.Random(args.seed * 1000 + d)
        rows = ROW_MAKERS[name](sizes[name], rng)
        generator = LFSetGenerator(vocabulary(rows, seed=args.seed), rng)
        for s in range(sets):
            cell = {"distribution": name, "set": s, "rows": len(rows)}
            cell |= run_cell(rows, generator.lf_set(args.lfs), repeat)
            cells.append(cell)
            seconds = cell["seconds"]
            print(
                f"{name:<15}{s:>4}{len(rows):>8,}{seconds['assay']:>10.2f}"
                f"{seconds['snorkel_pandas']:>11.2f}{cell['speedup']:>9.1f}x",
                flush=True,
            )
    speedups = [cell["speedup"] for cell in cells]
    result = {
        "benchmark": "lf_speed_random",
        "seed": args.seed,
        "lfs_per_set": args.lfs,
        "sets_per_distribution": sets,
        "repeat": repeat,
        "rows": {name: sizes[name] for name in args.distributions},
        "median_speedup": round(statistics.median(speedups), 1),
        "worst_speedup": min(speedups),
        "per_distribution": {
            name: {
                "median_speedup": round(
                    statistics.median(c["speedup"] for c in cells if c["distribution"] == name), 1
                ),
                "worst_speedup": min(c["speedup"] for c in cells if c["distribution"] == name),
            }
            for name in args.distributions
        },
        "all_matrices_identical": all(cell["matrices_identical"] for cell in cells),
        "load_average_before": round(load_before, 2),
        "cells": cells,
        "machine": machine_info(),
    }
    print(
        f"median speed-up {result['median_speedup']}x, worst {result['worst_speedup']}x; "
        f"identical matrices: {result['all_matrices_identical']}"
    )
    if not args.quick:
        results_write(args.output, result)
    return result


if __name__ == "__main__":
    main()
