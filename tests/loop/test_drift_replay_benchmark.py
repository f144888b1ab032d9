"""The drift replay benchmark's slices of SMS spam (benchmarks/drift_replay.py): the held-out
spam family is absent from training and present in the shifted stream, and no message is
both trained on and streamed. The full run is the benchmark itself (minutes)."""

from benchmarks.drift_replay import FAMILY, load_slices


def test_the_prize_family_is_held_out_of_training_and_arrives_with_the_shift(shared_data):
    slices = load_slices(shared_data, seed=0)

    def prize(rows):
        return sum(label == "spam" and bool(FAMILY.search(text)) for text, label in rows)

    assert prize(slices["train"]) == 0 and prize(slices["calm"]) == 0
    assert prize(slices["shifted"]) == 120 and len(slices["shifted"]) == 300
    assert prize(slices["after"]) == 60
    streamed = {text for name in ("calm", "shifted", "after") for text, _ in slices[name]}
    assert not streamed & {text for text, _ in slices["train"]}
    assert load_slices(shared_data, seed=0)["shifted"] == slices["shifted"]  # seeded


def test_the_youtube_shift_streams_comment_spam_never_trained_on(shared_data):
    slices = load_slices(shared_data, seed=0, shift="youtube")
    train = {text for text, _ in slices["train"]}
    shifted_spam = [text for text, label in slices["shifted"] if label == "spam"]

    assert len(shifted_spam) == 120 and not train & set(shifted_spam)
    assert sum(label == "spam" for _, label in slices["train"]) == 400
