"""`spacy package` -> wheel -> the session's fresh virtualenv, offline -> `spacy.load` by
package name, from another directory, with the encoder checkpoint the pipeline was
trained from gone: the fine-tuned NER (ner.cfg), and the stacked configs as the demo
ships them (ner_stacked.cfg with fastText, textcat_stacked.cfg) on the default encoder
family, a ModernBERT pretrained by `spacy_wv pretrain`."""
import json
from pathlib import Path

import pytest

from spacy_wv.quantized_pipeline import write_quantized_copy

from ..packaging import package
from .tiny_pipelines import tiny_fasttext_vectors, tiny_ner_pipeline, tiny_stacked_ner_pipeline, tiny_stacked_textcat_pipeline

PACKAGE = "wv_ner_tiny"
STACKED_PACKAGE = "wv_ner_stacked_tiny"
TEXTCAT_PACKAGE = "wv_textcat_stacked_tiny"

# The two NER packages run their encoder in int8, copied as the workflows' package steps
# copy them (`spacy_wv quantize`).
INT8_PACKAGES = (PACKAGE, STACKED_PACKAGE)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory, data_dir, tiny_encoder_dir, tiny_modernbert_dir, text_slice):
    """The fine-tuned (tiny BERT) and stacked (CNN + fastText + frozen ModernBERT) NER
    pipelines in int8, and the stacked textcat (ModernBERT) as trained."""
    vectors = tiny_fasttext_vectors(tmp_path_factory, text_slice)
    trained = {PACKAGE: tiny_ner_pipeline(tmp_path_factory, data_dir, tiny_encoder_dir),
               STACKED_PACKAGE: tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir, vectors),
               TEXTCAT_PACKAGE: tiny_stacked_textcat_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir)}
    copies = tmp_path_factory.mktemp("int8")
    return {name: write_quantized_copy(path, copies / name) if name in INT8_PACKAGES else path
            for name, path in trained.items()}


@pytest.fixture(scope="module")
def wheels(pipelines, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages")
    return [package(pipeline, out, name, "en") for name, pipeline in pipelines.items()]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_wheel_requires_spacy_wv(wheels, index):
    import zipfile

    with zipfile.ZipFile(wheels[index]) as whl:
        metadata = next(whl.read(n).decode() for n in whl.namelist() if n.endswith("METADATA"))
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any("spacy_wv" in line or "spacy-wv" in line for line in requirements)
    # The fine-tuned pipeline runs spacy-transformers; the stacked ones need only spacy_wv.
    assert any("spacy-transformers" in line for line in requirements) == (index == 0)


TEXT = "EU rejects German call to boycott British lamb."
# Empty, one word, longer than every window, only spaces; in batches of two.
TEXTS = ["", "EU", " ".join([TEXT] * 400), "   "]
# What the installed packages give, printed as JSON. No `import spacy_wv`: spaCy must find
# our architectures through the entry points.
SCRIPT = f"""
import json, sys, spacy
int8 = lambda torch_model: sum(type(m).__module__.endswith("quantized.dynamic.modules.linear") for m in torch_model.modules())
nlp, stacked, textcat = (spacy.load(f"en_{{name}}") for name in {[PACKAGE, STACKED_PACKAGE, TEXTCAT_PACKAGE]!r})
doc, sdoc, tdoc = nlp({TEXT!r}), stacked({TEXT!r}), textcat({TEXT!r})
print(sys.modules["spacy_wv"].__file__)
print(json.dumps({{
    "pipe_names": [p.pipe_names for p in (nlp, stacked, textcat)],
    "ents": [[(e.text, e.label_) for e in d.ents] for d in (doc, sdoc)],
    "tensors": [d.tensor.tolist() for d in (doc, sdoc, tdoc)],
    "similarity": [d[2].similarity(d[6]) for d in (doc, sdoc, tdoc)],
    "cats": tdoc.cats,
    "static_width": stacked.vocab.vectors.shape[1],
    "int8": [int8(nlp.get_pipe("transformer").model.transformer),
             int8(stacked.get_pipe("tok2vec").model.get_ref("features").shims[0]._model)],
    "lengths": [[len(d) for d in p.pipe({TEXTS!r}, batch_size=2)] for p in (nlp, stacked, textcat)],
}}))
"""


def test_installs_offline_and_loads_by_name_in_a_fresh_venv(wheels, pipelines, fresh_venv, tmp_path):
    import numpy
    import spacy

    fresh_venv.install(*wheels)
    spacy_wv_file, summary = fresh_venv.run_script(SCRIPT, tmp_path / "elsewhere")[-2:]
    assert spacy_wv_file.startswith(str(fresh_venv.root))
    got = json.loads(summary)
    assert got["pipe_names"] == [["transformer", "ner", "wv_vectors"], ["tok2vec", "ner", "wv_vectors"],
                                 ["tok2vec", "textcat", "wv_vectors"]]
    assert got["lengths"] == [[0, 1, 3600, 1]] * 3
    # The encoder and the fastText vectors travel inside the stacked package; its
    # wv_vectors reads the frozen encoder's features (64 wide) that the tok2vec left.
    assert got["static_width"] == 16 and [len(t[0]) for t in got["tensors"]] == [64, 64, 64]
    # Every Linear of both encoders runs in int8: the tiny BERT's 6 per layer and its
    # pooler, the tiny ModernBERT's 4 per layer (Wqkv, Wo, Wi, Wo).
    assert got["int8"] == [13, 8]
    here = {name: spacy.load(path) for name, path in pipelines.items()}
    # The installed packages are the pipelines trained here: the same entities, vectors,
    # similarities and scores.
    docs = [here[name](TEXT) for name in (PACKAGE, STACKED_PACKAGE, TEXTCAT_PACKAGE)]
    assert got["ents"] == [[[e.text, e.label_] for e in d.ents] for d in docs[:2]]
    for tensor, similarity, doc in zip(got["tensors"], got["similarity"], docs):
        numpy.testing.assert_allclose(tensor, doc.tensor, atol=1e-4)
        assert similarity == pytest.approx(doc[2].similarity(doc[6]), abs=1e-4)
    assert set(got["cats"]) == {"negative", "positive"}
    assert all(got["cats"][label] == pytest.approx(docs[2].cats[label], abs=1e-4) for label in docs[2].cats)
