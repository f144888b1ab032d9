"""Causal-LM loss on the labelled positions only.

A generation example's loss is on its response (about a third of its tokens for E2E
prompts), yet a causal LM's forward pass projects every position onto the vocabulary
(49,152 wide for SmolLM2) before its loss ignores the prompt. `labelled_loss` runs the
model's decoder, projects only the positions that have a label, and takes the same mean
cross-entropy: the same value and gradients, fewer FLOPs. It is used only after
`same_as_model_loss` has checked it against the model's own loss on a real batch, so an
architecture that does more between its decoder and its loss (logit soft-capping,
scaling) keeps the model's own path.
"""

IGNORE_INDEX = -100


def _parts(model):
    """(decoder, output projection) of a causal LM, through a PEFT wrapper; None when the
    model does not expose them."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        decoder, head = base.get_decoder(), base.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    if decoder is None or head is None:
        return None
    return decoder, head


def labelled_loss(model, inputs):
    """Mean cross-entropy over the labelled next-token positions of ``inputs``."""
    import torch

    decoder, head = _parts(model)
    hidden = decoder(
        input_ids=inputs["input_ids"],
        attention_mask=inputs.get("attention_mask"),
        position_ids=inputs.get("position_ids"),  # packed batches (`data.PackedCollator`)
        use_cache=inputs.get("use_cache"),
    ).last_hidden_state
    targets = inputs["labels"][:, 1:]
    keep = targets != IGNORE_INDEX
    logits = head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])


def same_as_model_loss(model, inputs, *, tolerance: float = 1e-4) -> bool:
    """Does `labelled_loss` give the model's own loss on ``inputs``? Checked without
    dropout (eval mode) and without gradients; the model's mode is restored."""
    import torch

    if _parts(model) is None:
        return False
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            own = float(model(**inputs).loss)
            ours = float(labelled_loss(model, inputs))
    finally:
        model.train(was_training)
    return abs(own - ours) <= tolerance * max(1.0, abs(own))
