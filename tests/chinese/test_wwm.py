"""Chinese whole-word masking: a jieba word's characters are masked together."""
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from spacy_wv.corpus.segment import get_segmenter
from spacy_wv.errors import UserError
from spacy_wv.pretraining.chinese_wwm import segment_starts
from spacy_wv.pretraining.objectives import IGNORE_INDEX, masked_lm


@pytest.fixture(scope="module")
def tokenizer(zh_tokenizer_dir):
    return AutoTokenizer.from_pretrained(zh_tokenizer_dir)


@pytest.fixture(scope="module")
def batch(tokenizer, zh_lines):
    rows = [tokenizer(line, truncation=True, max_length=64)["input_ids"] for line in zh_lines]
    rows = [row for row in rows if len(row) == 64][:64]
    return torch.tensor(rows)


def _words(tokenizer, row):
    """(start, end) piece spans of jieba words inside runs of CJK pieces."""
    from spacy_wv.pretraining.chinese_wwm import cjk_piece_chars

    chars = cjk_piece_chars(tokenizer)[row.numpy()]
    spans, i = [], 0
    while i < len(chars):
        if not chars[i]:
            i += 1
            continue
        j = i
        while j < len(chars) and chars[j]:
            j += 1
        starts = np.flatnonzero(segment_starts(list(chars[i:j]), get_segmenter("jieba"))) + i
        spans += list(zip(starts, list(starts[1:]) + [j]))
        i = j
    return spans


def _partially_masked(tokenizer, batch, labels):
    partial = multi = 0
    for row, row_labels in zip(batch, labels):
        masked = (row_labels != IGNORE_INDEX).numpy()
        for start, end in _words(tokenizer, row):
            if end - start > 1 and masked[start:end].any():
                multi += 1
                partial += not masked[start:end].all()
    return partial, multi


def test_jieba_words_are_masked_whole(tokenizer, batch):
    objective = masked_lm(mask_rate=0.3, segmenter="jieba")
    objective.bind(tokenizer, tokenizer.sep_token_id)
    _, labels = objective.make_batch(batch, torch.Generator().manual_seed(0))
    partial, multi = _partially_masked(tokenizer, batch, labels)
    assert multi > 50
    assert partial == 0
    rate = (labels != IGNORE_INDEX).sum().item() / (~objective.special[batch]).sum().item()
    assert 0.2 < rate < 0.4


def test_without_segmenter_characters_are_masked_alone(tokenizer, batch):
    objective = masked_lm(mask_rate=0.3)
    objective.bind(tokenizer, tokenizer.sep_token_id)
    _, labels = objective.make_batch(batch, torch.Generator().manual_seed(0))
    partial, multi = _partially_masked(tokenizer, batch, labels)
    assert partial > multi / 2


def test_segment_starts():
    starts = segment_starts(list("中华人民共和国主席"), get_segmenter("jieba"))
    assert starts.tolist() == [True, False, False, False, False, False, False, True, False]
    assert segment_starts(list("中文"), get_segmenter("char")).tolist() == [True, True]


def test_unknown_segmenter_is_a_config_error():
    with pytest.raises(UserError, match="segmenter"):
        masked_lm(segmenter="ltp")
