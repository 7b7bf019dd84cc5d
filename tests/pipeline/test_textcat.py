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
