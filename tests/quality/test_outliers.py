"""Length and content outliers."""

import random

from curation.quality.core.outliers import find_outliers, length_outliers


def test_empty_and_very_long_texts_are_length_outliers():
    rng = random.Random(0)
    texts = [" ".join(["word"] * rng.randint(8, 12)) for _ in range(50)]
    texts[3] = ""
    texts[9] = "word " * 2000
    found = {o.index: o for o in length_outliers(texts)}
    assert set(found) == {3, 9}
    assert found[3].reasons == ["empty text"]
    assert "very long" in found[9].reasons[0]


def test_an_off_topic_text_is_a_content_outlier():
    rng = random.Random(1)
    weather = "rain sun cloud wind storm cold warm forecast sky snow".split()
    texts = [" ".join(rng.choices(weather, k=10)) for _ in range(99)]
    texts.append("quantum chromodynamics lattice gauge gluon quark hadron meson baryon")
    found = find_outliers(texts, rate=0.01)
    assert found[0].index == 99
    assert "unusual content" in found[0].reasons


def test_few_rows_give_length_outliers_only():
    assert find_outliers(["a", "b", "c"]) == []
