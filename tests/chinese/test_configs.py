"""The Chinese configs: derived from the English ones by configs/derive_zh.py (so they
cannot drift), they build Chinese pipelines, and the wwm pretraining config resolves."""
import importlib.util
from pathlib import Path

import pytest
import spacy
from spacy.util import load_config

REPO = Path(__file__).resolve().parents[2]


def _derive_zh():
    spec = importlib.util.spec_from_file_location("derive_zh", REPO / "configs" / "derive_zh.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PIPELINES = ["zh_ner.cfg", "zh_textcat.cfg", "zh_ner_baseline.cfg", "zh_textcat_baseline.cfg",
             "zh_ner_stacked.cfg", "zh_textcat_stacked.cfg", "zh_textcat_bow.cfg", "zh_textcat_ensemble.cfg"]


def test_regenerating_the_chinese_configs_gives_the_checked_in_files():
    derive_zh = _derive_zh()
    derived = derive_zh.derive_all()
    # Every Chinese config in configs/ is derived: none is a hand copy left to drift.
    assert sorted(derived) == sorted(p.name for p in (REPO / "configs").glob("*.cfg") if "zh" in p.stem)
    for name, text in derived.items():
        assert (REPO / "configs" / name).read_text(encoding="utf8") == text, \
            f"configs/{name} is not what configs/derive_zh.py writes: edit its English config, then run `python configs/derive_zh.py`"


def test_a_derived_config_follows_its_english_config(tmp_path):
    """Change an English config and the Chinese one changes with it; an override that no
    longer fits the English config stops the script."""
    derive_zh = _derive_zh()
    for path in (REPO / "configs").glob("*.cfg"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf8"), encoding="utf8")
    english = tmp_path / "ner.cfg"
    english.write_text(english.read_text(encoding="utf8").replace("hidden_width = 64", "hidden_width = 80"), encoding="utf8")
    text = derive_zh.derive("zh_ner.cfg", derive_zh.DERIVED["zh_ner.cfg"], tmp_path)
    assert "hidden_width = 80" in text and 'lang = "zh"' in text and "spacy.zh.ChineseTokenizer" in text
    english.write_text(english.read_text(encoding="utf8").replace('lang = "en"\n', ""), encoding="utf8")
    with pytest.raises(ValueError, match=r"\[nlp\] lang occurs 0 times"):
        derive_zh.derive("zh_ner.cfg", derive_zh.DERIVED["zh_ner.cfg"], tmp_path)


@pytest.mark.parametrize("name", PIPELINES)
def test_zh_config_builds_a_chinese_pipeline_with_its_english_components(name):
    config = load_config(REPO / "configs" / name, overrides={"paths.train": "x", "paths.dev": "y"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.lang == "zh"
    assert [t.text for t in nlp.make_doc("新华社北京电")] == list("新华社北京电")
    english = load_config(REPO / "configs" / name.removeprefix("zh_"))
    assert nlp.pipe_names == english["nlp"]["pipeline"]


@pytest.mark.parametrize("name", ["pretrain_mlm_zh.cfg", "tapt_mlm_zh.cfg"])
def test_chinese_pretraining_configs_use_jieba_whole_word_masking(name):
    from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings

    settings = resolve_settings(load_pretrain_config(REPO / "configs" / name, {"paths.train": "shards"}))
    assert settings.objective.whole_word and settings.objective.segmenter == "jieba"
    english = resolve_settings(load_pretrain_config(REPO / "configs" / name.replace("_zh", ""), {"paths.train": "shards"}))
    assert english.objective.segmenter is None
    if name.startswith("tapt"):  # continues the zh-all encoder, time-boxed like the English one
        assert settings.init_from == Path("training/zh/encoder") and english.init_from == Path("training/encoder")
        assert settings.training == english.training and settings.training.max_epochs and settings.training.max_minutes
