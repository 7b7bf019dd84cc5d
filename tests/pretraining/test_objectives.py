import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from spacy_wv.corpus.shards import ShardReader
from spacy_wv.errors import UserError
from spacy_wv.pretraining.batching import PackedCorpus
from spacy_wv.pretraining.architecture import transformer_encoder
from spacy_wv.pretraining.objectives import IGNORE_INDEX, causal_lm, masked_lm, word_start_table


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


@pytest.fixture(scope="module")
def real_batch(tiny_shards, tokenizer):
    """128 packed windows of real text (about 16k tokens), spread over the corpus."""
    corpus = PackedCorpus(ShardReader(tiny_shards), 128, tokenizer.cls_token_id, eval_tokens=0)
    return corpus.sequences(corpus.train, np.linspace(0, len(corpus.train) - 1, 128).astype(int))


def bound_mlm(tokenizer, **settings):
    objective = masked_lm(**settings)
    objective.bind(tokenizer, tokenizer.sep_token_id)
    return objective


def test_masking_rate_and_80_10_10_split(tokenizer, real_batch):
    objective = bound_mlm(tokenizer, whole_word=False)
    inputs, labels = objective.make_batch(real_batch, torch.Generator().manual_seed(0))
    maskable = ~objective.special[real_batch]
    masked = labels != IGNORE_INDEX
    rate = masked.sum().item() / maskable.sum().item()
    assert rate == pytest.approx(0.15, abs=0.01)
    n = masked.sum().item()
    as_mask = (inputs[masked] == tokenizer.mask_token_id).sum().item() / n
    kept = (inputs[masked] == real_batch[masked]).sum().item() / n
    replaced = 1.0 - as_mask - kept
    assert as_mask == pytest.approx(0.8, abs=0.02)
    # A random replacement can draw the original token (1 in ~2000): within tolerance.
    assert kept == pytest.approx(0.1, abs=0.02)
    assert replaced == pytest.approx(0.1, abs=0.02)


def test_labels_are_the_original_ids_where_masked_and_ignored_elsewhere(tokenizer, real_batch):
    objective = bound_mlm(tokenizer)
    inputs, labels = objective.make_batch(real_batch, torch.Generator().manual_seed(1))
    masked = labels != IGNORE_INDEX
    assert torch.equal(labels[masked], real_batch[masked])
    assert torch.equal(inputs[~masked], real_batch[~masked])
    assert set(labels[~masked].unique().tolist()) == {IGNORE_INDEX}


@pytest.mark.parametrize("whole_word", [False, True])
def test_special_tokens_are_never_masked_nor_used_as_replacements(tokenizer, real_batch, whole_word):
    objective = bound_mlm(tokenizer, whole_word=whole_word, mask_rate=0.5)
    inputs, labels = objective.make_batch(real_batch, torch.Generator().manual_seed(2))
    special_positions = objective.special[real_batch]
    assert special_positions[:, 0].all()  # every window starts with [CLS]
    assert special_positions.sum() > 128  # and document separators occur inside windows
    assert (labels[special_positions] == IGNORE_INDEX).all()
    assert torch.equal(inputs[special_positions], real_batch[special_positions])
    replaced = (labels != IGNORE_INDEX) & (inputs != labels) & (inputs != tokenizer.mask_token_id)
    assert replaced.any()
    assert not objective.special[inputs[replaced]].any()


def test_whole_word_masking_masks_every_piece_of_a_word(tokenizer, real_batch):
    objective = bound_mlm(tokenizer, whole_word=True)
    _, labels = objective.make_batch(real_batch, torch.Generator().manual_seed(3))
    masked = (labels != IGNORE_INDEX).numpy()
    pieces = real_batch.numpy()
    continuation = np.vectorize(lambda i: tokenizer.convert_ids_to_tokens(int(i)).startswith("##"))(pieces)
    # A continuation piece is masked exactly when the piece before it (same word) is;
    # a window that starts mid-word has [CLS] (never masked) before its first piece.
    inner = continuation[:, 1:] & ~objective.special[real_batch][:, :-1].numpy()
    assert inner.sum() > 1000
    assert (masked[:, 1:][inner] == masked[:, :-1][inner]).all()
    rate = masked.sum() / (~objective.special[real_batch]).sum().item()
    assert rate == pytest.approx(0.15, abs=0.02)


def test_same_generator_state_gives_the_same_masks(tokenizer, real_batch):
    objective = bound_mlm(tokenizer)
    first = objective.make_batch(real_batch, torch.Generator().manual_seed(5))
    second = objective.make_batch(real_batch, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def small_tokenizer(kind: str, text: str) -> PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    specials = ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=800, special_tokens=specials, unk_token="<unk>")
    tok.train_from_iterator(text.splitlines(), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", mask_token="<mask>")


@pytest.mark.parametrize("kind,marker", [("bpe", "Ġ"), ("unigram", "▁")])
def test_word_starts_follow_the_tokenizer_family(text_slice, kind, marker):
    text = text_slice.read_text(encoding="utf8")[:60_000]
    tokenizer = small_tokenizer(kind, text)
    starts = word_start_table(tokenizer)
    ids = tokenizer("Anarchism is a political philosophy of uncoerced cooperation")["input_ids"]
    pieces = tokenizer.convert_ids_to_tokens(ids)
    assert [bool(starts[i]) for i in ids] == [p.startswith(marker) for p in pieces]
    assert 0 < starts.sum() < len(starts)
    # 8 words, some split into several pieces; byte-level BPE (GPT-2 style) gives the
    # first word no "Ġ", so it joins whatever precedes it.
    assert sum(starts[i] for i in ids) in (7, 8) and len(ids) > 8


def test_wordpiece_word_starts(tokenizer):
    starts = word_start_table(tokenizer)
    ids = tokenizer("uncoerced cooperation", add_special_tokens=False)["input_ids"]
    pieces = tokenizer.convert_ids_to_tokens(ids)
    assert [bool(starts[i]) for i in ids] == [not p.startswith("##") for p in pieces]


def test_mask_settings_are_validated():
    with pytest.raises(UserError, match="mask_rate"):
        masked_lm(mask_rate=1.5)
    with pytest.raises(UserError, match="sum to at most 1"):
        masked_lm(mask_token_prob=0.9, random_token_prob=0.2)


def test_objectives_refuse_the_wrong_family():
    with pytest.raises(UserError, match="bidirectional"):
        masked_lm().check_encoder(transformer_encoder(family="gpt2"))
    with pytest.raises(UserError, match="causal"):
        causal_lm().check_encoder(transformer_encoder(family="bert"))
