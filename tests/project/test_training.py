"""`spacy train` end to end with the project's configs, the tiny encoder and our listener."""
import json

import pytest
import spacy

from ..checks import assert_loss_falls, cosine, spacy_train_losses
from .tiny_pipelines import STEPS, tiny_ner_pipeline, tiny_textcat_pipeline, train_log


@pytest.fixture(scope="module")
def ner_dir(tmp_path_factory, data_dir, tiny_encoder_dir):
    return tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir)


@pytest.fixture(scope="module")
def textcat_dir(tmp_path_factory, data_dir, tiny_encoder_dir):
    return tiny_textcat_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir)


def test_ner_pipeline_trains_and_learns_the_mix(ner_dir):
    nlp = spacy.load(ner_dir)
    assert nlp.pipe_names == ["transformer", "ner", "wv_vectors"]
    assert set(nlp.get_pipe("ner").labels) == {"LOC", "MISC", "ORG", "PER"}
    mix = next(node for node in nlp.get_pipe("ner").model.walk() if node.name == "scalar_mix")
    weights = mix.get_param("weights")
    assert weights.shape == (3,) and abs(weights).max() > 0  # moved from its all-zero start
    # It learned: the NER loss per update over steps 9-12 is below that of steps 1-4.
    windows = spacy_train_losses(train_log(ner_dir), "ner")
    assert [step for step, _ in windows] == [0, 4, 8, STEPS]
    assert_loss_falls([loss for _, loss in windows[1:]], margin=0.03)  # 716 -> 664 per update (seeded)
    stats = json.loads((ner_dir.parent / "training_stats.json").read_text())
    assert stats["steps"] == STEPS and stats["words"] > 0 and stats["seconds"] > 0
    doc = nlp("EU rejects German call to boycott British lamb.")
    assert doc._.trf_data.model_output["hidden_states"][0].shape[-1] == 64
    # wv_vectors: token vectors and similarity, centred with statistics from the training docs.
    vectors = nlp.get_pipe("wv_vectors")
    assert vectors.anisotropy == "center" and vectors.calibration["tokens"] > 100
    assert doc[2].vector.shape == (64,) and doc[2].has_vector
    assert doc[2].similarity(doc[6]) == pytest.approx(cosine(doc.tensor[2], doc.tensor[6]), abs=1e-5)
    assert doc[2].similarity(doc[6]) < 0.99


def test_textcat_pipeline_uses_label_smoothing_and_scores_every_label(textcat_dir):
    nlp = spacy.load(textcat_dir)
    textcat = nlp.get_pipe("textcat")
    assert type(textcat).__name__ == "SmoothedTextCategorizer" and textcat.cfg["label_smoothing"] == 0.1
    mix = next(node for node in textcat.model.walk() if node.name == "scalar_mix")
    assert abs(mix.get_param("weights")).max() > 0
    docs = list(nlp.pipe(["a stirring , funny and finally transporting re-imagining", "dull and lifeless ."]))
    for doc in docs:
        assert set(doc.cats) == {"negative", "positive"}
        assert all(0.0 < score < 1.0 for score in doc.cats.values())
    assert docs[0].cats["positive"] != docs[1].cats["positive"]  # the scores depend on the text
