"""The model calls of the built-in engine: one batched `generate` and one batched
classification forward pass. The caller holds the base model's lock and has switched the
adapter on; these functions only turn text into tensors and back.

Generation follows `training.core.evaluation.generate` (prompt tokens without added special
tokens, left padding, the same `Decoding` options, text stripped) so that a deployment
answers the way its training run was measured.
"""

from typing import Any

from serving.core.engine import ChatResult, ClassifyResult, Decoding
from serving.engines.validation import check_messages


def render_prompt(tokenizer, messages: list[dict]) -> str:
    """The prompt text as training evaluated it (`training.core.data.prompt_text`)."""
    from training.core.data import FALLBACK_TEMPLATE

    turns = check_messages(messages)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
    # Training's fallback has no place for a system prompt; earlier turns are spelled the
    # same way, so one user message gives exactly the evaluated prompt.
    text = ""
    for turn in turns:
        if turn["role"] == "user":
            text += FALLBACK_TEMPLATE.format(prompt=turn["content"])
        elif turn["role"] == "assistant":
            text += turn["content"] + "\n"
    if turns[-1]["role"] != "user":
        text += "Assistant: "
    return text


def generate(
    model: Any, base: Any, prompts: list[str], decoding: Decoding, max_length: int
) -> list[ChatResult]:
    """Completions of ``prompts`` (rendered chat prompts) in one `generate` call.

    A prompt longer than ``max_length`` tokens keeps its last ``max_length`` tokens: the
    end holds the latest turn and the opened assistant turn the model must continue.
    """
    import torch

    tokenizer = base.tokenizer
    encoded = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    encoded = [ids[-max_length:] for ids in encoded]
    width = max(len(ids) for ids in encoded)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
    attention_mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded])
    options: dict[str, Any] = {
        **decoding.generate_options(),
        "pad_token_id": pad,
        "eos_token_id": base.eos_ids or None,
    }
    if decoding.seed is not None and decoding.temperature > 0:
        torch.manual_seed(decoding.seed)
    with torch.inference_mode():
        output = model.generate(
            input_ids=input_ids.to(base.device),
            attention_mask=attention_mask.to(base.device),
            **options,
        )
    new_tokens = output[:, width:].tolist()
    return [
        _chat_result(tokenizer, row, len(ids), base.eos_ids)
        for row, ids in zip(new_tokens, encoded, strict=True)
    ]


def _chat_result(tokenizer, tokens: list[int], prompt_tokens: int, eos_ids) -> ChatResult:
    """Cut a generated row at its first end-of-sequence token (rows that finished early are
    padded to the longest). The stop token counts as generated, as in OpenAI's usage."""
    stop = next((i for i, token in enumerate(tokens) if token in eos_ids), None)
    kept = tokens if stop is None else tokens[:stop]
    return ChatResult(
        text=tokenizer.decode(kept, skip_special_tokens=True).strip(),
        prompt_tokens=prompt_tokens,
        completion_tokens=len(tokens) if stop is None else stop + 1,
        finish_reason="length" if stop is None else "stop",
    )


def classify(
    model: Any, base: Any, texts: list[str], labels: tuple[str, ...], max_length: int
) -> list[ClassifyResult]:
    """Softmax probabilities named by ``labels``; texts longer than ``max_length`` tokens
    are truncated (as in training), not refused."""
    import torch

    batch = base.tokenizer(
        texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt"
    ).to(base.device)
    with torch.inference_mode():
        logits = model(**batch).logits.float()
    probabilities = torch.softmax(logits, dim=-1).cpu().tolist()
    tokens = batch["attention_mask"].sum(dim=1).tolist()
    results = []
    for row, count in zip(probabilities, tokens, strict=True):
        named = dict(zip(labels, row, strict=True))
        results.append(
            ClassifyResult(
                label=max(named, key=named.__getitem__), probabilities=named, tokens=count
            )
        )
    return results
