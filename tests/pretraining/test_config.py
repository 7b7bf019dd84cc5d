import pytest
import torch
from spacy.util import registry

from spacy_wv.errors import UserError
from spacy_wv.pretraining.config import load_pretrain_config, micro_batch_seqs, resolve_settings
from spacy_wv.pretraining.architecture import EncoderSpec
from spacy_wv.pretraining.loop import prepare_run
from spacy_wv.pretraining.objectives import CausalLM, MaskedLM
from spacy_wv.pretraining.optimization import AdamWSettings, WarmupDecay
from spacy_wv.pretraining.rtd import ReplacedTokenDetection

from .conftest import CLM_CONFIG, GPU_CONFIG, MLM_CONFIG, RTD_CONFIG

PATHS = {"paths.train": "corpus/shards", "paths.tokenizer": "corpus/tokenizer"}


def settings(config=MLM_CONFIG, **overrides):
    return resolve_settings(load_pretrain_config(config, {**PATHS, **overrides}))


@pytest.mark.parametrize("config,family,objective", [
    (MLM_CONFIG, "modernbert", MaskedLM), (CLM_CONFIG, "gpt2", CausalLM), (GPU_CONFIG, "bert", MaskedLM),
    (RTD_CONFIG, "modernbert", ReplacedTokenDetection),
])
def test_default_configs_resolve(config, family, objective):
    s = settings(config)
    assert isinstance(s.encoder, EncoderSpec) and s.encoder.family == family
    assert isinstance(s.objective, objective)
    assert isinstance(s.optimizer, AdamWSettings) and isinstance(s.schedule, WarmupDecay)
    assert s.training.max_steps or s.training.max_minutes


def test_every_function_is_registered_and_declared_as_an_entry_point():
    for registry_name, name in [("architectures", "spacy_wv.TransformerEncoder.v1"), ("misc", "spacy_wv.MaskedLM.v1"),
                                ("misc", "spacy_wv.CausalLM.v1"), ("misc", "spacy_wv.AdamW.v1"), ("misc", "spacy_wv.WarmupDecay.v1"),
                                ("misc", "spacy_wv.ReplacedTokenDetection.v1"), ("misc", "spacy_wv.StaticWarmStart.v1")]:
        assert registry.has(registry_name, name)
        assert name in getattr(registry, registry_name).get_entry_points()


@pytest.mark.parametrize("family", ["bert", "roberta", "modernbert", "electra"])
def test_masked_families_resolve_and_build(family, tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    s = settings(**{"encoder.family": family, "encoder.width": 32, "encoder.heads": 2, "encoder.depth": 1, "encoder.ffn_size": 64})
    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    model = s.objective.build_model(s.encoder.hf_config(tokenizer))
    assert model.config.model_type == family
    assert model.config.vocab_size == len(tokenizer)
    assert model.config.hidden_size == 32
    # What spacy-transformers passes to the model's forward must be accepted by it.
    s.encoder.adapt_tokenizer(tokenizer)
    with torch.no_grad():
        model.base_model(**tokenizer(["Anarchism is a political philosophy."], return_tensors="pt"))


def test_overrides_reach_the_settings():
    s = settings(**{"training.seq_len": 64, "optimizer.lr": 0.01, "objective.whole_word": False, "schedule.decay": "linear"})
    assert s.training.seq_len == 64 and s.optimizer.lr == 0.01 and s.objective.whole_word is False
    assert s.schedule.decay == "linear"
    assert s.config_hash != settings().config_hash


@pytest.mark.parametrize("overrides,message", [
    ({"optimizer.lr": -0.001}, "lr must be positive"),
    ({"encoder.family": "xlnet"}, "family = 'xlnet' is unknown"),
    ({"encoder.width": 250}, "divisible by heads"),
    ({"objective.@misc": "spacy_wv.NoSuchObjective.v1"}, "is not a registered function"),
    ({"encoder.@architectures": "spacy_wv.NoSuchEncoder.v1"}, "is not a registered function"),
    ({"training.max_steps": None, "training.max_minutes": None}, "needs a stopping rule"),
    ({"training.seq_len": 1024}, "exceeds \\[encoder\\] max_length"),
    ({"training.precision": "fp16"}, "precision = 'fp16' is unknown"),
    ({"training.batch_size": 32}, "--training.batch_size names no setting of the config; did you mean --training.batch_tokens"),
    ({"training.max_steps": -5}, "max_steps must be a positive integer"),
    ({"training.max_epochs": 0}, "max_epochs must be a positive number"),
    ({"training.max_epochs": "3"}, "max_epochs must be a positive number"),
    ({"schedule.decay": "step"}, "decay = 'step' is unknown"),
    ({"encoder.family": "gpt2"}, "needs a bidirectional encoder"),
    ({"optimizer.lr": "fast"}, "lr"),
])
def test_bad_values_are_one_line_user_errors(overrides, message):
    with pytest.raises(UserError, match=message) as err:
        settings(**overrides)
    assert "\n" not in str(err.value)


def test_epochs_alone_are_a_stopping_rule():
    s = settings(**{"training.max_steps": None, "training.max_minutes": None, "training.max_epochs": 2.5})
    assert s.training.max_epochs == 2.5 and s.training.max_steps is None


def test_missing_config_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_pretrain_config(tmp_path / "nope.cfg")


def test_batch_tokens_must_split_into_whole_sequences():
    s = settings(**{"training.batch_tokens": 4096, "training.seq_len": 128, "training.grad_accum": 2})
    assert micro_batch_seqs(s.training, world_size=2) == 8
    with pytest.raises(UserError, match="multiple of"):
        micro_batch_seqs(s.training, world_size=3)


def test_tokenizer_and_shard_vocabulary_must_match(tmp_path, tiny_tokenizer_dir):
    from spacy_wv.corpus.shards import ShardWriter

    writer = ShardWriter(tmp_path / "shards", vocab_size=30_000, doc_sep_id=3)
    writer.add(range(5, 5000))
    writer.close()
    s = settings(**{"paths.train": str(tmp_path / "shards"), "paths.tokenizer": str(tiny_tokenizer_dir)})
    with pytest.raises(UserError, match="vocabulary of 30000"):
        prepare_run(s, tmp_path / "out", world_size=1)
    assert not (tmp_path / "out").exists()


def test_missing_inputs_are_user_errors(tmp_path, tiny_tokenizer_dir):
    s = settings(**{"paths.train": str(tmp_path / "none"), "paths.tokenizer": str(tmp_path / "none")})
    with pytest.raises(UserError, match="Tokenizer directory not found"):
        prepare_run(s, tmp_path / "out", world_size=1)
    s = settings(**{"paths.train": str(tmp_path / "none"), "paths.tokenizer": str(tiny_tokenizer_dir)})
    with pytest.raises(UserError, match="No token shards"):
        prepare_run(s, tmp_path / "out", world_size=1)
    assert not (tmp_path / "out").exists()
