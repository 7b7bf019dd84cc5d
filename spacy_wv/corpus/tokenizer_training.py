"""Train a subword tokenizer on raw text and save it as a Hugging Face fast tokenizer.

Three kinds, each with the special tokens that both masked-LM and causal-LM pretraining
need (pad, unk, cls/bos, sep/eos, mask), a post-processor that adds them, and character
offsets (spacy-transformers aligns wordpieces to spaCy tokens by offsets):

- `wordpiece`: BERT style ([PAD] [UNK] [CLS] [SEP] [MASK]), `[CLS] text [SEP]`.
- `bpe`: RoBERTa / GPT-2 style byte-level BPE (<s> <pad> </s> <unk> <mask>), never unknown.
- `unigram`: SentencePiece style (Metaspace, "▁" marks a word start), `<s> text </s>`.

CJK text (`cjk`): as in Chinese BERT, every CJK ideograph is cut out as its own word
before the subword model sees it, so it becomes one piece (or, for a character rarer
than the vocabulary allows, [UNK] for wordpiece, its bytes for bpe, <unk> for unigram);
Latin words and digits in between keep their subword pieces, and offsets still point
into the original text. wordpiece does it with BertNormalizer's `handle_chinese_chars`
(spaces around each ideograph); bpe and unigram split at each ideograph without adding
a word marker, so decoding gives the text back. Chinese text is also NFKC-normalised
(full-width Latin, digits and punctuation become their ASCII forms).
`chars` turns it on, `off` off; `auto` turns it on when at least CJK_AUTO_SHARE of the
first CJK_SAMPLE_CHARS characters read are CJK. wordpiece splits ideographs on `auto`
even in English text, as BERT's normalizer always has (then without NFKC).
"""
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tqdm import tqdm

from ..errors import UserError
from ..hf_dirs import SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE
from ..outputs import InterruptFlag, LegacyFiles, as_path_list, atomic_output_dir, claim_output_dir
from .segment import CJK_CLASS, cjk_fraction
from .text import PathLike, ReadStats, corpus_bytes, find_text_files, iter_documents

# What `save_pretrained` of our PreTrainedTokenizerFast writes: a directory holding
# exactly these was made by `spacy_wv tokenizer` before output markers. A downloaded
# tokenizer has a class of its own in tokenizer_config.json, and often a vocab.txt.
LEGACY_TOKENIZER_FILES = LegacyFiles({TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE})
LEGACY_TOKENIZER_CLASS = "PreTrainedTokenizerFast"


@dataclass(frozen=True)
class SpecialTokens:
    pad: str
    unk: str
    cls: str
    sep: str
    mask: str

    def in_vocab_order(self) -> List[str]:
        return [self.pad, self.unk, self.cls, self.sep, self.mask]


SPECIAL_TOKENS: Dict[str, SpecialTokens] = {
    "wordpiece": SpecialTokens(pad="[PAD]", unk="[UNK]", cls="[CLS]", sep="[SEP]", mask="[MASK]"),
    "bpe": SpecialTokens(pad="<pad>", unk="<unk>", cls="<s>", sep="</s>", mask="<mask>"),
    "unigram": SpecialTokens(pad="<pad>", unk="<unk>", cls="<s>", sep="</s>", mask="<mask>"),
}
# RoBERTa's order, so that ids match what RoBERTa-style code expects (<s>=0, <pad>=1, </s>=2).
BPE_VOCAB_ORDER = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
KINDS = tuple(SPECIAL_TOKENS)
CJK_MODES = ("auto", "chars", "off")
CJK_SAMPLE_CHARS = 200_000
CJK_AUTO_SHARE = 0.1


def train_tokenizer(
    inputs: Sequence[PathLike],
    output_dir: PathLike,
    kind: str = "wordpiece",
    vocab_size: int = 16000,
    lowercase: bool = True,
    min_frequency: int = 2,
    special_tokens: Optional[Sequence[str]] = None,
    max_mb: Optional[float] = None,
    model_max_length: int = 512,
    stats: Optional[ReadStats] = None,
    cjk: str = "auto",
):
    """Train a `kind` tokenizer on the documents of `inputs` and save it to `output_dir`
    (replacing a tokenizer saved there before). `special_tokens` are extra special tokens
    added after the five every kind has; `max_mb` stops reading after that many MB
    (10^6 bytes on disk); `min_frequency` does not apply to `unigram`. Returns the
    `PreTrainedTokenizerFast`; `tokenizer.cjk_chars` says whether CJK characters are
    split (see the module docstring for `cjk`)."""
    if kind not in SPECIAL_TOKENS:
        raise UserError(f"Unknown tokenizer kind '{kind}': choose one of {', '.join(KINDS)}")
    if cjk not in CJK_MODES:
        raise UserError(f"Unknown cjk mode '{cjk}': choose one of {', '.join(CJK_MODES)}")
    specials = SPECIAL_TOKENS[kind]
    all_specials = (BPE_VOCAB_ORDER if kind == "bpe" else specials.in_vocab_order()) + list(special_tokens or [])
    if vocab_size <= len(all_specials):
        raise UserError(f"vocab_size {vocab_size} must be larger than the {len(all_specials)} special tokens")
    if max_mb is not None and max_mb <= 0:
        raise UserError(f"max_mb must be positive, got {max_mb}")
    if min_frequency < 1:
        raise UserError(f"min_frequency must be at least 1, got {min_frequency}")
    output_dir = Path(output_dir)
    inputs = as_path_list(inputs)
    with claim_output_dir(output_dir, "tokenizer", inputs, legacy=is_legacy_tokenizer_dir):
        stats = stats if stats is not None else ReadStats()
        docs = iter_documents(inputs, stats)
        first = next(docs)  # raises UserError for missing inputs or an empty corpus
        chinese = cjk == "chars" or (cjk == "auto" and cjk_fraction(_sample_text(inputs)) >= CJK_AUTO_SHARE)
        split_cjk = chinese or (cjk == "auto" and kind == "wordpiece")
        total = corpus_bytes(find_text_files(inputs))
        if max_mb is not None:
            total = min(total, int(max_mb * 1e6))
        # The trainer pulls documents from Rust, which swallows a KeyboardInterrupt raised in
        # our iterator: Ctrl-C sets a flag that ends the stream, and nothing is saved.
        with InterruptFlag() as interrupted, tqdm(total=total, unit="B", unit_scale=True, desc="Reading") as bar:
            stream = _bounded(itertools.chain([first], docs), stats, total, bar, interrupted)
            tokenizer = _new_tokenizer(kind, specials, lowercase, split_cjk, nfkc=chinese)
            trainer = _trainer(kind, vocab_size, min_frequency, all_specials, specials)
            try:
                tokenizer.train_from_iterator(stream, trainer=trainer)
            except Exception as err:  # e.g. a unigram vocabulary smaller than the corpus's character set
                interrupted.raise_if_set()
                raise UserError(f"Could not train a {kind} tokenizer of {vocab_size} tokens on {', '.join(map(str, inputs))}: "
                                f"{' '.join(str(err).split())}" + (" (raise --vocab-size; Chinese text needs several thousand)"
                                                                       if "vocab" in str(err).lower() else "")) from None
            interrupted.raise_if_set()
        stats.warn_skipped()
        tokenizer.post_processor = _post_processor(kind, tokenizer, specials)

        from transformers import PreTrainedTokenizerFast  # slow to import: only once there is work to save

        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer,
            model_max_length=model_max_length,
            pad_token=specials.pad, unk_token=specials.unk, cls_token=specials.cls, sep_token=specials.sep,
            bos_token=specials.cls, eos_token=specials.sep,
            # RoBERTa-style <mask> absorbs the space before it, as the byte-level pieces do.
            mask_token=AddedToken(specials.mask, lstrip=kind != "wordpiece", rstrip=False, special=True),
            additional_special_tokens=list(special_tokens or []),
            # Without this, PreTrainedTokenizerFast resets the byte-level pre-tokenizer's prefix space.
            add_prefix_space=kind == "bpe",
        )
        with atomic_output_dir(output_dir, kind="tokenizer") as tmp_dir:
            fast.save_pretrained(tmp_dir)
        fast.cjk_chars = split_cjk
    return fast


def is_legacy_tokenizer_dir(path: Path) -> bool:
    if not LEGACY_TOKENIZER_FILES(path):
        return False
    try:
        config = json.loads((path / TOKENIZER_CONFIG_FILE).read_text(encoding="utf8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("tokenizer_class") == LEGACY_TOKENIZER_CLASS


def tokenizer_kind(tokenizer) -> str:
    """`wordpiece`, `bpe` or `unigram`, read from a (fast) tokenizer's model."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    return type(backend.model).__name__.lower()


def _sample_text(inputs: Sequence[PathLike]) -> str:
    """The first CJK_SAMPLE_CHARS characters of the corpus (a second, separate read)."""
    sample = ""
    for doc in iter_documents(inputs, ReadStats()):
        sample += doc[: CJK_SAMPLE_CHARS - len(sample)]
        if len(sample) >= CJK_SAMPLE_CHARS:
            break
    return sample


def _bounded(docs: Iterable[str], stats: ReadStats, max_bytes: int, bar: tqdm, interrupted: InterruptFlag) -> Iterable[str]:
    for doc in docs:
        if interrupted.set:
            return
        yield doc
        bar.update(min(stats.bytes_read, max_bytes) - bar.n)
        if stats.bytes_read >= max_bytes:
            return


def _new_tokenizer(kind: str, specials: SpecialTokens, lowercase: bool, split_cjk: bool, nfkc: bool = False) -> Tokenizer:
    cjk_split = [pre_tokenizers.Split(Regex(f"[{CJK_CLASS}]"), "isolated")] if split_cjk else []
    if kind == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=specials.unk))
        bert = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase, handle_chinese_chars=split_cjk)
        tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), bert]) if nfkc else bert
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token=specials.unk))
        tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC() if nfkc else normalizers.NFC()] + ([normalizers.Lowercase()] if lowercase else []))
        # A prefix space makes a word at the start of a text the same piece as mid-text.
        # With CJK splitting it is one leading space for the whole text (ByteLevel's own
        # would go before every ideograph), stripped again by the decoder.
        if split_cjk:
            tokenizer.normalizer = normalizers.Sequence([tokenizer.normalizer, normalizers.Prepend(" ")])
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(cjk_split + [pre_tokenizers.ByteLevel(add_prefix_space=not split_cjk)])
        tokenizer.decoder = decoders.ByteLevel()
    else:
        tokenizer = Tokenizer(models.Unigram())
        # Line breaks and tabs become word boundaries too, not pieces glued to words.
        tokenizer.normalizer = normalizers.Sequence(
            [normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " ")] + ([normalizers.Lowercase()] if lowercase else []))
        # With CJK splitting, "▁" only where the text has a space (and at its start).
        scheme = "first" if split_cjk else "always"
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(cjk_split + [pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=scheme)])
        tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme=scheme)
    return tokenizer


def _trainer(kind: str, vocab_size: int, min_frequency: int, all_specials: List[str], specials: SpecialTokens):
    if kind == "wordpiece":
        return trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                         special_tokens=all_specials, show_progress=False)
    if kind == "bpe":
        return trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=all_specials,
                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    return trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=all_specials, unk_token=specials.unk,
                                   show_progress=False)


def _post_processor(kind: str, tokenizer: Tokenizer, specials: SpecialTokens):
    cls, sep = (specials.cls, tokenizer.token_to_id(specials.cls)), (specials.sep, tokenizer.token_to_id(specials.sep))
    if kind == "bpe":
        return processors.RobertaProcessing(sep=sep, cls=cls, trim_offsets=True, add_prefix_space=True)
    return processors.TemplateProcessing(
        single=f"{cls[0]} $A {sep[0]}",
        pair=f"{cls[0]} $A {sep[0]} $B:1 {sep[0]}:1",
        special_tokens=[cls, sep],
    )
