"""The built-in engine on tiny random models: batching must not change answers, adapters
share one base, and every misuse fails with an error that says what is wrong."""

import gc
import threading
import weakref
from types import SimpleNamespace

import pytest

from serving.core.engine import Decoding, EngineError, ModelSpec, UnknownModel
from serving.engines.builtin import BuiltinEngine, render_prompt

PROMPTS = [
    "name[Zizzi], food[French]",
    "name[The Eagle], food[Italian], area[riverside], near[Cotto]",
    "hi",
    "name[Aromi] serves cheap food near the river in the city centre",
    "name[Loch Fyne]",
    "the good pub",
]
GREEDY = Decoding(max_tokens=10)


@pytest.fixture
def engine():
    # A long window so that requests released together surely share a batch.
    engine = BuiltinEngine(max_wait_ms=150)
    yield engine
    engine.close()


def _chat(engine, name, prompt, decoding=GREEDY):
    return engine.chat(name, [{"role": "user", "content": prompt}], decoding)


def _concurrently(calls: list) -> list:
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i):
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_batched_greedy_answers_equal_unbatched_token_for_token(
    engine, tiny_llama, tiny_llama_adapters
):
    engine.load(ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[0]))
    alone = [_chat(engine, "a", prompt) for prompt in PROMPTS]  # batches of one, no padding
    assert engine.stats("a")["largest_batch"] == 1
    together = _concurrently([lambda p=p: _chat(engine, "a", p) for p in PROMPTS])
    assert engine.stats("a")["largest_batch"] > 1
    assert together == alone
    assert len({result.prompt_tokens for result in alone}) > 1  # really padded


def test_answers_match_the_training_evaluation(engine, tiny_llama):
    from training.core.config import TrainingConfig
    from training.core.evaluation import generate
    from training.core.models import load_tokenizer

    engine.load(ModelSpec("plain", "generation", tiny_llama))
    base = engine._loaded["plain"].base
    config = TrainingConfig(task_type="generation", max_new_tokens=10, generation_batch_size=4)
    records = [{"prompt": prompt} for prompt in PROMPTS]
    evaluated = generate(base.model, load_tokenizer(tiny_llama), records, config=config)
    assert [_chat(engine, "plain", prompt).text for prompt in PROMPTS] == evaluated


def test_adapters_share_one_base_and_answer_differently(engine, tiny_llama, tiny_llama_adapters):
    engine.load(ModelSpec("plain", "generation", tiny_llama))
    engine.load(ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[0]))
    engine.load(ModelSpec("b", "generation", tiny_llama, adapter_path=tiny_llama_adapters[1]))
    assert engine.base_loads == 1
    assert list(engine.bases().values()) == [["a", "b", "plain"]]
    assert engine.stats("a")["shares_base_with"] == ["b", "plain"]
    answers = {name: _chat(engine, name, PROMPTS[1]).text for name in ("plain", "a", "b")}
    assert len(set(answers.values())) == 3, answers
    # Interleaved calls switch adapters per batch and still get each name's own answer.
    names = ["plain", "a", "b"] * 3
    mixed = _concurrently([lambda n=n: _chat(engine, n, PROMPTS[1]).text for n in names])
    assert mixed == [answers[name] for name in names]


def test_concurrent_chat_from_8_threads_forms_batches(engine, tiny_llama):
    engine.load(ModelSpec("plain", "generation", tiny_llama))
    results = _concurrently([lambda i=i: _chat(engine, "plain", PROMPTS[i % 6]) for i in range(8)])
    assert all(result.completion_tokens > 0 for result in results)
    stats = engine.stats("plain")
    assert stats["items"] == 8
    assert stats["mean_batch_size"] > 1


def test_length_stop_and_token_counts(engine, tiny_llama):
    from training.core.models import load_tokenizer

    engine.load(ModelSpec("plain", "generation", tiny_llama))
    result = _chat(engine, "plain", PROMPTS[0], Decoding(max_tokens=3))
    tokenizer = load_tokenizer(tiny_llama)
    prompt = render_prompt(tokenizer, [{"role": "user", "content": PROMPTS[0]}])
    assert result.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if result.finish_reason == "length":
        assert result.completion_tokens == 3
    else:  # the random model happened to end its turn at once
        assert result.completion_tokens <= 3


def test_a_prompt_longer_than_max_length_is_truncated_not_refused(engine, tiny_llama):
    engine.load(ModelSpec("short", "generation", tiny_llama, max_length=16))
    result = _chat(engine, "short", " ".join(["good food near the river"] * 40))
    assert result.prompt_tokens == 16


def test_seeded_sampling_is_reproducible_and_batching_does_not_change_it(engine, tiny_llama):
    engine.load(ModelSpec("plain", "generation", tiny_llama))
    seeded = Decoding(max_tokens=10, temperature=1.5, top_p=0.9, seed=7)
    first = _chat(engine, "plain", PROMPTS[0], seeded)
    again = _concurrently([lambda: _chat(engine, "plain", PROMPTS[0], seeded)] * 4)
    assert again == [first] * 4
    other_seed = Decoding(max_tokens=10, temperature=1.5, top_p=0.9, seed=8)
    assert _chat(engine, "plain", PROMPTS[0], other_seed) != first
    unseeded = Decoding(max_tokens=10, temperature=1.5)
    assert _chat(engine, "plain", PROMPTS[0], unseeded).completion_tokens > 0


def test_classification_probabilities_use_the_label_names(engine, tiny_bert, tiny_bert_adapter):
    labels = ("ham", "spam")
    engine.load(
        ModelSpec("spam", "classification", tiny_bert, tiny_bert_adapter, labels, max_length=16)
    )
    texts = ["win a free prize now", "good food by the river", "click " * 200]
    results = engine.classify("spam", texts)
    assert len(results) == 3
    for result in results:
        assert set(result.probabilities) == set(labels)
        assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert result.label == max(result.probabilities, key=result.probabilities.get)
    assert results[2].tokens == 16  # truncated to max_length, not refused
    assert engine.classify("spam", []) == []
    concurrent = _concurrently([lambda t=t: engine.classify("spam", [t])[0] for t in texts])
    assert [r.label for r in concurrent] == [r.label for r in results]
    for alone, batched in zip(results, concurrent, strict=True):
        assert batched.probabilities == pytest.approx(alone.probabilities, abs=1e-5)


def test_unload_keeps_shared_base_and_frees_it_when_unused(engine, tiny_llama, tiny_llama_adapters):
    engine.load(ModelSpec("plain", "generation", tiny_llama))
    engine.load(ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[0]))
    engine.load(ModelSpec("b", "generation", tiny_llama, adapter_path=tiny_llama_adapters[1]))
    before = {name: _chat(engine, name, PROMPTS[3]) for name in ("plain", "b")}
    engine.unload("a")
    assert _chat(engine, "b", PROMPTS[3]) == before["b"]
    engine.unload("b")  # the last adapter: the plain base answers as it did before
    assert _chat(engine, "plain", PROMPTS[3]) == before["plain"]
    model = weakref.ref(engine._loaded["plain"].base.model)
    engine.unload("plain")
    engine.unload("plain")  # idempotent
    gc.collect()
    assert engine.bases() == {} and engine.loaded() == []
    assert model() is None
    with pytest.raises(UnknownModel):
        _chat(engine, "plain", "hi")


def test_loading_the_same_spec_again_is_a_no_op_and_a_new_spec_replaces(
    engine, tiny_llama, tiny_llama_adapters
):
    spec = ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[0])
    engine.load(spec)
    engine.load(spec)
    assert engine.base_loads == 1
    answer = _chat(engine, "a", PROMPTS[0])
    engine.load(ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[1]))
    assert _chat(engine, "a", PROMPTS[0]) != answer
    assert engine.loaded() == ["a"]


def test_errors_say_what_is_wrong(engine, tiny_llama, tiny_llama_adapters, tiny_bert_adapter):
    def load(**fields):
        values = {"name": "x", "task_type": "generation", "base_model": tiny_llama, **fields}
        engine.load(ModelSpec(**values))

    with pytest.raises(EngineError, match="base model folder .* does not exist"):
        load(base_model="/nowhere/model")
    with pytest.raises(EngineError, match="adapter folder .* does not exist"):
        load(adapter_path="/nowhere/adapter")
    with pytest.raises(EngineError, match="SEQ_CLS adapter; a generation model needs CAUSAL_LM"):
        load(adapter_path=tiny_bert_adapter)
    with pytest.raises(EngineError, match="Unknown task type"):
        load(task_type="translation")
    with pytest.raises(EngineError, match="needs its labels"):
        load(task_type="classification", adapter_path=tiny_bert_adapter)
    assert engine.bases() == {}  # nothing half-loaded stays behind
    with pytest.raises(UnknownModel, match="No model named 'nobody'"):
        _chat(engine, "nobody", "hi")
    with pytest.raises(UnknownModel):
        engine.classify("nobody", ["hi"])
    load(name="gen")
    with pytest.raises(EngineError, match="messages is empty"):
        engine.chat("gen", [], GREEDY)
    with pytest.raises(EngineError, match="is a generation model: call chat"):
        engine.classify("gen", ["hi"])
    with pytest.raises(EngineError, match="max_tokens"):
        _chat(engine, "gen", "hi", Decoding(max_tokens=0))
    with pytest.raises(EngineError, match="top_p"):
        _chat(engine, "gen", "hi", Decoding(temperature=1.0, top_p=0))


def test_an_adapter_trained_on_another_base_is_refused(
    engine, other_tiny_llama, tiny_llama_adapters
):
    spec = ModelSpec("x", "generation", other_tiny_llama, adapter_path=tiny_llama_adapters[0])
    with pytest.raises(EngineError, match="trained on another base model"):
        engine.load(spec)


def _foreign(adapter: str, folder) -> str:
    """A copy of ``adapter`` whose recorded base is nowhere on this machine."""
    import json
    import shutil

    shutil.copytree(adapter, folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "someone/elsewhere"
    (folder / "adapter_config.json").write_text(json.dumps(config))
    return str(folder)


def test_a_foreign_adapter_that_does_not_fit_is_an_engine_error(
    engine, other_tiny_llama, tiny_llama_adapters, tmp_path
):
    moved = _foreign(tiny_llama_adapters[0], tmp_path / "adapter")
    with pytest.raises(EngineError, match="does not fit the base model.*q_proj"):
        engine.load(ModelSpec("x", "generation", other_tiny_llama, adapter_path=moved))
    assert engine.bases() == {}


def test_an_adapter_that_does_not_fit_leaves_a_shared_base_untouched(
    engine, tiny_llama, other_tiny_llama, tiny_llama_adapters, tmp_path
):
    from tests.serving.conftest import random_lora_adapter

    misfit = random_lora_adapter(other_tiny_llama, tmp_path / "other", task="generation", seed=5)
    misfit = _foreign(misfit, tmp_path / "misfit")
    engine.load(ModelSpec("plain", "generation", tiny_llama))
    before = _chat(engine, "plain", PROMPTS[1])
    with pytest.raises(EngineError, match="does not fit"):
        engine.load(ModelSpec("x", "generation", tiny_llama, adapter_path=misfit))
    assert _chat(engine, "plain", PROMPTS[1]) == before
    engine.load(ModelSpec("a", "generation", tiny_llama, adapter_path=tiny_llama_adapters[0]))
    with pytest.raises(EngineError, match="does not fit"):
        engine.load(ModelSpec("y", "generation", tiny_llama, adapter_path=misfit))
    assert _chat(engine, "plain", PROMPTS[1]) == before
    assert engine.loaded() == ["a", "plain"]


def test_serving_threads_come_from_the_environment(monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("ASSAY_SERVING_THREADS", "1")
    try:
        BuiltinEngine()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    monkeypatch.setenv("ASSAY_SERVING_THREADS", "many")
    with pytest.raises(EngineError, match="ASSAY_SERVING_THREADS"):
        BuiltinEngine()


def test_without_a_chat_template_the_training_fallback_is_used():
    tokenizer = SimpleNamespace(chat_template=None)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert render_prompt(tokenizer, messages) == "User: hi\nAssistant: "
    parts = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text"}]}]
    assert render_prompt(tokenizer, parts) == "User: a\nAssistant: "


def test_a_row_is_cut_at_its_first_end_of_sequence_token():
    from serving.engines.forward import _chat_result

    tokenizer = SimpleNamespace(decode=lambda ids, skip_special_tokens: f" {ids} ")
    stopped = _chat_result(tokenizer, [5, 6, 2, 2, 2], prompt_tokens=4, eos_ids=[2, 9])
    assert stopped.text == "[5, 6]"
    assert (stopped.completion_tokens, stopped.finish_reason) == (3, "stop")
    running = _chat_result(tokenizer, [5, 6, 7], prompt_tokens=4, eos_ids=[2, 9])
    assert (running.completion_tokens, running.finish_reason) == (3, "length")


def test_a_beam_deployment_answers_what_the_runs_beam_evaluation_generated(engine, tiny_llama):
    from transformers import AutoModelForCausalLM

    from tests.training.test_runner import generation_config
    from training.core import evaluation
    from training.core.models import load_tokenizer

    config = generation_config(tiny_llama, max_new_tokens=10, num_beams=3, length_penalty=0.5)
    records = [{"prompt": prompt, "response": ""} for prompt in PROMPTS[:3]]
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    evaluated = evaluation.generate(model, load_tokenizer(tiny_llama), records, config=config)

    engine.load(ModelSpec("beam", "generation", tiny_llama))
    served = [_chat(engine, "beam", r["prompt"], config.decoding).text for r in records]
    greedy = [_chat(engine, "beam", r["prompt"], GREEDY).text for r in records]
    assert served == evaluated
    assert served != greedy
