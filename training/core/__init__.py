"""The training runner: pure Python (no Django). Configuration dataclasses, data
preparation, metrics, the estimate, training with Hugging Face Trainer + PEFT, and the
final evaluation. Django code calls these; tests call them directly.

Heavy libraries (torch, transformers, peft, sklearn, rouge_score, sacrebleu) are imported
inside the functions that use them, so importing this package costs nothing.
"""
