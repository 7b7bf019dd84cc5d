"""Stream documents from raw text files without holding a file in memory.

Inputs are files or folders (searched recursively, in sorted order, so a corpus always
streams in the same order). A `.txt` document is a block of lines between blank lines; a
`.jsonl` document is the `text` field of one line (or, without one, its `sentence`: CLUE's
JSON lines, such as TNEWS). Either may be gzipped (`.gz`). A task's own text (for
task-adaptive pretraining) reads from files named directly: a `.spacy` DocBin gives each
doc's text (labels are never read), a `.json` file is read as JSON lines (TNEWS ships its
lines as `.json`). A folder contributes only `.txt`/`.text`/`.jsonl` files, so that a
folder holding a tokenizer's or the shards' `.json` files is not read as text.

Every read is bounded: files are read in pieces of at most `READ_BYTES`, and a document
longer than `max_doc_chars` (a book without blank lines, a 50 MB line) is cut into
chunks at whitespace, so memory does not grow with the size of a file or a line (a
jsonl line is parsed whole, so it is capped at `MAX_JSONL_LINE_CHARS`). A DocBin is read
whole (the `.spacy` files of labelled data are small).
"""
import codecs
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, List, Optional, Tuple, Union

from wasabi import msg

from ..errors import UserError

TEXT_SUFFIXES = (".txt", ".text")
JSONL_SUFFIXES = (".jsonl",)
# Read as JSON lines when named directly (never picked from a folder).
NAMED_JSONL_SUFFIXES = JSONL_SUFFIXES + (".json",)
DOCBIN_SUFFIX = ".spacy"
# The fields a JSON line's document is read from, the first present first.
JSONL_TEXT_FIELDS = ("text", "sentence")
READ_BYTES = 1 << 16
MAX_DOC_CHARS = 100_000
MAX_JSONL_LINE_CHARS = 256 << 20
BINARY_SNIFF_BYTES = 1024
# A text file decodes with very few replacement characters; a binary one with many.
MAX_UNDECODABLE_RATIO = 0.3
MAX_WARNINGS_PER_FILE = 5

PathLike = Union[str, Path]


@dataclass
class ReadStats:
    """What a pass over a corpus read and skipped. `bytes_read` counts bytes on disk."""

    files_read: int = 0
    bytes_read: int = 0
    documents: int = 0
    invalid_utf8_lines: int = 0
    bad_jsonl_lines: int = 0
    binary_files_skipped: List[str] = field(default_factory=list)
    first_invalid_utf8: bytes = b""  # for the hint of which encoding the text is in

    def warn_skipped(self) -> None:
        """Print one warning per kind of skipped input; call it when reading is done."""
        if self.invalid_utf8_lines:
            msg.warn(f"Skipped {self.invalid_utf8_lines} lines that were not valid UTF-8")
        if self.bad_jsonl_lines:
            msg.warn(f"Skipped {self.bad_jsonl_lines} JSON lines without a valid 'text' or 'sentence' field")
        if self.binary_files_skipped:
            msg.warn(f"Skipped {len(self.binary_files_skipped)} binary or unreadable files")


def find_text_files(paths: Iterable[PathLike]) -> List[Path]:
    """The files to read, in reading order. A file named directly is always read (a
    `.spacy` or `.json` one too); a folder contributes its `.txt`/`.text`/`.jsonl` files
    (optionally `.gz`)."""
    files: List[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise UserError(f"Input not found: {path}")
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and _is_corpus_file(p))
        else:
            files.append(path)
    return files


def corpus_bytes(files: Iterable[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def iter_documents(paths: Union[PathLike, Iterable[PathLike]], stats: Optional[ReadStats] = None,
                   max_doc_chars: int = MAX_DOC_CHARS) -> Iterator[str]:
    """Yield the documents of all inputs, stripped, non-empty, at most `max_doc_chars`
    long. Raises UserError for a missing input and, when nothing readable was found,
    "empty corpus" (at the first `next()`, so a caller can check before writing)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    stats = stats if stats is not None else ReadStats()
    for path in find_text_files(paths):
        before = stats.documents
        for doc in _iter_file(path, stats, max_doc_chars):
            if stats.documents == before:
                stats.files_read += 1
            stats.documents += 1
            yield doc
    if stats.documents == 0:
        where = ', '.join(map(str, paths)) or 'no inputs'
        if stats.invalid_utf8_lines:
            raise UserError(f"No UTF-8 text in {where}: {stats.invalid_utf8_lines} line(s) were not "
                            f"valid UTF-8 and were skipped; convert to UTF-8, e.g. {conversion_hint(stats.first_invalid_utf8)}")
        if stats.binary_files_skipped:
            raise UserError(f"No text in {where}: {len(stats.binary_files_skipped)} binary or unreadable file(s) skipped, "
                            f"first {stats.binary_files_skipped[0]}")
        if stats.bad_jsonl_lines:
            raise UserError(f"No text in {where}: {stats.bad_jsonl_lines} JSON line(s) without a 'text' or 'sentence' string")
        raise UserError(f"empty corpus: no readable text in {where}")


def iter_utf8_lines(path: Path) -> Iterator[Tuple[int, str]]:
    """`(line_number, line)` of a UTF-8 text file, line ends kept; UserError naming the
    file and line at the first line that is not UTF-8 (a converter must not guess)."""
    with Path(path).open("rb") as f:
        for line_number, raw in enumerate(f, start=1):
            try:
                yield line_number, raw.decode("utf8")
            except UnicodeDecodeError as err:
                raise UserError(f"{path}:{line_number} is not valid UTF-8 (byte 0x{raw[err.start]:02x} at column "
                                f"{err.start + 1}): convert the file to UTF-8, e.g. {conversion_hint(raw)}") from None


def conversion_hint(raw: bytes) -> str:
    """The iconv command that most likely makes UTF-8 of bytes that are not: GBK when
    they read as GBK characters of two high bytes (GB2312's Chinese, the usual case for
    Chinese files), else Latin-1, whose accented letters stand alone between ASCII."""
    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError:
        return "iconv -f latin1 -t utf8"
    non_ascii = [char.encode("gbk") for char in text if ord(char) > 127]
    two_high_bytes = sum(len(code) == 2 and min(code) >= 0xA1 for code in non_ascii)
    return f"iconv -f {'gbk' if non_ascii and two_high_bytes >= len(non_ascii) / 2 else 'latin1'} -t utf8"


def _is_corpus_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.removesuffix(".gz").endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)


def _iter_file(path: Path, stats: ReadStats, max_doc_chars: int) -> Iterator[str]:
    if path.name.lower().endswith(DOCBIN_SUFFIX):
        yield from _docbin_docs(path, stats, max_doc_chars)
        return
    gzipped = path.name.lower().endswith(".gz")
    with path.open("rb") as raw:
        stream: BinaryIO = gzip.GzipFile(fileobj=raw) if gzipped else raw
        offset = stats.bytes_read
        try:
            if _looks_binary(stream.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES]):
                msg.warn(f"Skipped binary file: {path}")
                stats.binary_files_skipped.append(str(path))
                stats.bytes_read = offset + path.stat().st_size
                return
            lines = _iter_line_pieces(stream, stats)
            if path.name.lower().removesuffix(".gz").endswith(NAMED_JSONL_SUFFIXES):
                docs = _jsonl_docs(lines, path, stats, max_doc_chars)
            else:
                docs = _text_docs(lines, max_doc_chars)
            for doc in docs:
                doc = doc.strip()
                if doc:
                    # A compressed file counts its size once it is read whole: gzip reads
                    # ahead, so its offset in the file runs far ahead of the documents.
                    if not gzipped:
                        stats.bytes_read = offset + raw.tell()
                    yield doc
        except (OSError, EOFError) as err:
            # A corrupt or truncated .gz: keep what was read, skip the rest.
            msg.warn(f"Skipped the unreadable rest of {path}: {err}")
            stats.binary_files_skipped.append(str(path))
        stats.bytes_read = offset + path.stat().st_size


def _docbin_docs(path: Path, stats: ReadStats, max_doc_chars: int) -> Iterator[str]:
    """The text of each doc of a spaCy DocBin, stripped, cut like any long document."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    try:
        doc_bin = DocBin().from_disk(path)
    except Exception as err:  # zlib, msgpack and spaCy each raise their own types
        raise UserError(f"{path} is not a spaCy DocBin (.spacy) file: {' '.join(str(err).split())[:200]}") from None
    offset = stats.bytes_read
    n_docs = 0
    for doc in doc_bin.get_docs(Vocab()):
        n_docs += 1
        for piece in _cut(doc.text, max_doc_chars):
            piece = piece.strip()
            if piece:
                yield piece
    if not n_docs:
        msg.warn(f"{path} holds no docs")
    stats.bytes_read = offset + path.stat().st_size


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    return text.count("\ufffd") > MAX_UNDECODABLE_RATIO * max(len(text), 1)


def _iter_line_pieces(stream: BinaryIO, stats: ReadStats) -> Iterator[Tuple[int, Optional[str], bool]]:
    """Yield `(line_number, text, ends_line)` for each line, or piece of at most
    READ_BYTES of a longer one. `text` is None from the first piece of a line that is
    not valid UTF-8 to the end of that line (the line is counted once)."""
    line_number = 1
    decoder = codecs.getincrementaldecoder("utf-8")()
    bad_line = False
    while True:
        piece = stream.readline(READ_BYTES)
        if not piece:
            return
        ends_line = piece.endswith(b"\n")
        text = None
        if not bad_line:
            try:
                text = decoder.decode(piece, final=ends_line)
            except UnicodeDecodeError:
                stats.invalid_utf8_lines += 1
                stats.first_invalid_utf8 = stats.first_invalid_utf8 or piece
                bad_line = True
        yield line_number, text, ends_line
        if ends_line:
            line_number += 1
            decoder.reset()
            bad_line = False


def _text_docs(lines: Iterable[Tuple[int, Optional[str], bool]], max_chars: int) -> Iterator[str]:
    """Blank-line separated blocks, each cut into pieces of at most `max_chars`."""
    parts: List[str] = []
    size = 0
    at_line_start = True
    for _, text, ends_line in lines:
        if text is not None and at_line_start and ends_line and not text.strip():
            yield "".join(parts)
            parts, size = [], 0
        elif text is not None:
            parts.append(text.replace("\r\n", "\n"))
            size += len(text)
            if size > max_chars:
                *chunks, rest = _cut("".join(parts), max_chars)
                yield from chunks
                parts, size = [rest], len(rest)
        at_line_start = ends_line
    yield "".join(parts)


def _jsonl_docs(lines: Iterable[Tuple[int, Optional[str], bool]], path: Path, stats: ReadStats,
                max_chars: int) -> Iterator[str]:
    """The `text` field of each line, cut into pieces of at most `max_chars`."""
    parts: List[str] = []
    size = 0
    problem: Optional[str] = None
    warnings = 0
    for line_number, text, ends_line in _with_final_line_end(lines):
        if problem is None:
            if text is None:
                problem = "invalid UTF-8"  # already counted by the line reader
            elif size + len(text) > MAX_JSONL_LINE_CHARS:
                problem = f"longer than {MAX_JSONL_LINE_CHARS} characters"
            else:
                parts.append(text)
                size += len(text)
        if not ends_line:
            continue
        line, line_problem = "".join(parts), problem
        parts, size, problem = [], 0, None
        if line_problem == "invalid UTF-8" or (line_problem is None and not line.strip()):
            continue
        doc = _jsonl_text(line) if line_problem is None else None
        if doc is None:
            stats.bad_jsonl_lines += 1
            warnings += 1
            if warnings <= MAX_WARNINGS_PER_FILE:
                reason = line_problem or "not a JSON object with a 'text' or 'sentence' string"
                msg.warn(f"Skipped {path} line {line_number}: {reason}")
            continue
        yield from _cut(doc, max_chars)


def _with_final_line_end(lines: Iterable[Tuple[int, Optional[str], bool]]) -> Iterator[Tuple[int, Optional[str], bool]]:
    """Mark the last piece of a file as ending its line, even without a final newline."""
    previous = None
    for item in lines:
        if previous is not None:
            yield previous
        previous = item
    if previous is not None:
        yield previous[0], previous[1], True


def _jsonl_text(line: str) -> Optional[str]:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    field = next((name for name in JSONL_TEXT_FIELDS if name in record), None)
    return record[field] if field is not None and isinstance(record[field], str) else None


def _cut(text: str, max_chars: int) -> Iterator[str]:
    """`text` in pieces of at most `max_chars`, cut at a line break in the second half
    of a piece if there is one, else at the last space or tab, else hard. The last piece
    yielded is the remainder."""
    start = 0
    while len(text) - start > max_chars:
        end = start + max_chars
        cut = text.rfind("\n", start + max_chars // 2, end)
        if cut <= start:
            cut = max(text.rfind(" ", start + 1, end), text.rfind("\t", start + 1, end), text.rfind("\n", start + 1, end))
        if cut <= start:
            cut = end
        yield text[start:cut]
        start = cut
    yield text[start:]
