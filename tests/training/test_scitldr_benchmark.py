"""The SciTLDR benchmarks: multi-reference scoring in the data README's two views, and
the GPU script's CPU dry run (so it cannot rot while no GPU is lent)."""

import json

import pytest

from benchmarks import scitldr
from benchmarks import scitldr_gpu as gpu

PAPER = {
    "source": ["We propose a new optimizer.", "It trains faster on images."],
    "source_labels": [0, 1],
    "target": ["A faster optimizer for deep networks.", "We propose a new optimizer."],
}


def test_multi_max_takes_the_best_reference_and_author_only_the_first():
    views = scitldr.rouge_views(["We propose a new optimizer."], [PAPER])
    assert views["multi.max"]["rouge1"] == [pytest.approx(100.0)]
    assert views["multi.max"]["rougeL"] == [pytest.approx(100.0)]
    assert views["author"]["rouge1"][0] < 50
    assert scitldr.first_sentences([PAPER]) == ["We propose a new optimizer."]
    assert scitldr.oracle_sentences([PAPER]) == ["It trains faster on images."]


def test_training_records_keep_every_reference_only_when_asked():
    assert len(scitldr.training_records([PAPER], all_targets=True)) == 2
    (record,) = scitldr.training_records([PAPER], all_targets=False)
    assert record["prompt"].startswith(scitldr.INSTRUCTION)
    assert record["response"] == PAPER["target"][0]


def test_the_real_files_have_the_documented_sizes(shared_data):
    papers = scitldr.read_papers("test", shared_data / "scitldr")
    assert len(papers) == 618
    assert sum(len(p["target"]) for p in papers) == 1967
    sample = scitldr.subset(papers, 50)
    assert len(sample) == 50 and sample == scitldr.subset(papers, 50)


def test_a_gpu_run_is_bf16_with_the_full_budget_and_needs_a_base_model():
    settings = gpu.plan(gpu.parse(["--base-model", "/models/llama-3.2-1b"]))
    assert settings["precision"] == "bfloat16" and not settings["dry_run"]
    assert settings["output"] == gpu.DEFAULT_OUTPUT and settings["limit"] == 0
    with pytest.raises(SystemExit, match="--base-model"):
        gpu.plan(gpu.parse([]))


def test_mfu_is_against_the_devices_bf16_peak():
    assert gpu.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert gpu.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert gpu.peak_flops("Some Future Card") is None
    figures = gpu.throughput(tokens=1000, seconds=2.0, parameters=10**9, method="lora", peak=1e15)
    assert figures["tokens_per_second"] == 500 and figures["mfu"] == pytest.approx(0.002)


def test_it_refuses_without_a_gpu(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main(["--base-model", "/m"]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().out


@pytest.mark.slow
def test_the_dry_run_trains_scores_and_reports_throughput_on_cpu(shared_data, tmp_path):
    output = tmp_path / "dry.json"
    assert gpu.main(["--dry-run", "--output", str(output)]) == 0

    report = json.loads(output.read_text())
    assert report["device"] == "CPU (dry run)" and report["steps"] > 0
    assert report["throughput"]["tokens_per_second"] > 0
    assert report["throughput"]["mfu"] is None  # no known peak for a CPU
    assert report["test"]["papers"] == 4
    for system in ("fine_tuned", "base", "first_sentence"):
        scores = report["test"][system]
        assert set(scores["multi.max"]) >= {"rouge1", "rouge2", "rougeL"}
        assert scores["multi.max"]["rouge1"] >= scores["author"]["rouge1"]
    assert report["decoding"] == "beam search (2 beams, length penalty 0.4)"
