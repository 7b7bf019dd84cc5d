"""wv_vectors with corpus statistics: centring and whitening, stored with the component."""
import numpy
import pytest
import spacy
from spacy.training import Example

from spacy_wv.errors import UserError
from tests.pipeline.test_vectors import transformer_config


def build(encoder_dir, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=transformer_config(encoder_dir))
    nlp.add_pipe("wv_vectors", config=config)
    return nlp


@pytest.fixture(scope="module")
def texts(data_dir):
    lines = (data_dir / "sst2" / "train.txt").read_text(encoding="utf8").splitlines()[:150]
    return [line.split(" ", 1)[1] for line in lines]


def mean_cosine(vectors):
    unit = vectors / numpy.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = unit @ unit.T
    return cosines[numpy.triu_indices(len(unit), 1)].mean()


def test_whitening_removes_the_common_direction_and_survives_a_round_trip(tiny_encoder_dir, texts, tmp_path):
    raw = build(tiny_encoder_dir, layers=[1, 2])
    raw.initialize()
    nlp = build(tiny_encoder_dir, layers=[1, 2], anisotropy="whiten")
    nlp.initialize()  # no examples: no statistics yet
    with pytest.raises(UserError, match="needs corpus statistics"):
        nlp("The bank raised rates.")
    summary = nlp.get_pipe("wv_vectors").calibrate(nlp, texts)
    assert summary["tokens"] > 1000 and 0 < summary["mean_share"] < 1
    held_out = " ".join(texts[-20:])
    before = numpy.array([t.vector for t in raw(held_out) if t.has_vector])
    after = numpy.array([t.vector for t in nlp(held_out) if t.has_vector])
    assert mean_cosine(before) > 0.2  # the anisotropy of contextual vectors (random tiny encoder: mild)
    assert abs(mean_cosine(after)) < 0.5 * mean_cosine(before)
    doc = nlp("The bank raised rates.")
    nlp.to_disk(tmp_path / "pipeline")
    reloaded = spacy.load(tmp_path / "pipeline")
    assert numpy.allclose(reloaded("The bank raised rates.")[1].vector, doc[1].vector, atol=1e-4)
    restored = build(tiny_encoder_dir, layers=[1, 2], anisotropy="whiten")
    restored.initialize()
    restored.get_pipe("wv_vectors").from_bytes(nlp.get_pipe("wv_vectors").to_bytes())
    assert numpy.allclose(restored("The bank raised rates.")[1].similarity(restored("The bank raised rates.")[3]), doc[1].similarity(doc[3]), atol=1e-4)


def test_initialize_gathers_statistics_from_the_training_docs(tiny_encoder_dir, texts):
    nlp = build(tiny_encoder_dir, layers=[1, 2], anisotropy="center")
    examples = [Example(nlp.make_doc(text), nlp.make_doc(text)) for text in texts[:40]]
    nlp.initialize(lambda: examples)
    component = nlp.get_pipe("wv_vectors")
    assert component.mean is not None and component.calibration["tokens"] > 100
    vectors = numpy.array([t.vector for text in texts[:40] for t in nlp(text) if t.has_vector])
    assert numpy.linalg.norm(vectors.mean(0)) < 0.05 * numpy.linalg.norm(component.mean)


def test_unknown_anisotropy_is_a_user_error(tiny_encoder_dir):
    with pytest.raises(UserError, match="unknown anisotropy"):
        build(tiny_encoder_dir, anisotropy="pca")


def test_initialize_counts_tokens_not_spaces_so_chinese_text_calibrates(tiny_encoder_dir, data_dir):
    """Chinese has no spaces: 20 lines of news are a few thousand character tokens."""
    lines = [line for line in (data_dir / "zh_text" / "xwlb_09.txt").read_text(encoding="utf8").splitlines() if line.strip()][:20]
    nlp = spacy.blank("zh")
    nlp.add_pipe("transformer", config=transformer_config(tiny_encoder_dir))
    nlp.add_pipe("wv_vectors", config={"layers": [1, 2], "anisotropy": "center"})
    examples = [Example(nlp.make_doc(line), nlp.make_doc(line)) for line in lines]
    assert sum(len(line.split()) for line in lines) < 100 < sum(len(eg.reference) for eg in examples)
    nlp.initialize(lambda: examples)
    assert nlp.get_pipe("wv_vectors").calibration["tokens"] > 100
