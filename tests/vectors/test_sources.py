import numpy
import pytest
import spacy

from spacy_wv.errors import UserError
from spacy_wv.vectors.analogy import read_analogies
from spacy_wv.vectors.evaluate import evaluate_sources
from spacy_wv.vectors.sources import ContextualSource, StaticSource, load_source
from spacy_wv.vectors.tables import write_spacy_vectors


@pytest.fixture(scope="module")
def transformer_pipeline(tiny_encoder_dir, tmp_path_factory):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_encoder_dir), "tokenizer_config": {"use_fast": True}}})
    nlp.initialize()
    path = tmp_path_factory.mktemp("pipeline") / "trf"
    nlp.to_disk(path)
    return path


def test_a_transformer_pipeline_gives_contextual_vectors_of_words_in_isolation(transformer_pipeline, tmp_path):
    source = load_source(transformer_pipeline, "ctx")
    assert isinstance(source, ContextualSource) and source.nlp.pipe_names == ["transformer", "wv_vectors"]
    vectors, found = source.lookup(["bank", "Anarchism", " "])
    assert found.tolist() == [True, True, False]
    assert numpy.allclose(vectors[0], source.nlp("bank")[0].vector)
    assert numpy.allclose(vectors[1], source.nlp("Anarchism").vector)
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nboy girl brother sister\n", encoding="utf8")
    candidates = source.analogy_candidates(30_000, (w for q in read_analogies(questions) for w in q.words))
    assert candidates.words == ["boy", "girl", "brother", "sister"]
    result = evaluate_sources([source], analogy_file=questions)["vectors"]["ctx"]["analogy"]
    assert result["covered"] == 1 and "words of the question file" in result["candidates_policy"]


def test_a_vectors_dir_is_a_static_source_and_an_empty_pipeline_is_an_error(tmp_path):
    write_spacy_vectors(tmp_path / "vectors", ["a", "b"], numpy.eye(2, dtype="float32"))
    source = load_source(tmp_path / "vectors", "static")
    assert isinstance(source, StaticSource) and source.table.words == ["a", "b"]
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(UserError, match="neither a vectors table nor a transformer"):
        load_source(tmp_path / "blank", "blank")
    with pytest.raises(UserError, match="no config.cfg"):
        load_source(tmp_path, "nothing")
