"""E2E NLG on a GPU with a larger base model (marked for GPU): refuses to run without CUDA.

Same protocol as e2e_nlg_lora.py with a larger budget. --base-model takes a local folder
or a Hugging Face id already in the cache (the machine is offline), e.g. a 0.5-1.5B
instruct model; the target is the LoRA paper's row (ROUGE-L 71.8).

    .venv/bin/python benchmarks/e2e_nlg_lora_gpu.py --base-model PATH_OR_ID
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_nlg_lora import parse, run  # noqa: E402 - needs the benchmarks folder on the path


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("e2e_nlg_lora_gpu needs a CUDA GPU and none is available; not running.")
        return 2
    args = parse(
        __doc__.splitlines()[0], {"train_examples": 42061, "max_steps": 3000, "batch_size": 16}
    )
    if not args.base_model:
        print("Give --base-model (a local folder or a cached Hugging Face id).")
        return 2
    run(args, results_name="e2e_nlg_lora_gpu", hardware=torch.cuda.get_device_name(0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
