from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ..corpus.bad_lines import BadLines
from ._app import app

convert_app = typer.Typer(help="Convert labelled data to spaCy's .spacy format.", no_args_is_help=True)
app.add_typer(convert_app, name="convert")

# What every converter takes alike.
OUTPUT = typer.Argument(..., help="Output .spacy file")
LANG = typer.Option("en", "--lang", help="Language of the tokenizer")
MAX_DOCS = typer.Option(None, "--max-docs", help="Stop after this many docs")


@convert_app.command("conll")
def convert_conll_cli(
    input_path: Path = typer.Argument(..., help="CoNLL file: one token per line, tag (IOB1 or IOB2) last"),
    output_path: Path = OUTPUT,
    n_sents: int = typer.Option(10, "--n-sents", help="Sentences per doc (0: split only at -DOCSTART-)"),
    token_prefix: str = typer.Option("", "--token-prefix", help="Prefix to strip from every token, e.g. 'en:' (WikiANN)"),
    max_docs: Optional[int] = MAX_DOCS,
    skip_malformed: bool = typer.Option(False, "--skip-malformed", help="Drop (and count) sentences with a malformed tag line instead of stopping"),
) -> None:
    """NER data in CoNLL columns (CoNLL-2003, WNUT-17, WikiANN) -> .spacy."""
    from ..corpus.conll import convert_conll

    stats = convert_conll(input_path, output_path, n_sents=n_sents, token_prefix=token_prefix, max_docs=max_docs,
                          skip_malformed=skip_malformed)
    finish(stats.bad_lines, output_path, f"{stats.docs} docs, {stats.sentences} sentences, {stats.tokens} tokens, "
           f"{stats.entities} entities ({stats.repaired_tags} IOB1 tags rewritten)",
           dropped=f"{stats.dropped_sentences} sentence(s) ({stats.dropped_tokens} tokens)")


@convert_app.command("labeled")
def convert_labeled_cli(
    input_path: Path = typer.Argument(..., help="One '<label> <text>' (or '<label>\\t<text>') per line"),
    output_path: Path = OUTPUT,
    separator: str = typer.Option("space", "--separator", help="space or tab"),
    label_level: str = typer.Option("full", "--label-level", help="full, or coarse to cut 'COARSE:fine' labels"),
    label_map: str = typer.Option("", "--label-map", help="Rename labels, e.g. 0=negative,1=positive"),
    labels: str = typer.Option("", "--labels", help="Comma-separated labels to include even if absent from the file"),
    lang: str = LANG,
    max_docs: Optional[int] = MAX_DOCS,
    skip_unlabelled: bool = typer.Option(False, "--skip-unlabelled", help="Skip (and count) unlabelled lines instead of stopping"),
) -> None:
    """Text classification data (SST-2/5, TREC, SMS spam) -> .spacy with cats."""
    from ..corpus.labeled_text import convert_labeled_text, parse_label_map, rare_labels

    stats = convert_labeled_text(
        input_path, output_path, separator=separator, label_level=label_level, label_map=parse_label_map(label_map),
        labels=[name for name in labels.split(",") if name], lang=lang, max_docs=max_docs, skip_unlabelled=skip_unlabelled,
    )
    rare = rare_labels(stats)
    warning = (f"{len(rare)} label(s) occur only once ({', '.join(rare[:5])}): unlabelled lines? "
               f"Give --label-map to check every line's label") if rare and not label_map else ""
    finish(stats.bad_lines, output_path, f"{stats.docs} docs ({label_summary(stats.label_counts)})", "unlabelled", warning=warning)


@convert_app.command("spans")
def convert_spans_cli(
    input_path: Path = typer.Argument(..., help='JSONL: {"text": ..., "entities": [[start, end, label], ...]}'),
    output_path: Path = OUTPUT,
    alignment_mode: str = typer.Option("strict", "--alignment-mode", help="strict (drop), expand or contract spans off token boundaries"),
    lang: str = LANG,
) -> None:
    """Character-offset entity annotations (JSONL) -> .spacy; misaligned spans are counted, not fatal."""
    from ..corpus.char_spans import convert_char_spans

    stats = convert_char_spans(input_path, output_path, alignment_mode=alignment_mode, lang=lang)
    warning = (f"Dropped {stats.misaligned} entity span(s) not on token boundaries, {stats.overlapping} overlapping span(s) "
               f"and {stats.empty_labels} span(s) with an empty label") if stats.misaligned or stats.overlapping or stats.empty_labels else ""
    finish(stats.bad_lines, output_path, f"{stats.docs} docs, {stats.entities} entities", "unreadable", warning=warning)


@convert_app.command("weibo")
def convert_weibo_cli(
    input_path: Path = typer.Argument(..., help="Weibo NER file: 'CHAR+DIGIT<TAB>TAG' per line, blank line between messages"),
    output_path: Path = OUTPUT,
    labels: str = typer.Option("named", "--labels", help="named (PER/ORG/LOC/GPE named mentions) or all (the 8 .NAM/.NOM labels)"),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first malformed line instead of skipping its message"),
    max_docs: Optional[int] = typer.Option(None, "--max-docs", help="Stop after this many messages"),
) -> None:
    """Weibo NER (Chinese social media, one character per line) -> .spacy, one Doc per message."""
    from ..corpus.weibo import convert_weibo

    stats = convert_weibo(input_path, output_path, labels=labels, strict=strict, max_docs=max_docs)
    finish(stats.bad_lines, output_path, f"{stats.docs} docs, {stats.chars} characters, {stats.entities} entities "
           f"({label_summary(stats.label_counts)})", dropped=f"{stats.skipped_messages} message(s)")


@convert_app.command("tnews")
def convert_tnews_cli(
    input_path: Path = typer.Argument(..., help="TNEWS JSON lines: {'label_desc': ..., 'sentence': ...}"),
    output_path: Path = OUTPUT,
    labels_file: Optional[Path] = typer.Option(None, "--labels-file", help="TNEWS labels.json: every category, also those absent from this split"),
    segmenter: str = typer.Option("char", "--segmenter", help="spaCy zh segmenter: char or jieba"),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first unreadable line instead of skipping it"),
    max_docs: Optional[int] = MAX_DOCS,
) -> None:
    """TNEWS news titles (Chinese, CLUE/FewCLUE JSON lines) -> .spacy with cats."""
    from ..corpus.tnews import convert_tnews

    stats = convert_tnews(input_path, output_path, labels_path=labels_file, segmenter=segmenter, strict=strict, max_docs=max_docs)
    finish(stats.bad_lines, output_path, f"{stats.docs} docs in {len(stats.label_counts)} categories",
           warning=f"Skipped {stats.unlabeled} line(s) without a label" if stats.unlabeled else "")


def finish(bad_lines: BadLines, output_path: Path, written: str, what: str = "malformed", dropped: str = "", warning: str = "") -> None:
    """The converters' closing lines: the lines skipped (and what they `dropped`), any
    other `warning`, then what was written where."""
    if bad_lines.lines:
        msg.warn(bad_lines.summary(what) + (f"; dropped {dropped}" if dropped else ""))
    if warning:
        msg.warn(warning)
    msg.good(f"{written} -> {output_path}")


def label_summary(label_counts) -> str:
    """`label count, ...` in label order, for the converters' closing line."""
    return ", ".join(f"{label} {n}" for label, n in sorted(label_counts.items()))
