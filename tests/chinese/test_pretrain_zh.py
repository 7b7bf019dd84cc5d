"""configs/pretrain_mlm_zh.cfg run as shipped (tiny sizes): ModernBERT with jieba
whole-word masking and the character warm start, on real Chinese text."""
from spacy_wv.pretraining.config import load_pretrain_config, resolve_settings
from spacy_wv.pretraining.loop import CONFIG_FILE

from ..checks import assert_loss_falls
from ..pretraining.conftest import read_metrics
from .conftest import PRETRAIN_STEPS


def test_chinese_pretraining_with_whole_word_masking_learns(zh_modernbert_dir):
    settings = resolve_settings(load_pretrain_config(zh_modernbert_dir / CONFIG_FILE, {}))
    # The run's own config: whole-word masking over jieba words, the warm start on.
    assert settings.objective.whole_word and settings.objective.segmenter == "jieba"
    assert settings.encoder.family == "modernbert" and settings.warm_start.method == "pieces"
    output = (zh_modernbert_dir.parent / "pretrain_output.txt").read_text(encoding="utf8")
    assert "Warm start (pieces): static vectors for" in output
    rows = read_metrics(zh_modernbert_dir)
    losses = [r["loss"] for r in rows if "loss" in r]
    assert [r["step"] for r in rows if "loss" in r] == list(range(4, PRETRAIN_STEPS + 1, 4))
    # The masked-character loss at the last logged step is well below the first (7.92 ->
    # 7.30; uniform guessing over the 3000 pieces is 8.0).
    assert_loss_falls(losses, margin=0.05)
    evals = [r for r in rows if "eval_loss" in r]
    assert [r["step"] for r in evals] == [8, 16, 24] and evals[-1]["eval_loss"] < evals[0]["eval_loss"]
