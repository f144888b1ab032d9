"""The loss on labelled positions only: the model's own value and gradients, and the
model's own path wherever the two would differ."""

import pytest

from training.core.config import TrainingConfig
from training.core.data import CausalCollator, PackedCollator, generation_features
from training.core.loss import labelled_loss, same_as_model_loss
from training.core.models import load_base_model, load_tokenizer, prepare_for_training

RECORDS = [
    {"system": "Describe it.", "prompt": "name[Zizzi]", "response": "Zizzi is Italian."},
    {"prompt": "name[Aromi]", "response": "Aromi serves French food near the river, cheap."},
    {"prompt": "name[Cotto], food[English], area[city centre]", "response": "Cotto."},
]


def _batch(tokenizer):
    features = generation_features(RECORDS, tokenizer, max_length=48)
    return CausalCollator(pad_token_id=tokenizer.pad_token_id)(features)


@pytest.mark.parametrize("method", ["full", "lora"])
def test_labelled_loss_equals_the_models_own_loss_and_gradients(tiny_llama, method):
    import torch

    torch.manual_seed(0)
    config = TrainingConfig(task_type="generation", method=method, lora_dropout=0.0)
    model = prepare_for_training(load_base_model(config, tiny_llama), config).eval()
    batch = _batch(load_tokenizer(tiny_llama))

    own = model(**batch).loss
    own.backward()
    own_grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
    model.zero_grad()
    ours = labelled_loss(model, batch)
    ours.backward()
    our_grads = [p.grad for p in model.parameters() if p.requires_grad]

    assert float(ours) == pytest.approx(float(own), rel=1e-5)
    for mine, theirs in zip(our_grads, own_grads, strict=True):
        assert torch.allclose(mine, theirs, atol=1e-6)
    assert same_as_model_loss(model, batch)


def test_a_model_whose_own_loss_differs_keeps_its_own_path(tiny_llama):
    """A model that scales its logits after the head (as some architectures do) gives a
    different loss: the check says so, and the runner would keep the model's own loss."""
    import torch

    config = TrainingConfig(task_type="generation", method="full")
    model = load_base_model(config, tiny_llama)
    forward = model.forward

    def scaled_forward(*args, **kwargs):
        labels = kwargs.pop("labels")
        out = forward(*args, **kwargs)
        logits = out.logits[:, :-1] * 3.0
        out.loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1)
        )
        return out

    model.forward = scaled_forward
    model.train()
    assert not same_as_model_loss(model, _batch(load_tokenizer(tiny_llama)))
    assert model.training  # its mode is restored


def _packed(tokenizer):
    return PackedCollator()(generation_features(RECORDS, tokenizer, max_length=48))


def test_a_packed_batch_gives_the_padded_batchs_loss_with_no_padding(tiny_llama):
    """Packing puts the examples in one row: the same loss as the padded batch (each
    example attends only to itself), fewer positions. With a cache the model would let
    the examples see each other, which is why the collator switches it off."""
    import torch

    config = TrainingConfig(task_type="generation", method="full", batching="packed")
    model = load_base_model(config, tiny_llama).eval()
    tokenizer = load_tokenizer(tiny_llama)
    padded, packed = _batch(tokenizer), _packed(tokenizer)

    assert packed["input_ids"].shape[0] == 1
    assert packed["input_ids"].numel() == int(padded["attention_mask"].sum())
    with torch.no_grad():
        own = float(model(**padded).loss)
        assert float(model(**packed).loss) == pytest.approx(own, rel=1e-5)
        assert float(labelled_loss(model, packed)) == pytest.approx(own, rel=1e-5)
        leaky = float(model(**{**packed, "use_cache": True}).loss)
    # A random tiny model is near uniform, so seeing other examples moves its loss only a
    # little, but far beyond float error.
    assert abs(leaky - own) > 1e-4
    assert same_as_model_loss(model, packed)


def test_packing_is_refused_for_classification_naming_the_field():
    from training.core.config import TrainingConfigError, config_from_dict

    with pytest.raises(TrainingConfigError, match="'batching' packed is for generation"):
        config_from_dict(
            {"task_type": "classification", "labels": ["a", "b"], "batching": "packed"}
        )
