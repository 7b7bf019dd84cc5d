"""Chinese fixtures: a slice of the real Chinese text, a Chinese tokenizer, a tiny BERT, a tiny
ModernBERT pretrained with configs/pretrain_mlm_zh.cfg, and pipelines trained on Weibo NER."""
import shutil
from pathlib import Path

import pytest
import torch
from spacy.cli.train import train

from spacy_wv.corpus.weibo import convert_weibo

# Mixed script, traditional characters, full-width Latin/digits/punctuation/space, emoji.
AWKWARD = [
    "新华社北京电，iPhone12发布了！２０２６年😀",
    "繁體中文測試：臺灣與香港的報導。",
    "ＡＢＣ公司　股價上漲３％，CEO說：“很好”🎉🎉",
    "中文English混合mixed文本 123 四五六",
]


@pytest.fixture(scope="session")
def zh_slice(data_dir, tmp_path_factory) -> Path:
    """About 300k characters of the real Chinese news text (whole documents)."""
    text = (data_dir / "zh_text" / "xwlb_00.txt").read_text(encoding="utf8")[:300_000]
    out = tmp_path_factory.mktemp("zh_text") / "slice.txt"
    out.write_text(text.rsplit("\n\n", 1)[0] + "\n", encoding="utf8")
    return out


@pytest.fixture(scope="session")
def zh_tokenizer_dir(zh_slice, tmp_path_factory) -> Path:
    from spacy_wv.corpus.tokenizer_training import train_tokenizer

    out = tmp_path_factory.mktemp("zh_tokenizer") / "wordpiece"
    train_tokenizer([zh_slice], out, kind="wordpiece", vocab_size=3000, lowercase=False, cjk="chars")
    return out


@pytest.fixture(scope="session")
def zh_encoder_dir(zh_tokenizer_dir, tmp_path_factory) -> Path:
    """A 2-layer, 64-wide BERT (random weights) with the Chinese tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(zh_tokenizer_dir)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    out = tmp_path_factory.mktemp("zh_encoder")
    BertForMaskedLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def zh_lines(zh_slice):
    return [line for line in zh_slice.read_text(encoding="utf8").splitlines() if len(line) > 20][:200]


REPO = Path(__file__).resolve().parents[2]
STEPS = 6


def train_pipeline(out, config, train_path, dev_path, **overrides):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(REPO / "configs" / config, out, overrides={
            "paths.train": str(train_path), "paths.dev": str(dev_path), "paths.training_stats": str(out / "stats.json"),
            "training.max_steps": STEPS, "training.eval_frequency": STEPS, "training.optimizer.learn_rate.warmup_steps": 1,
            **overrides})
    finally:
        torch.set_num_threads(threads)
    return out / "model-last"


@pytest.fixture(scope="session")
def weibo_ner_pipeline(data_dir, zh_encoder_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("zh_ner")
    convert_weibo(data_dir / "weibo_ner" / "train.conll", base / "train.spacy", max_docs=24)
    convert_weibo(data_dir / "weibo_ner" / "dev.conll", base / "dev.spacy", max_docs=8)
    encoder = base / "encoder"
    shutil.copytree(zh_encoder_dir, encoder)
    model = train_pipeline(base / "out", "zh_ner.cfg", base / "train.spacy", base / "dev.spacy", **{"paths.encoder": str(encoder)})
    shutil.rmtree(encoder)  # the pipeline holds the encoder's weights and tokenizer itself
    return model


@pytest.fixture(scope="session")
def zh_shards(zh_tokenizer_dir, zh_slice, tmp_path_factory) -> Path:
    """The Chinese slice encoded by `spacy_wv encode` with the character tokenizer."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    out = tmp_path_factory.mktemp("zh_shards") / "shards"
    result = CliRunner().invoke(app, ["encode", str(zh_tokenizer_dir), str(out), str(zh_slice), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out


PRETRAIN_ZH = REPO / "configs" / "pretrain_mlm_zh.cfg"
PRETRAIN_STEPS = 24
# configs/pretrain_mlm_zh.cfg as shipped (ModernBERT, jieba whole-word masking, the warm
# start from character vectors, no dropout, its optimizer and schedule) at a tiny size.
ZH_TINY = {
    "encoder.width": 64, "encoder.depth": 2, "encoder.heads": 2, "encoder.ffn_size": 128, "encoder.max_length": 128,
    "training.seq_len": 64, "training.batch_tokens": 1024, "training.max_steps": PRETRAIN_STEPS, "training.max_minutes": None,
    "training.eval_every": 8, "training.eval_tokens": 4096, "training.checkpoint_every": PRETRAIN_STEPS, "training.log_every": 4,
    "schedule.warmup_steps": 4, "warm_start.workers": 1,
}


@pytest.fixture(scope="session")
def zh_modernbert_dir(zh_shards, zh_tokenizer_dir, tmp_path_factory) -> Path:
    """`spacy_wv pretrain configs/pretrain_mlm_zh.cfg` for a few steps: the Chinese
    encoder that zh-demo trains, tiny."""
    from ..pretraining.conftest import pretrain_cli

    out = tmp_path_factory.mktemp("zh_modernbert") / "encoder"
    overrides = {"paths.train": str(zh_shards), "paths.tokenizer": str(zh_tokenizer_dir), **ZH_TINY}
    (out.parent / "pretrain_output.txt").write_text(pretrain_cli(PRETRAIN_ZH, out, overrides), encoding="utf8")
    return out


STACKED_STEPS = 12


@pytest.fixture(scope="session")
def weibo_stacked_pipeline(zh_modernbert_dir, data_dir, tmp_path_factory):
    """configs/zh_ner_stacked.cfg (what zh-demo trains and packages) on Weibo NER slices
    converted by `spacy_wv convert weibo`, with the tiny pretrain_mlm_zh.cfg encoder; the
    encoder copy it was trained from is gone afterwards."""
    from typer.testing import CliRunner

    from spacy_wv.cli import app

    base = tmp_path_factory.mktemp("zh_ner_stacked")
    for split, n in (("train", 24), ("dev", 8)):
        result = CliRunner().invoke(app, ["convert", "weibo", str(data_dir / "weibo_ner" / f"{split}.conll"),
                                          str(base / f"{split}.spacy"), "--labels", "named", "--max-docs", str(n)])
        assert result.exit_code == 0, result.output
    encoder = base / "encoder"
    shutil.copytree(zh_modernbert_dir, encoder)
    (base / "out").mkdir()
    model = train_pipeline(base / "out", "zh_ner_stacked.cfg", base / "train.spacy", base / "dev.spacy", **{
        "paths.encoder": str(encoder), "training.max_steps": STACKED_STEPS, "training.eval_frequency": STACKED_STEPS // 3,
        "training.optimizer.learn_rate.warmup_steps": 2, "training.logger.output_file": str(base / "out" / "train_log.jsonl")})
    shutil.rmtree(encoder)
    return model
