"""How a generation model decodes: greedy, beam search or sampling, in one validated
dataclass that training's evaluation and every serving engine use, so a deployment answers
the way its run was measured.

The strategy follows from the numbers, with OpenAI's convention that temperature 0 means
no sampling: ``temperature > 0`` samples (with ``top_p``), else ``num_beams > 1`` is beam
search (with ``length_penalty``), else greedy. Sampling and beams together are refused
rather than silently mixed.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any

GREEDY, BEAM, SAMPLE = "greedy", "beam", "sample"
MAX_BEAMS = 16


class DecodingError(ValueError):
    """A decoding value is out of range; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}")
        self.field = field


@dataclass(frozen=True)
class Decoding:
    """Decoding settings of one generation call (hashable: requests that share them are
    batched together). Build it from untrusted values with `decoding_from_dict`, or call
    `decoding_validate`; the engines and the training config do."""

    max_tokens: int = 64
    num_beams: int = 1
    length_penalty: float = 1.0
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    @property
    def strategy(self) -> str:
        if self.temperature > 0:
            return SAMPLE
        return BEAM if self.num_beams > 1 else GREEDY

    def generate_options(self) -> dict[str, Any]:
        """Keyword arguments for transformers' ``generate`` (only those the strategy
        uses, so the model's own generation config cannot leak sampling into greedy)."""
        options: dict[str, Any] = {"max_new_tokens": self.max_tokens, "num_beams": 1}
        if self.strategy == SAMPLE:
            # OpenAI semantics: temperature and top_p only (top_k=0 turns top-k off).
            options.update(do_sample=True, temperature=self.temperature, top_p=self.top_p)
            options["top_k"] = 0
        elif self.strategy == BEAM:
            options.update(
                do_sample=False, num_beams=self.num_beams, length_penalty=self.length_penalty
            )
            options["early_stopping"] = True
        else:
            options["do_sample"] = False
        return options

    def describe(self) -> str:
        if self.strategy == SAMPLE:
            return f"sampling (temperature {self.temperature:g}, top_p {self.top_p:g})"
        if self.strategy == BEAM:
            return f"beam search ({self.num_beams} beams, length penalty {self.length_penalty:g})"
        return "greedy"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def decoding_validate(decoding: Decoding) -> None:
    """Raise `DecodingError` naming the first bad field."""
    _whole(decoding.max_tokens, "max_tokens", low=1)
    _whole(decoding.num_beams, "num_beams", low=1, high=MAX_BEAMS)
    for name in ("length_penalty", "temperature", "top_p"):
        value = getattr(decoding, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise DecodingError(name, f"must be a number, got {value!r}.")
        if math.isinf(value):
            raise DecodingError(name, f"must be finite, got {value!r}.")
    if not 0 <= decoding.temperature <= 2:
        raise DecodingError(
            "temperature", f"must be in [0, 2] (0 = no sampling), got {decoding.temperature}."
        )
    if not 0 < decoding.top_p <= 1:
        raise DecodingError("top_p", f"must be in (0, 1], got {decoding.top_p}.")
    if decoding.temperature > 0 and decoding.num_beams > 1:
        raise DecodingError(
            "num_beams",
            f"is {decoding.num_beams} with temperature {decoding.temperature}: choose beam "
            "search (temperature 0) or sampling (num_beams 1), not both.",
        )


def _whole(value: Any, name: str, *, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodingError(name, f"must be a whole number, got {value!r}.")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise DecodingError(name, f"must be {bound}, got {value}.")


def decoding_from_dict(values: dict[str, Any], **overrides: Any) -> Decoding:
    """A validated `Decoding` from a stored mapping (a deployment's ``decoding`` field),
    unknown keys refused; ``overrides`` win over ``values``."""
    merged = {**values, **{k: v for k, v in overrides.items() if v is not None}}
    known = set(Decoding.__dataclass_fields__)
    unknown = sorted(set(merged) - known)
    if unknown:
        raise DecodingError(unknown[0], f"is not a decoding option (known: {sorted(known)}).")
    decoding = Decoding(**merged)
    decoding_validate(decoding)
    return decoding


def decoding_describe(values: dict[str, Any]) -> str:
    """A stored decoding mapping in words ('greedy', 'beam search (4 beams, ...)'); a stored
    value that no longer validates says so instead of failing a page."""
    known = set(Decoding.__dataclass_fields__)
    try:
        return decoding_from_dict({k: v for k, v in values.items() if k in known}).describe()
    except (DecodingError, TypeError) as exc:
        return f"invalid ({exc})"
