"""The Chinese configs resolve: spaCy pipelines with the zh tokenizer, and the wwm pretraining config."""
from pathlib import Path

import pytest
import spacy
from spacy.util import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["zh_ner.cfg", "zh_textcat.cfg", "zh_ner_baseline.cfg", "zh_textcat_baseline.cfg"])
def test_zh_config_builds_a_chinese_pipeline(name):
    config = load_config(REPO / "configs" / name, overrides={"paths.train": "x", "paths.dev": "y"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.lang == "zh"
    assert [t.text for t in nlp.make_doc("新华社北京电")] == list("新华社北京电")
    assert nlp.pipe_names[0] == ("tok2vec" if "baseline" in name else "transformer")


def test_chinese_pretraining_config_uses_jieba_whole_word_masking():
    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings

    settings = resolve_settings(load_pretrain_config(REPO / "configs" / "pretrain_mlm_zh.cfg", {}))
    assert settings.objective.whole_word and settings.objective.segmenter == "jieba"
