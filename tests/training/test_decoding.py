"""Decoding options: one validated dataclass; evaluation decodes as the config says."""

import pytest

from tests.training.conftest import generation_records
from tests.training.test_runner import generation_config
from training.core import evaluation
from training.core.config import TrainingConfigError, config_from_dict
from training.core.decoding import Decoding, DecodingError, decoding_from_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"num_beams": "0"}, "num_beams"),
        ({"top_p": "1.5"}, "top_p"),
        ({"temperature": "-0.1"}, "temperature"),
        ({"max_new_tokens": "0"}, "max_new_tokens"),
        ({"num_beams": "4", "temperature": "0.7"}, "num_beams"),
    ],
)
def test_bad_decoding_values_are_refused_naming_the_field(values, field):
    with pytest.raises(TrainingConfigError, match=f"'{field}'"):
        config_from_dict({"task_type": "generation", **values})


def test_stored_decoding_is_validated_and_unknown_keys_refused():
    with pytest.raises(DecodingError, match="'top_p' must be in \\(0, 1\\], got 1.5") as caught:
        decoding_from_dict({"top_p": 1.5})
    assert caught.value.field == "top_p"
    with pytest.raises(DecodingError, match="'beams' is not a decoding option"):
        decoding_from_dict({"beams": 4})
    beam = decoding_from_dict({"num_beams": 4}, length_penalty=0.8)
    assert (
        beam.strategy == "beam" and beam.describe() == "beam search (4 beams, length penalty 0.8)"
    )
    assert decoding_from_dict({"num_beams": 4}, temperature=0.5, num_beams=1).strategy == "sample"
    assert Decoding().strategy == "greedy"


def test_a_config_carries_its_decoding_to_evaluation_and_deployments():
    config = config_from_dict(
        {
            "task_type": "generation",
            "num_beams": "5",
            "length_penalty": "1.2",
            "max_new_tokens": "9",
        }
    )
    assert config.decoding == Decoding(max_tokens=9, num_beams=5, length_penalty=1.2)
    sampled = config_from_dict({"task_type": "generation", "temperature": "0.8", "seed": "3"})
    assert sampled.decoding.seed == 3  # evaluation samples reproducibly


@pytest.mark.slow
def test_beam_search_differs_from_greedy_and_both_are_deterministic(tiny_llama):
    from transformers import AutoModelForCausalLM

    from training.core.models import load_tokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    tokenizer = load_tokenizer(tiny_llama)
    records = generation_records(8, seed=4)
    greedy_config = generation_config(tiny_llama, max_new_tokens=12)
    beam_config = generation_config(tiny_llama, max_new_tokens=12, num_beams=4)

    greedy = evaluation.generate(model, tokenizer, records, config=greedy_config)
    beam = evaluation.generate(model, tokenizer, records, config=beam_config)

    assert beam != greedy
    assert evaluation.generate(model, tokenizer, records, config=beam_config) == beam
    assert evaluation.generate(model, tokenizer, records, config=greedy_config) == greedy
