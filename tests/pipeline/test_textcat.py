import numpy
import pytest
import spacy
from spacy.training import Example

from spacy_wv.errors import UserError


def _textcat(label_smoothing):
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("wv_textcat", config={"label_smoothing": label_smoothing})
    for label in ("neg", "neu", "pos"):
        textcat.add_label(label)
    return nlp, textcat


def test_label_smoothing_moves_targets_towards_uniform():
    examples = []
    nlp, plain = _textcat(0.0)
    for text, label in (("good", "pos"), ("bad", "neg")):
        doc = nlp.make_doc(text)
        examples.append(Example.from_dict(doc, {"cats": {"neg": float(label == "neg"), "neu": 0.0,
                                                          "pos": float(label == "pos")}}))
    scores = numpy.full((2, 3), 1 / 3, dtype="f")
    _, d_plain = plain.get_loss(examples, scores)
    _, smoothed = _textcat(0.3)
    _, d_smooth = smoothed.get_loss(examples, scores)
    # Targets: 1 -> 0.7 + 0.1 = 0.8, 0 -> 0.1.
    numpy.testing.assert_allclose(scores - d_smooth, [[0.1, 0.1, 0.8], [0.8, 0.1, 0.1]], atol=1e-6)
    numpy.testing.assert_allclose(scores - d_plain, [[0, 0, 1], [1, 0, 0]], atol=1e-6)


def test_label_smoothing_out_of_range_is_a_user_error():
    with pytest.raises(UserError, match="label_smoothing"):
        _textcat(1.0)


TEXTCAT_CONFIGS = ["textcat.cfg", "textcat_stacked.cfg", "textcat_baseline.cfg", "textcat_bow.cfg",
                   "textcat_ensemble.cfg", "zh_textcat.cfg", "zh_textcat_stacked.cfg", "zh_textcat_baseline.cfg",
                   "zh_textcat_bow.cfg", "zh_textcat_ensemble.cfg"]


@pytest.mark.parametrize("name", TEXTCAT_CONFIGS)
def test_every_textcat_config_scores_empty_texts_in_a_batch(name, tiny_encoder_dir):
    """Issue 22: spaCy's reduce_max refused an empty doc among others (and spaCy's
    bag-of-words and ensemble classifiers score one by their biases)."""
    import torch
    from spacy.util import load_config, load_model_from_config

    from tests.project.tiny_pipelines import REPO

    torch.set_num_threads(1)
    config = load_config(REPO / "configs" / name, overrides={"paths.train": "x", "paths.dev": "y",
                                                              "paths.encoder": str(tiny_encoder_dir)})
    if "wv_vectors" in config["components"]:
        config["components"]["wv_vectors"]["anisotropy"] = "none"  # two examples are too few for its statistics
    nlp = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    examples = [Example.from_dict(nlp.make_doc(text), {"cats": {"pos": float(pos), "neg": float(not pos)}})
                for text, pos in (("a great movie", True), ("a dull movie", False))]
    nlp.initialize(lambda: examples)
    empty = Example.from_dict(nlp.make_doc(""), {"cats": {"pos": 1.0, "neg": 0.0}})
    nlp.update(examples + [empty])  # training takes an empty text too
    texts = ["", "great movie", "   "]
    docs = list(nlp.pipe(texts, batch_size=len(texts)))
    assert docs[0].cats == nlp("").cats == {"pos": 0.0, "neg": 0.0}
    for doc, text in zip(docs[1:], texts[1:]):
        alone = nlp(text).cats
        assert set(doc.cats) == {"pos", "neg"} and all(doc.cats[label] == pytest.approx(alone[label], abs=1e-5) for label in alone)
