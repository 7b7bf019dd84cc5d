import json

import numpy
import pytest
import spacy

from spacy_wv.errors import UserError
from spacy_wv.vectors.in_context import evaluate_in_context, fit_threshold, read_context_pairs
from spacy_wv.vectors.sources import ContextualSource, StaticSource
from spacy_wv.vectors.tables import StaticVectors

PAIR = {"word1": "bank", "context1": "We sat on the river bank .", "start1": 20, "end1": 24,
        "context2": "The bank raised rates .", "start2": 4, "end2": 8, "target1": "bank", "target2": "bank", "label": 0}


def write_jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf8")
    return path


def test_reads_the_real_wic_files(data_dir):
    pairs = read_context_pairs(data_dir / "wic" / "dev.jsonl")
    assert pairs.name == "wic_dev" and pairs.kind == "label" and len(pairs.contexts) == 638
    assert pairs.gold.sum() == 319
    (s1, e1), _ = pairs.spans[0]
    assert pairs.contexts[0][0][s1:e1] == pairs.targets[0][0] == "board"


@pytest.mark.parametrize("change, message", [
    ({"start1": None}, "missing start1"),
    ({"end2": 99}, "do not lie inside context2"),
    ({"start1": 19, "end1": 23}, "is ' ban', not the target 'bank'"),
    ({"target1": None, "start1": 19, "end1": 24}, "offsets must point at a word"),
    ({"label": 2}, "label must be 0 or 1"),
    ({"label": None}, "neither a label"),
])
def test_bad_pairs_are_user_errors_naming_the_line(tmp_path, change, message):
    record = {**PAIR, **change}
    record = {key: value for key, value in record.items() if value is not None}
    path = write_jsonl(tmp_path / "pairs.jsonl", [PAIR, record])
    with pytest.raises(UserError, match="pairs.jsonl:2: ") as error:
        read_context_pairs(path)
    assert message in str(error.value)


def test_empty_file_invalid_json_and_mixed_kinds(tmp_path):
    with pytest.raises(UserError, match="no pairs"):
        read_context_pairs(write_jsonl(tmp_path / "empty.jsonl", []))
    with pytest.raises(UserError, match="bad.jsonl:1: not valid JSON"):
        read_context_pairs(write_jsonl(tmp_path / "bad.jsonl", ["{not json"]))
    scored = {key: value for key, value in PAIR.items() if key != "label"} | {"score": 3.5}
    with pytest.raises(UserError, match="mixes labels and scores"):
        read_context_pairs(write_jsonl(tmp_path / "mixed.jsonl", [PAIR, scored]))
    assert read_context_pairs(write_jsonl(tmp_path / "scored.jsonl", [scored, scored])).kind == "score"


def test_threshold_is_the_most_accurate_cut():
    cosines = numpy.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.4])
    labels = numpy.array([0, 0, 0, 1, 1, 1])
    threshold = fit_threshold(cosines, labels)
    assert 0.3 < threshold <= 0.4
    assert ((cosines >= threshold) == labels).all()


def test_static_vectors_cannot_tell_senses_apart(tmp_path):
    table = StaticVectors(["bank", "rates"], numpy.array([[1.0, 0.0], [0.0, 1.0]], dtype="float32"))
    pairs = read_context_pairs(write_jsonl(tmp_path / "p.jsonl", [PAIR, {**PAIR, "label": 1}]))
    result = evaluate_in_context(StaticSource("static", table), pairs, pairs)
    assert result["accuracy"] == 0.5 and result["coverage"] == 1.0


def test_wic_through_a_pipeline_with_wv_vectors(data_dir, tiny_encoder_dir, tmp_path):
    lines = (data_dir / "wic" / "dev.jsonl").read_text(encoding="utf8").splitlines()
    train_lines = (data_dir / "wic" / "train.jsonl").read_text(encoding="utf8").splitlines()
    (tmp_path / "wic").mkdir()
    dev = read_context_pairs(write_jsonl(tmp_path / "wic" / "dev.jsonl", lines[:30]))
    train = read_context_pairs(write_jsonl(tmp_path / "wic" / "train.jsonl", train_lines[:60]))
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_encoder_dir),
                                                  "tokenizer_config": {"use_fast": True}, "transformer_config": {"output_hidden_states": True}}})
    nlp.add_pipe("wv_vectors", config={"layers": [0, 1, 2]})
    nlp.initialize()
    source = ContextualSource("wv", nlp)
    first, second = source.in_context_vectors(dev)
    assert first.shape == (30, 64) and (numpy.linalg.norm(first, axis=1) > 0).all()
    # The vector is the span's, as a user of `span.vector` gets it.
    doc = nlp(dev.contexts[0][0])
    assert numpy.allclose(first[0], doc.char_span(*dev.spans[0][0], alignment_mode="expand").vector, atol=1e-5)
    result = evaluate_in_context(source, dev, train)
    assert result["coverage"] == 1.0 and result["threshold_fitted_on"] == "wic_train"
    cosines = (first * second).sum(1) / numpy.linalg.norm(first, axis=1) / numpy.linalg.norm(second, axis=1)
    assert result["accuracy"] == pytest.approx(((cosines >= result["threshold"]) == (dev.gold == 1)).mean())


def test_graded_scores_give_spearman(tmp_path):
    base = {key: value for key, value in PAIR.items() if key != "label"}
    records = [{**base, "context2": text, "start2": 0, "end2": len(word), "target2": word, "score": score}
               for text, word, score in (("bank .", "bank", 9.0), ("rates .", "rates", 1.0), ("shore .", "shore", 5.0))]
    pairs = read_context_pairs(write_jsonl(tmp_path / "graded.jsonl", records))
    table = StaticVectors(["bank", "rates", "shore"], numpy.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype="float32"))
    result = evaluate_in_context(StaticSource("static", table), pairs)
    assert pairs.kind == "score" and result["spearman"] == pytest.approx(1.0) and "accuracy" not in result
