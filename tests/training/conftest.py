"""Tiny models built from a config (no download, seconds to train) and small data folders."""

import random
from pathlib import Path

import pytest

from training.core.data import write_split

WORDS = "the a good bad food cheap pricey near river city centre pub cafe win prize free click now"
NAMES = ["Alimentum", "Blue Spice", "The Eagle", "Zizzi", "Aromi", "Cotto", "The Mill", "Loch Fyne"]
FOODS = ["French", "Italian", "Chinese", "English", "Indian", "Japanese"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _corpus() -> list[str]:
    rng = random.Random(0)
    lines = [" ".join(rng.choice(WORDS.split()) for _ in range(8)) for _ in range(200)]
    lines += [f"name[{n}], food[{f}]" for n in NAMES for f in FOODS]
    lines += [f"{n} serves {f} food." for n in NAMES for f in FOODS]
    return lines


def _tokenizer(chat_template: str | None = None):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<pad>", "<unk>", "</s>", "<|user|>", "<|assistant|>", "<|system|>"]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False)
    tokenizer.train_from_iterator(_corpus(), trainer)
    from tokenizers import decoders

    tokenizer.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )
    if chat_template:
        fast.chat_template = chat_template
    return fast


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A 2-layer BERT (hidden 32) with a BPE tokenizer trained on a few hundred strings."""
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = _tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> str:
    """A 2-layer Llama (hidden 64) with a chat template."""
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = _tokenizer(CHAT_TEMPLATE)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def classification_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        spam = rng.random() < 0.5
        words = ["win", "prize", "free", "click", "now"] if spam else ["food", "pub", "river"]
        text = " ".join(rng.choice(words) for _ in range(5)) + " " + rng.choice(WORDS.split())
        records.append({"text": text, "label": "spam" if spam else "ham"})
    return records


def generation_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        name, food = rng.choice(NAMES), rng.choice(FOODS)
        records.append(
            {"prompt": f"name[{name}], food[{food}]", "response": f"{name} serves {food} food."}
        )
    return records


def write_data(folder: Path, make, sizes=(48, 12, 12)) -> Path:
    for split, size, seed in zip(("train", "validation", "test"), sizes, (1, 2, 3), strict=True):
        write_split(folder, split, make(size, seed))
    return folder


@pytest.fixture
def classification_data(tmp_path) -> Path:
    return write_data(tmp_path / "data", classification_records)


@pytest.fixture
def generation_data(tmp_path) -> Path:
    return write_data(tmp_path / "data", generation_records)


@pytest.fixture(autouse=True)
def _training_dirs(settings, tmp_path):
    settings.TRAINING_DIR = tmp_path / "training"
    settings.TRAINING_MODEL_CACHE = tmp_path / "models"


def approved_version(project):
    """Build a version of ``project`` and mark it approved (review is tested elsewhere)."""
    from curation.models import DatasetVersion
    from curation.services.versions import dataset_version_build

    version = dataset_version_build(project=project, seed=0)
    DatasetVersion.objects.filter(pk=version.pk).update(status="approved")
    version.refresh_from_db()
    return version


@pytest.fixture
def spam_project(db):
    from tests.factories import ExampleFactory, ProjectFactory

    project = ProjectFactory(label_set=["ham", "spam"])
    for n, record in enumerate(classification_records(40, seed=5)):
        ExampleFactory(
            project=project,
            fields={"text": f"{record['text']} {n}"},
            resolved_label=record["label"],
        )
    return project


def tiny_values(base: str, **overrides) -> dict:
    values = dict(
        base_model=base,
        max_steps=4,
        eval_steps=2,
        batch_size=8,
        max_length=16,
        learning_rate=5e-3,
        early_stopping_patience=0,
        bootstrap_samples=20,
    )
    return {**values, **overrides}
