"""The default pretraining config's encoder family (ModernBERT, not the hand-built BERT
of the plumbing tests) through what users run after `pretrain`: `spacy train` with the
project's NER config, `wv_vectors`, and `vectors export`."""
import json

import numpy
import pytest
import spacy

from spacy_wv.cli import app

from ..checks import cosine
from .tiny_pipelines import tiny_ner_pipeline


@pytest.fixture(scope="module")
def modernbert_ner(tmp_path_factory, data_dir, tiny_modernbert_dir):
    return tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir, name="ner_modernbert")


def test_spacy_train_on_the_default_family(modernbert_ner, tiny_modernbert_dir, data_dir):
    nlp = spacy.load(modernbert_ner)
    assert nlp.pipe_names == ["transformer", "ner", "wv_vectors"]
    hf_config = nlp.get_pipe("transformer").model.layers[0].shims[0]._hfmodel.transformer.config
    assert hf_config.model_type == "modernbert" and hf_config.hidden_size == 64
    assert set(nlp.get_pipe("ner").labels) == {"LOC", "MISC", "ORG", "PER"}
    blocks = (data_dir / "conll2003" / "eng.testa").read_text(encoding="utf8").split("\n\n")[1:41]
    sentences = [" ".join(line.split()[0] for line in block.splitlines()) for block in blocks]
    docs = list(nlp.pipe(sentences))
    assert all(doc.has_annotation("ENT_IOB") for doc in docs)
    labels = [e.label_ for doc in docs for e in doc.ents]
    assert labels, "the trained NER finds no entity in 40 dev sentences"
    assert set(labels) <= {"LOC", "MISC", "ORG", "PER"}


def test_wv_vectors_on_the_default_family(modernbert_ner):
    nlp = spacy.load(modernbert_ner)
    nlp.replace_pipe("wv_vectors", "wv_vectors", config={"layers": [-1]})  # the configs' one is centred on training docs
    doc = nlp("The bank raised rates. We sat on the river bank.")
    assert doc.tensor.shape == (len(doc), 64) and numpy.isfinite(doc.tensor).all()
    bank1, bank2 = doc[1], doc[10]
    assert bank1.text == bank2.text == "bank"
    assert not numpy.allclose(bank1.vector, bank2.vector)  # contextual: the same word differs by context
    assert bank1.similarity(bank2) == pytest.approx(cosine(doc.tensor[1], doc.tensor[10]), abs=1e-5)
    assert nlp("").vector.shape == (64,)


def test_vectors_export_from_the_default_family(tiny_modernbert_dir, text_slice, tmp_path):
    from typer.testing import CliRunner

    corpus = tmp_path / "small.txt"
    corpus.write_text(text_slice.read_text(encoding="utf8")[:20_000], encoding="utf8")
    out = tmp_path / "vectors"
    result = CliRunner().invoke(app, ["vectors", "export", str(tiny_modernbert_dir), str(out), str(corpus),
                                      "--n-words", "200", "--contexts", "2"])
    assert result.exit_code == 0, result.output
    vectors = spacy.load(out).vocab.vectors
    # Every requested word gets a vector (pooled or composed; issue 10 and issue 12, item 5).
    assert vectors.shape[0] == 200 and vectors.shape[1] == 64 and numpy.isfinite(vectors.data).all()
    assert json.loads((out / "export.json").read_text(encoding="utf8"))["encoder"].endswith("encoder")
