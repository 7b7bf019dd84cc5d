"""The Chinese stacked pipeline that zh-demo trains and packages (configs/zh_ner_stacked.cfg
with a pretrain_mlm_zh.cfg encoder) as a wheel: installed offline in the session's fresh
virtualenv and loaded by name there (spaCy's zh tokenizer, our architectures through
entry points, the encoder inside the package)."""
import json

import numpy
import spacy

from ..checks import assert_loss_falls, spacy_train_losses
from ..packaging import package

PACKAGE = "wv_weibo_stacked_tiny"
LABELS = {"PER", "ORG", "LOC", "GPE"}


def test_chinese_stacked_pipeline_trains(weibo_stacked_pipeline):
    nlp = spacy.load(weibo_stacked_pipeline)
    assert nlp.lang == "zh" and nlp.pipe_names == ["tok2vec", "ner", "wv_vectors"]
    assert set(nlp.get_pipe("ner").labels) == LABELS  # all four occur in the 24 training messages
    windows = spacy_train_losses(weibo_stacked_pipeline.parent / "train_log.jsonl", "ner")
    assert_loss_falls([loss for _, loss in windows[1:]], margin=0.3)
    assert nlp.get_pipe("wv_vectors").calibration["tokens"] > 500  # characters of the training messages


def test_chinese_stacked_wheel_loads_by_name_in_a_fresh_venv(weibo_stacked_pipeline, fresh_venv, tmp_path):
    fresh_venv.install(package(weibo_stacked_pipeline, tmp_path / "packages", PACKAGE, "zh"))
    text = "国家主席习近平在北京会见法国总统。"
    script = (f"import sys, json, spacy; nlp = spacy.load('zh_{PACKAGE}'); doc = nlp({text!r}); "
              "print(sys.modules['spacy_wv'].__file__); "
              "print(json.dumps([nlp.lang, nlp.pipe_names, len(doc), list(doc.tensor.shape), sorted(nlp.get_pipe('ner').labels), "
              "[e.label_ for e in doc.ents], doc[0].similarity(doc[6]), doc.tensor.tolist()]))")
    spacy_wv_file, summary = fresh_venv.run_script(script, tmp_path / "elsewhere")[-2:]
    assert spacy_wv_file.startswith(str(fresh_venv.root))
    lang, pipe_names, n_tokens, shape, labels, ents, similarity, tensor = json.loads(summary)
    assert (lang, pipe_names, n_tokens, shape) == ("zh", ["tok2vec", "ner", "wv_vectors"], len(text), [len(text), 64])
    assert set(labels) == LABELS
    # The installed pipeline gives the entities and vectors that the trained one gives here.
    here = spacy.load(weibo_stacked_pipeline)(text)
    assert ents == [e.label_ for e in here.ents]
    numpy.testing.assert_allclose(tensor, here.tensor, atol=1e-4)
    assert abs(similarity - here[0].similarity(here[6])) < 1e-4
