"""What this machine's CPU does fast, read from /proc/cpuinfo without importing torch (the
launch page asks on every render)."""

from functools import cache
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# Native bf16 dot products: AVX-512 BF16 (Intel Cooper Lake on, AMD Zen 4 on) or AMX.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@cache
def cpu_has_fast_bfloat16(cpuinfo: Path = CPUINFO) -> bool:
    """Does the CPU multiply bf16 natively? There, a mixed bf16 step of the bundled
    generation model takes 0.69 of a float32 one in the runner (0.62 in isolation,
    `benchmarks/labelled_loss.py`); without it, bf16 is emulated and slower than float32.
    False where the file cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return any(flag in flags for flag in BF16_FLAGS)
    return False
