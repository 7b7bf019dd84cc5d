"""Chinese text: which characters are CJK ideographs, and word segmentation.

One place for what the Chinese parts of the toolkit share: tokenizer training (every
CJK character its own piece), whole-word masking (the words whose characters are
masked together), the converters (spaCy's `zh` segmenters) and word-vector export
(the words that get a vector).

Segmenters:
- `char`: every CJK character a word, runs of other non-space characters kept whole
  (what spaCy's `zh` tokenizer does with `segmenter = "char"`, its default);
- `jieba`: jieba's dictionary + HMM segmentation. jieba is on PyPI, pure Python, MIT,
  needs no model download (its dictionary ships in the wheel) and is one of the
  segmenters spaCy's own `zh` tokenizer offers (`segmenter = "jieba"`), so the words
  of pretraining, of the pipelines and of the exported vectors can be cut the same
  way. spaCy's other option, spacy-pkuseg, needs a model file fetched separately.
"""
import logging
import re
from functools import lru_cache
from typing import Callable, List

from ..errors import UserError

# The CJK ideograph blocks BERT's tokenizer treats as Chinese characters
# (transformers BasicTokenizer._is_chinese_char; tokenizers' BertNormalizer).
CJK_CLASS = (
    "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df\U0002a700-\U0002b73f"
    "\U0002b740-\U0002b81f\U0002b820-\U0002ceaf\uf900-\ufaff\U0002f800-\U0002fa1f"
)
CJK_RE = re.compile(f"[{CJK_CLASS}]")
_CHAR_WORDS = re.compile(f"[{CJK_CLASS}]|[^\\s{CJK_CLASS}]+")
SEGMENTERS = ("char", "jieba")


def is_cjk(char: str) -> bool:
    return len(char) == 1 and CJK_RE.match(char) is not None


def cjk_fraction(text: str) -> float:
    """Share of CJK ideographs among the non-space characters of `text` (0 when empty)."""
    n_chars = sum(not c.isspace() for c in text)
    return len(CJK_RE.findall(text)) / n_chars if n_chars else 0.0


def get_segmenter(name: str) -> Callable[[str], List[str]]:
    """A function text -> words (no whitespace-only words)."""
    if name == "char":
        return _CHAR_WORDS.findall
    if name == "jieba":
        jieba = _load_jieba()
        return lambda text: [word for word in jieba.lcut(text) if word.strip()]
    raise UserError(f"Unknown segmenter '{name}': choose one of {', '.join(SEGMENTERS)}")


@lru_cache(maxsize=1)
def _load_jieba():
    try:
        import jieba
    except ImportError:
        raise UserError("The jieba segmenter needs the jieba package: pip install jieba") from None
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba
