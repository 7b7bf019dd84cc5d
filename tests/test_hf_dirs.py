"""spacy_wv.hf_dirs: the one place that checks and loads Hugging Face model and tokenizer
directories. Built on a handmade tokenizer and a tiny model: no shared data needed."""
import json

import pytest

from spacy_wv.errors import UserError
from spacy_wv.hf_dirs import (check_model_dir, fingerprint_files, load_backend_tokenizer, load_encoder,
                              load_fast_tokenizer, load_model_dir, load_model_files, max_sequence_length, model_files,
                              read_model_type, tokenizer_fingerprint)

VOCAB = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "the": 5, "cat": 6, "sat": 7}
# What pipelines and shards store: these digests must not change.
FILES = {"config.json": b'{"model_type": "bert"}', "model.safetensors": bytes(range(256)) * 4,
         "vocab.txt": "[PAD]\n[UNK]\nwort\n".encode()}
FILES_DIGEST = "9ed8573acf0d5e0d6a7e423e"
TOKENIZER_SPEC = {"version": "1.0", "added_tokens": [{"id": 0, "content": "[PAD]", "special": True}],
                  "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None,
                  "padding": None, "truncation": None,
                  "model": {"type": "WordLevel", "vocab": {"[PAD]": 0, "[UNK]": 1, "wort": 2}, "unk_token": "[UNK]"}}
TOKENIZER_DIGEST = "920e63d3148125725b4642be7bfe05b96c28a7aa6beae818865a5037a4850b81"


def one_line_error(call, *args, **kwargs) -> str:
    with pytest.raises(UserError) as raised:
        call(*args, **kwargs)
    message = str(raised.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    """A WordLevel fast tokenizer with BERT's special tokens, saved as transformers saves it."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    out = tmp_path_factory.mktemp("tokenizer")
    fast.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def model_dir(tokenizer_dir, tmp_path_factory):
    """A one-layer, 8-wide BERT with the tokenizer above, and a pytorch_model.bin beside its
    safetensors that no loader may read (its bytes would fail to unpickle)."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("model")
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=32)
    BertModel(config).save_pretrained(out, safe_serialization=True)
    for f in tokenizer_dir.iterdir():
        shutil.copy(f, out / f.name)
    (out / "pytorch_model.bin").write_bytes(b"not a pickle")
    return out


def test_a_missing_directory(tmp_path):
    message = one_line_error(check_model_dir, tmp_path / "nowhere", hint="point 'name' at it")
    assert message == f"Encoder directory not found: {tmp_path / 'nowhere'}; point 'name' at it."
    message = one_line_error(check_model_dir, tmp_path / "nowhere", role="Checkpoint", where="[paths] init_from")
    assert message == f"Checkpoint directory not found: {tmp_path / 'nowhere'} ([paths] init_from)."


def test_a_directory_without_config_json_says_what_it_holds(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf8")
    message = one_line_error(check_model_dir, tmp_path)
    assert message == f"{tmp_path} is not a Hugging Face model directory (no config.json): it holds 1 other file(s) (notes.txt)."
    (tmp_path / "empty").mkdir()
    assert "(no config.json): it holds nothing." in one_line_error(check_model_dir, tmp_path / "empty")


@pytest.mark.parametrize("config,message", [
    ({}, "has no model_type, which transformers does not know"),
    ({"model_type": "nonesuch"}, "has model_type 'nonesuch', which transformers does not know"),
])
def test_an_unknown_model_type(tmp_path, config, message):
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert message in one_line_error(check_model_dir, tmp_path)


def test_a_model_type_outside_the_families_asked_for(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "t5"}', encoding="utf8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    message = one_line_error(check_model_dir, tmp_path, families=("bert", "gpt2"), purpose="continued pretraining")
    assert message == f"{tmp_path / 'config.json'} has model_type 't5': continued pretraining supports bert, gpt2."


def test_a_config_json_that_is_not_an_object(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert",', encoding="utf8")
    assert f"{tmp_path / 'config.json'} is not a JSON object" in one_line_error(check_model_dir, tmp_path)
    (tmp_path / "config.json").write_text('[1, 2]', encoding="utf8")
    assert "is not a JSON object" in one_line_error(read_model_type, tmp_path)


def test_no_weights_and_pickled_weights_only_are_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf8")
    assert one_line_error(check_model_dir, tmp_path) == f"The encoder at {tmp_path} has no weights (model.safetensors)."
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a pickle")
    for load in (check_model_dir, load_model_dir, load_encoder):
        message = one_line_error(load, tmp_path)
        assert message.startswith(f"The encoder at {tmp_path} has its weights only as pytorch_model.bin, which is not read")
    (tmp_path / "model.safetensors.index.json").write_text("{}", encoding="utf8")  # sharded safetensors count
    assert check_model_dir(tmp_path) == "bert"


def test_the_frozen_encoder_and_the_fine_tuned_encoder_refuse_pickled_weights(tmp_path):
    import spacy
    from spacy.util import registry

    from spacy_wv.layers.frozen_encoder import FrozenEncoderShim
    from spacy_wv.layers.transformer_model import create_transformer_model

    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf8")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a pickle")
    shim = FrozenEncoderShim({"layers": None, "max_pieces": 16, "batch_pieces": 64, "cache_mb": 0, "quantize": None})
    assert "only as pytorch_model.bin" in one_line_error(shim.load, tmp_path)
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    model = create_transformer_model(str(tmp_path), get_spans)
    assert "only as pytorch_model.bin" in one_line_error(model.initialize, X=[spacy.blank("en")("text")])


def test_a_model_dir_loads_from_safetensors_beside_a_pickle(model_dir):
    """The pytorch_model.bin beside the safetensors is garbage: reading it would fail."""
    model, tokenizer = load_model_dir(model_dir)
    assert not model.training and model.config.hidden_size == 8
    assert tokenizer.is_fast and tokenizer.pad_token == "[PAD]"
    assert load_encoder(model_dir)[0].config.hidden_size == 8


def test_model_files_keep_configs_safetensors_and_vocabularies_only(model_dir):
    files = model_files(model_dir)
    assert "pytorch_model.bin" not in files
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    assert all(name.endswith((".json", ".safetensors", ".txt", ".model")) for name in files)
    model, tokenizer = load_model_files(files)
    assert model.config.hidden_size == 8 and tokenizer("the cat")["input_ids"] == [5, 6]


def test_fingerprint_digests_are_the_ones_pipelines_and_shards_store(tmp_path):
    assert fingerprint_files(FILES) == FILES_DIGEST
    assert fingerprint_files(dict(reversed(list(FILES.items())))) == FILES_DIGEST  # by name, not order
    assert fingerprint_files({**FILES, "vocab.txt": b"other"}) != FILES_DIGEST
    tokenizer_file = tmp_path / "tokenizer.json"
    tokenizer_file.write_text(json.dumps(TOKENIZER_SPEC), encoding="utf8")
    assert tokenizer_fingerprint(tokenizer_file) == TOKENIZER_DIGEST
    tokenizer_file.write_text(json.dumps({**TOKENIZER_SPEC, "padding": {"length": 8}}), encoding="utf8")
    assert tokenizer_fingerprint(tokenizer_file) == TOKENIZER_DIGEST  # padding does not change ids
    tokenizer_file.write_text(json.dumps({**TOKENIZER_SPEC, "normalizer": None}), encoding="utf8")
    assert tokenizer_fingerprint(tokenizer_file) != TOKENIZER_DIGEST


def test_load_fast_tokenizer(tokenizer_dir, tmp_path):
    from transformers import PreTrainedTokenizerFast

    tokenizer = load_fast_tokenizer(tokenizer_dir)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    assert tokenizer("the cat sat", add_special_tokens=False)["input_ids"] == [5, 6, 7]
    assert one_line_error(load_fast_tokenizer, tmp_path / "nowhere", "[paths] tokenizer: train one") == \
        f"Tokenizer directory not found: {tmp_path / 'nowhere'}; [paths] tokenizer: train one."
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "vocab.txt").write_text("\n".join(VOCAB), encoding="utf8")
    assert "is a slow tokenizer (vocab.txt) without a tokenizer.json" in one_line_error(load_fast_tokenizer, tmp_path / "slow")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "tokenizer.json").write_text("{}", encoding="utf8")
    assert "is not a Hugging Face tokenizer file" in one_line_error(load_fast_tokenizer, tmp_path / "corrupt")


def test_load_backend_tokenizer(tokenizer_dir, tmp_path):
    from tokenizers import Tokenizer

    tokenizer, special_ids = load_backend_tokenizer(tokenizer_dir)
    assert isinstance(tokenizer, Tokenizer)
    assert tokenizer.encode("the cat sat", add_special_tokens=False).ids == [5, 6, 7]
    assert special_ids == {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 4, "bos": None, "eos": None}
    assert one_line_error(load_backend_tokenizer, tmp_path).startswith(f"No tokenizer at {tmp_path} (missing tokenizer.json)")
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf8")
    assert "is not a valid tokenizer file" in one_line_error(load_backend_tokenizer, tmp_path)


def test_max_sequence_length_leaves_out_robertas_two_unused_positions():
    from transformers import BertConfig, GPT2Config, RobertaConfig

    assert max_sequence_length(BertConfig(max_position_embeddings=128)) == 128
    assert max_sequence_length(RobertaConfig(max_position_embeddings=130)) == 128
    assert max_sequence_length(GPT2Config(n_positions=64)) == 64


def test_the_encoder_of_a_spacy_pipeline_is_the_model_it_was_built_from(model_dir, tmp_path):
    import spacy
    import torch

    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(model_dir),
                                                  "tokenizer_config": {"use_fast": True}}})
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipeline")
    model, tokenizer = load_encoder(tmp_path / "pipeline")
    reference = load_encoder(model_dir)[0]
    ids = tokenizer(["the cat sat"], return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(model(**ids).last_hidden_state, reference(**ids).last_hidden_state, atol=1e-5)
    assert "Not an encoder dir" in one_line_error(load_encoder, tmp_path)
