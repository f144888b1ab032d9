"""The training-step benchmark's CPU dry run: real E2E and SciTLDR batches as the runner
builds them, every arm timed on the same steps (so the script cannot rot)."""

import json

from benchmarks import labelled_loss


def test_the_dry_run_times_both_losses_on_real_batches_and_they_agree(shared_data, tmp_path):
    output = tmp_path / "dry.json"
    assert labelled_loss.main(["--dry-run", "--output", str(output)]) == 0

    report = json.loads(output.read_text())
    assert set(report["data_sets"]) == {"e2e_nlg", "scitldr"}
    for row in report["data_sets"].values():
        assert row["steps_per_arm"] == 1
        # The prompt is not labelled: only part of each batch carries the loss.
        assert 0 < row["labelled_share"] < 0.9
        # Packing computes no padding: fewer positions than the padded batch.
        assert row["tokens_per_batch"] < row["padded_tokens_per_batch"]
        assert set(row["arms"]) == {"model_loss", "labelled_loss", "packed", "mixed_bfloat16"}
        for name, arm in row["arms"].items():
            # float32 arms agree to float error; bf16 autocast rounds to about 3 digits.
            assert arm["largest_loss_difference"] < (2e-2 if name == "mixed_bfloat16" else 1e-4)
            assert arm["seconds_per_step"] > 0 and arm["speedup"] > 0
    # SciTLDR's long abstracts make its batches longer and its labelled share smaller.
    e2e, scitldr = report["data_sets"]["e2e_nlg"], report["data_sets"]["scitldr"]
    assert scitldr["tokens_per_batch"] > e2e["tokens_per_batch"]
    assert scitldr["labelled_share"] < e2e["labelled_share"]
