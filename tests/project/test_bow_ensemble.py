"""`spacy train` with configs/textcat_bow.cfg (spaCy's bag-of-words textcat) and
textcat_ensemble.cfg (spaCy's ensemble of it with the stacked tok2vec, here with fastText
static vectors: the `ensemble+ft` system) on the real SST-2 slice: each learns its training
slice, keeps the rest of its pipeline (wv_vectors), and a saved pipeline loads with
spacy.load in a fresh process that never imports spacy_wv (the entry points)."""
import json
import os
import subprocess
import sys

import pytest
import spacy

from .tiny_pipelines import (sst2_slice_accuracy, tiny_bow_textcat_pipeline, tiny_ensemble_textcat_pipeline,
                             tiny_fasttext_vectors)

TEXTS = ["a gripping , beautifully acted film", "", "dull and far too long"]


@pytest.fixture(scope="module")
def bow_dir(tmp_path_factory, data_dir):
    return tiny_bow_textcat_pipeline(tmp_path_factory, data_dir)


@pytest.fixture(scope="module")
def ensemble_dir(tmp_path_factory, data_dir, tiny_modernbert_dir, text_slice):
    vectors = tiny_fasttext_vectors(tmp_path_factory, text_slice)
    return tiny_ensemble_textcat_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir, vectors)


def _architectures(nlp):
    model = nlp.config["components"]["textcat"]["model"]
    return model["@architectures"], model["classifier"]["@architectures"]


def test_bow_textcat_learns_its_training_slice(bow_dir, data_dir, tmp_path_factory):
    """Twelve steps of spaCy's bag-of-words classifier put the 64 training sentences well
    above the majority class's share."""
    nlp = spacy.load(bow_dir)
    assert nlp.pipe_names == ["textcat"]
    assert _architectures(nlp) == ("spacy_wv.TextCatEmptyDocs.v1", "spacy.TextCatBOW.v3")
    accuracy, majority = sst2_slice_accuracy(nlp, tmp_path_factory, data_dir)
    assert accuracy >= majority + 0.25, f"training-slice accuracy {accuracy:.3f}, majority class {majority:.3f}"


def test_ensemble_textcat_learns_its_training_slice_beside_wv_vectors(ensemble_dir, data_dir, tmp_path_factory):
    nlp = spacy.load(ensemble_dir)  # the encoder copy it was trained from is gone
    assert nlp.pipe_names == ["tok2vec", "textcat", "wv_vectors"]
    assert _architectures(nlp) == ("spacy_wv.TextCatEmptyDocs.v1", "spacy.TextCatEnsemble.v2")
    assert nlp.get_pipe("tok2vec").listening_components == ["textcat"]
    accuracy, majority = sst2_slice_accuracy(nlp, tmp_path_factory, data_dir)
    assert accuracy >= majority + 0.25, f"training-slice accuracy {accuracy:.3f}, majority class {majority:.3f}"
    # The CNN half reads the fastText vectors; wv_vectors the frozen encoder's features.
    assert nlp.vocab.vectors.shape[1] == 16 and nlp.vocab["film"].has_vector
    doc = nlp(TEXTS[0])
    assert [y.shape for y in nlp.get_pipe("tok2vec").predict([doc])] == [(len(doc), 96 + 96)]
    assert doc.tensor.shape == (len(doc), 64)
    assert doc.cats.keys() == {"negative", "positive"} and sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-4)


# No `import spacy_wv`: spaCy finds our architectures and factories through the entry points.
SCRIPT = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
print(json.dumps([doc.cats for doc in nlp.pipe(json.loads(sys.argv[2]), batch_size=8)]))
"""


@pytest.mark.parametrize("which", ["bow", "ensemble"])
def test_saved_pipeline_loads_by_entry_points_and_scores_as_in_training(which, request, tmp_path):
    pipeline = request.getfixturevalue(f"{which}_dir")
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(pipeline), json.dumps(TEXTS)], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    cats = json.loads(result.stdout.strip().splitlines()[-1])
    nlp = spacy.load(pipeline)
    expected = [doc.cats for doc in nlp.pipe(TEXTS, batch_size=8)]
    assert cats[1] == expected[1] == {"negative": 0.0, "positive": 0.0}  # the empty text, as nlp("") scores it
    for got, want in zip(cats, expected):
        assert got == pytest.approx(want, abs=1e-5)
    assert cats[0] != cats[2]  # it tells the two reviews apart
