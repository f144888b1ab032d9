"""Sticky, deterministic assignment of units to variants.

A unit (the caller's user or session id) hashes with the experiment's salt to a point in
[0, 1); the variants own consecutive intervals of that line, sized by their shares. The
same unit and salt always land on the same point, so a unit keeps its variant for as long
as the split does not change. Challengers own the start of the line and the champion the
rest: when a rollout step grows a single challenger's share, its interval only widens, so
no unit already on the challenger is moved back to the champion.
"""

import hashlib
from collections.abc import Sequence

WEIGHT_TOLERANCE = 1e-6


class AllocationError(ValueError):
    """Shares that cannot split traffic: negative, or not summing to 1."""


def unit_point(salt: str, unit_key: str) -> float:
    """The unit's point in [0, 1): the first 8 bytes of SHA-256(salt:unit) as a fraction."""
    digest = hashlib.sha256(f"{salt}:{unit_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def validate_shares(shares: Sequence[float]) -> None:
    if not shares:
        raise AllocationError("An experiment needs at least two variants.")
    if any(share < 0 for share in shares):
        raise AllocationError(f"Weights must not be negative, got {list(shares)}.")
    total = sum(shares)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise AllocationError(f"Weights must sum to 1, they sum to {total:g}.")


def assign(point: float, allocation: Sequence[tuple[str, float]]) -> str:
    """The variant whose interval holds ``point``; ``allocation`` is ordered as the line
    is laid out (challengers first, the champion last)."""
    edge = 0.0
    for variant, share in allocation:
        edge += share
        if point < edge:
            return variant
    return allocation[-1][0]  # rounding: the last interval closes the line


def rollout_shares(
    initial: dict[str, float], champion: str, challenger_share: float
) -> dict[str, float]:
    """The split once the challengers together get ``challenger_share`` of new units,
    divided between them in proportion to their initial weights."""
    if not 0 <= challenger_share <= 1:
        raise AllocationError(f"A challenger share must be within 0-100%, got {challenger_share}.")
    challengers = {name: w for name, w in initial.items() if name != champion}
    total = sum(challengers.values())
    if total <= 0:
        even = challenger_share / len(challengers)
        shares = dict.fromkeys(challengers, even)
    else:
        shares = {name: challenger_share * w / total for name, w in challengers.items()}
    return {**shares, champion: 1.0 - challenger_share}
