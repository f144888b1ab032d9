"""Statistics for A/B experiments on served models: pure functions, no Django.

The unit of randomisation is a unit (a user or session id); every metric comes in as one
value per unit (its thumbs-up rate, its mean latency) or, for ratio metrics, one (numerator,
denominator) pair per unit. Treatment is compared with control (the champion).

- :mod:`.fixed_horizon`: Welch t, two-proportion z and unit-bootstrap ratio comparisons, for a
  single look at a planned sample size.
- :mod:`.sequential`: the always-valid mSPRT, for monitoring as data arrive.
- :mod:`.srm`: the sample-ratio-mismatch check of the traffic split.
- :mod:`.power`: sample size and power for planning.
- :mod:`.decision`: guardrails and the ship / keep running / roll back / blocked verdict.
"""

from serving.core.statistics.decision import GuardrailResult, Verdict, decide, guardrail_check
from serving.core.statistics.fixed_horizon import (
    Comparison,
    ratio_bootstrap,
    two_proportions,
    welch_t,
)
from serving.core.statistics.power import power_at, sample_size_per_arm
from serving.core.statistics.sequential import (
    DEFAULT_BURN_IN,
    DEFAULT_TAU_IN_SD,
    SequentialResult,
    msprt,
    msprt_path,
)
from serving.core.statistics.srm import SrmResult, srm_check, srm_check_phased

__all__ = [
    "DEFAULT_BURN_IN",
    "DEFAULT_TAU_IN_SD",
    "Comparison",
    "GuardrailResult",
    "SequentialResult",
    "SrmResult",
    "Verdict",
    "decide",
    "guardrail_check",
    "msprt",
    "msprt_path",
    "power_at",
    "ratio_bootstrap",
    "sample_size_per_arm",
    "srm_check",
    "srm_check_phased",
    "two_proportions",
    "welch_t",
]
