"""The CPU path end to end: `spacy train` with configs/ner_stacked.cfg (CNN + fastText
vectors + frozen encoder features) and textcat_stacked.cfg on real CoNLL and SST-2
slices, with the default encoder family (a ModernBERT pretrained by `spacy_wv pretrain`),
the trained pipelines loaded without the encoder directory, and one stacked tok2vec
shared by ner and textcat."""
import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

from ..checks import assert_loss_falls, cosine, spacy_train_losses
from .tiny_pipelines import (REPO, sst2_slice_accuracy, tiny_fasttext_vectors, tiny_stacked_ner_pipeline,
                             tiny_stacked_textcat_pipeline, train_log)


@pytest.fixture(scope="module")
def vectors_dir(tmp_path_factory, text_slice):
    return tiny_fasttext_vectors(tmp_path_factory, text_slice)


@pytest.fixture(scope="module")
def stacked_dir(tmp_path_factory, data_dir, tiny_modernbert_dir, vectors_dir):
    return tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir, vectors_dir)


@pytest.fixture(scope="module")
def stacked_textcat_dir(tmp_path_factory, data_dir, tiny_modernbert_dir):
    return tiny_stacked_textcat_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir)


def test_fasttext_vectors_are_keyed_by_spacy_tokens(vectors_dir):
    nlp = spacy.load(vectors_dir)
    assert nlp.vocab.vectors.shape[1] == 16 and nlp.vocab.vectors.shape[0] > 1000
    for word in ("the", "The", ",", "said"):  # cased, punctuation split off as spaCy does
        assert nlp.vocab[word].has_vector, word


def test_stacked_pipeline_trains_and_runs_without_the_encoder_dir(stacked_dir):
    nlp = spacy.load(stacked_dir)  # the encoder copy it was trained from is gone
    assert nlp.pipe_names == ["tok2vec", "ner", "wv_vectors"]
    assert set(nlp.get_pipe("ner").labels) == {"LOC", "MISC", "ORG", "PER"}
    tok2vec = nlp.get_pipe("tok2vec").model
    features = tok2vec.get_ref("features")
    assert not features.shims[0].caching  # a loaded pipeline runs the encoder every call
    mix = features.layers[0]
    assert abs(mix.get_param("weights")).max() > 0  # the layer mix moved
    # and the NER learned: its loss per update over steps 9-12 is below that of steps 1-4.
    assert_loss_falls([loss for _, loss in spacy_train_losses(train_log(stacked_dir), "ner")[1:]], margin=0.3)
    doc = nlp("EU rejects German call to boycott British lamb .")
    assert [y.shape for y in tok2vec.predict([doc])] == [(len(doc), 96 + 96)]
    # The static vectors are in the pipeline too, and feed the CNN half.
    assert nlp.vocab.vectors.shape[1] == 16 and nlp.vocab["German"].has_vector
    # wv_vectors reads the frozen encoder's features the tok2vec left: contextual, so the
    # same word in two sentences gets two vectors.
    assert doc.tensor.shape == (len(doc), 64)
    first, second = nlp("The bank raised rates ."), nlp("We sat on the river bank .")
    # (Barely apart: the tiny ModernBERT's four pretraining steps leave its layers close
    # to its embeddings; the hand-built BERT's post-norm layers mix more.)
    assert not numpy.allclose(first.tensor[1], second.tensor[5])
    assert first[1].similarity(second[5]) == pytest.approx(cosine(first.tensor[1], second.tensor[5]), abs=1e-5)
    assert doc[2].similarity(doc[6]) == pytest.approx(cosine(doc.tensor[2], doc.tensor[6]), abs=1e-5)


def test_stacked_textcat_learns_its_training_slice(stacked_textcat_dir, data_dir, tmp_path_factory):
    """More than one lucky step: after the 12 steps the 64 training sentences are
    classified well above the majority class's share (one Adam step stays near it)."""
    nlp = spacy.load(stacked_textcat_dir)
    assert nlp.pipe_names == ["tok2vec", "textcat", "wv_vectors"]
    accuracy, majority = sst2_slice_accuracy(nlp, tmp_path_factory, data_dir)
    assert accuracy >= majority + 0.25, f"training-slice accuracy {accuracy:.3f}, majority class {majority:.3f}"


def test_ner_and_textcat_listen_to_one_stacked_tok2vec(tiny_encoder_dir, data_dir):
    ner = load_config(REPO / "configs" / "ner_stacked.cfg")
    textcat = load_config(REPO / "configs" / "textcat_stacked.cfg")
    ner["nlp"]["pipeline"] = ["tok2vec", "ner", "textcat", "wv_vectors"]
    ner["components"]["textcat"] = textcat["components"]["textcat"]
    ner["paths"]["encoder"] = str(tiny_encoder_dir)
    ner["components"]["wv_vectors"]["anisotropy"] = "none"  # one example is too few to gather its statistics
    nlp = load_model_from_config(ner.interpolate(), auto_fill=True, validate=True)
    text = "Peter Blackburn visited Brussels ."
    example = Example.from_dict(nlp.make_doc(text), {
        "entities": [(0, 15, "PER"), (24, 32, "LOC")], "cats": {"positive": 1.0, "negative": 0.0}})
    nlp.initialize(lambda: [example])
    assert nlp.get_pipe("tok2vec").listening_components == ["ner", "textcat"]
    assert nlp.pipe_names == ["tok2vec", "ner", "textcat", "wv_vectors"]
    losses = nlp.update([example])
    assert losses["ner"] > 0 and losses["textcat"] > 0
    docs = list(nlp.pipe(["Peter Blackburn visited Brussels .", "Rain .", ""]))
    assert [y.shape for y in nlp.get_pipe("tok2vec").predict(docs)] == [(5, 192), (2, 192), (0, 192)]
    assert [d.tensor.shape for d in docs] == [(5, 64), (2, 64), (0, 64)]  # wv_vectors' rows
    assert numpy.isclose(sum(docs[0].cats.values()), 1.0, atol=1e-4)
