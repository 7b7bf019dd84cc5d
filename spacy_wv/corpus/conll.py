"""CoNLL-style NER files (one token per line, tag in the last column) -> spaCy Docs.

Handles CoNLL-2003 (IOB1, space-separated, `-DOCSTART-` lines), WNUT-17 (IOB2, tab)
and WikiANN (IOB2, tab, every token prefixed with `en:`). IOB1 and IOB2 go through the
same path: rewriting IOB1 as IOB2 leaves valid IOB2 unchanged.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from spacy.tokens import Doc, DocBin
from spacy.training.iob_utils import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from ..errors import UserError
from ..outputs import PathLike, atomic_output_file, claim_output_file
from .bad_lines import BadLines
from .text import iter_utf8_lines

DOCSTART = "-DOCSTART-"
Sentence = Tuple[List[str], List[str]]


@dataclass
class ConversionStats:
    """What a conversion produced, and what it had to repair or drop."""

    docs: int = 0
    sentences: int = 0
    tokens: int = 0
    entities: int = 0
    repaired_tags: int = 0
    bad_lines: Optional[BadLines] = None
    dropped_sentences: int = 0
    dropped_tokens: int = 0


def iob1_to_iob2(tags: List[str]) -> Tuple[List[str], int]:
    """Start every entity with `B-`; returns the new tags and how many were rewritten."""
    out: List[str] = []
    rewritten = 0
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
            tag = "B-" + tag[2:]
            rewritten += 1
        out.append(tag)
        prev = tag
    return out, rewritten


def tag_problem(columns: List[str]) -> Optional[str]:
    """Why a token line cannot be read, or None: a tag is `O`, or `B-`/`I-` with a type."""
    if len(columns) < 2:
        return "no tag column"
    tag = columns[-1]
    if tag != "O" and (tag[:2] not in ("B-", "I-") or len(tag) == 2):
        return f"malformed tag {tag!r} (expected O, B-TYPE or I-TYPE)"
    return None


def read_sentences(path: Path, token_prefix: str, stats: ConversionStats,
                   skip_malformed: bool = False) -> Iterator[Optional[Sentence]]:
    """Yield (words, tags) per sentence; None marks a `-DOCSTART-` document boundary. A
    line with a malformed tag is an error naming it, or with `skip_malformed` drops its
    whole sentence (counted): dropping only the line would glue its neighbours together."""
    stats.bad_lines = BadLines(path, strict=not skip_malformed,
                               hint="fix the line, or pass --skip-malformed to drop its sentence")
    words: List[str] = []
    tags: List[str] = []
    bad = False

    def finish():
        nonlocal words, tags, bad
        sentence = None if bad else (words, tags)
        if bad:
            stats.dropped_sentences += 1
            stats.dropped_tokens += len(words)
        words, tags, bad = [], [], False
        return sentence

    for line_no, line in iter_utf8_lines(path):
        line = line.strip().lstrip("\ufeff")
        if not line:
            if words or bad:
                sentence = finish()
                if sentence:
                    yield sentence
            continue
        columns = line.split()
        if columns[0] == DOCSTART:
            if words or bad:
                sentence = finish()
                if sentence:
                    yield sentence
            yield None
            continue
        problem = tag_problem(columns)
        if problem:
            stats.bad_lines.report(line_no, line, problem)
            bad = True
        word = columns[0]
        if token_prefix and word.startswith(token_prefix) and len(word) > len(token_prefix):
            word = word[len(token_prefix):]
        words.append(word)
        tags.append(columns[-1])
    if words or bad:
        sentence = finish()
        if sentence:
            yield sentence


def sentence_texts(path: Path, token_prefix: str = "") -> Iterator[str]:
    """The sentences of a CoNLL file as plain text, words separated by single spaces."""
    for sentence in read_sentences(path, token_prefix, ConversionStats()):
        if sentence is not None:
            yield " ".join(sentence[0])


def _make_doc(vocab: Vocab, sentences: List[Sentence], stats: ConversionStats) -> Doc:
    words = [w for sent_words, _ in sentences for w in sent_words]
    sent_starts: List[bool] = []
    iob2: List[str] = []
    for sent_words, sent_tags in sentences:
        sent_starts.extend([True] + [False] * (len(sent_words) - 1))
        fixed, rewritten = iob1_to_iob2(sent_tags)
        stats.repaired_tags += rewritten
        iob2.extend(fixed)
    doc = Doc(vocab, words=words, sent_starts=sent_starts)
    doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(iob2))
    stats.docs += 1
    stats.sentences += len(sentences)
    stats.tokens += len(words)
    stats.entities += len(doc.ents)
    return doc


def conll_to_docs(
    path: Path, *, n_sents: int = 10, token_prefix: str = "", max_docs: Optional[int] = None,
    vocab: Optional[Vocab] = None, stats: Optional[ConversionStats] = None, skip_malformed: bool = False,
) -> Iterator[Doc]:
    """Group sentences into documents: at each `-DOCSTART-`, and every `n_sents` sentences
    (0 = only at `-DOCSTART-`)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"CoNLL file not found: {path}")
    if n_sents < 0:
        raise UserError(f"n_sents must be >= 0, got {n_sents}")
    vocab = vocab or Vocab()
    stats = stats if stats is not None else ConversionStats()
    pending: List[Sentence] = []
    for item in read_sentences(path, token_prefix, stats, skip_malformed):
        if max_docs is not None and stats.docs >= max_docs:
            return
        if item is not None:
            pending.append(item)
        if pending and (item is None or (n_sents and len(pending) >= n_sents)):
            yield _make_doc(vocab, pending, stats)
            pending = []
    if pending and (max_docs is None or stats.docs < max_docs):
        yield _make_doc(vocab, pending, stats)


def convert_conll(
    path: Path, output: Path, *, n_sents: int = 10, token_prefix: str = "", max_docs: Optional[int] = None,
    skip_malformed: bool = False,
) -> ConversionStats:
    """Write a `.spacy` DocBin; refuses an input without any sentence before writing."""
    with doc_bin_output(output, path):
        stats = ConversionStats()
        doc_bin = DocBin(attrs=["ORTH", "SENT_START", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
        for doc in conll_to_docs(path, n_sents=n_sents, token_prefix=token_prefix, max_docs=max_docs, stats=stats,
                                 skip_malformed=skip_malformed):
            doc_bin.add(doc)
        if stats.sentences == 0:
            raise UserError(f"No sentences found in {path}: expected one token per line with its tag in the last column")
        write_doc_bin(doc_bin, output)
    return stats


@contextmanager
def doc_bin_output(output: PathLike, input_path: PathLike) -> Iterator[None]:
    """The converters' output rule: a `.spacy` file that is not the input, and replaces
    only a file that loads as a DocBin. Write it with `write_doc_bin` inside the block."""
    with claim_output_file(output, ".spacy", [input_path], is_doc_bin, "a spaCy DocBin (.spacy) file"):
        yield


def is_doc_bin(path: Path) -> bool:
    """The whole file decompresses and unpacks as a DocBin."""
    try:
        DocBin().from_disk(path)
    except Exception:
        return False
    return True


def write_doc_bin(doc_bin: DocBin, output: Path) -> None:
    """Write a `.spacy` file whole or not at all."""
    with atomic_output_file(output) as tmp:
        doc_bin.to_disk(tmp)
