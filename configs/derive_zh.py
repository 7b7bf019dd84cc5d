"""Writes the Chinese configs from the English ones, so that the two cannot drift.

    python configs/derive_zh.py          # (re)write every configs/zh_*.cfg, pretrain_mlm_zh.cfg and tapt_mlm_zh.cfg
    python configs/derive_zh.py --check  # exit 1 if a checked-in one differs from what this writes

Each Chinese config is its English config with the overrides declared below: the language,
the tokenizer, a header, and the few settings and comment lines that are honestly about
Chinese. Edit the English config (or an override here), then run this; never edit a
derived config by hand (tests/chinese/test_configs.py fails until they agree). The edits
are made on the text, so every comment of the English config carries over; each edit must
find its target exactly once, so a change to an English config that an override no longer
fits stops this script instead of being skipped silently.
"""
import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

CONFIGS = Path(__file__).resolve().parent
SCRIPT = "configs/derive_zh.py"

# spaCy's zh tokenizer, one token per character: Weibo NER is annotated per character, and
# the encoder's Chinese pieces are characters (a tokenizer trained with --cjk chars).
ZH_PIPELINE = {
    ("nlp", "lang"): '"zh"',
    ("nlp", "tokenizer"): '{"@tokenizers":"spacy.zh.ChineseTokenizer","segmenter":"char"}',
}
ZH_PIPELINE_NOTE = """\
Chinese (lang zh): spaCy's zh tokenizer with segmenter "char", one token per character
(Weibo NER is annotated per character; the encoder's Chinese pieces are characters too).
For word tokens set [nlp.tokenizer] segmenter = "jieba" (pip install jieba)."""
# The stacked configs' static vectors: fastText over the same tokens the pipeline sees.
ZH_FASTTEXT = ("# Static vectors (e.g. same-corpus fastText from `python -m spacy_wv vectors fasttext`):",
               "# Static vectors (characters, e.g. same-corpus fastText from\n"
               "# `python -m spacy_wv vectors fasttext OUT zh_text --lang zh`):")
# The bag-of-words classifier's "words" are the tokens: characters here.
ZH_BOW = ("# hashed unigram counts (ngram_size = 1) in a sparse linear layer, softmax over the labels.",
          "# hashed unigram counts (ngram_size = 1: single characters here, as the tokens are;\n"
          "# 2 adds character bigrams) in a sparse linear layer, softmax over the labels.")


# Chinese whole-word masking in the masked-LM pretraining configs.
ZH_WWM = ("objective", "segmenter", '"jieba"', (
    "# Chinese whole-word masking: CJK runs cut into words by jieba, a word's characters masked together.",))


@dataclass
class Derived:
    english: str
    note: str
    # What the English notes that follow the header mean here.
    reading: str
    settings: Dict[Tuple[str, str], str] = field(default_factory=dict)
    # (section, key, value, comment lines): a setting the English config does not have.
    added: List[Tuple[str, str, str, Tuple[str, ...]]] = field(default_factory=list)
    # (old, new): text replaced in the English config's comments, each found exactly once.
    replaced: List[Tuple[str, str]] = field(default_factory=list)


def _pipeline(english: str, replaced: Optional[List[Tuple[str, str]]] = None) -> Derived:
    return Derived(english, ZH_PIPELINE_NOTE, "its measurements are on English data, and the configs it names have zh_ twins",
                   dict(ZH_PIPELINE), replaced=replaced or [])


DERIVED: Dict[str, Derived] = {
    # wv_vectors stays: it pools whatever tokens the doc has (characters here) from the
    # encoder's pieces; tests/chinese/test_pipeline.py trains zh_ner.cfg and checks it.
    "zh_ner.cfg": _pipeline("ner.cfg"),
    "zh_textcat.cfg": _pipeline("textcat.cfg"),
    "zh_ner_baseline.cfg": _pipeline("ner_baseline.cfg"),
    "zh_textcat_baseline.cfg": _pipeline("textcat_baseline.cfg"),
    "zh_ner_stacked.cfg": _pipeline("ner_stacked.cfg", [ZH_FASTTEXT]),
    "zh_textcat_stacked.cfg": _pipeline("textcat_stacked.cfg", [ZH_FASTTEXT]),
    "zh_textcat_bow.cfg": _pipeline("textcat_bow.cfg", [ZH_BOW]),
    "zh_textcat_ensemble.cfg": _pipeline("textcat_ensemble.cfg", [ZH_FASTTEXT]),
    "pretrain_mlm_zh.cfg": Derived(
        "pretrain_mlm.cfg",
        """\
Chinese masked-LM pretraining: whole-word masking over jieba words (Chinese BERT-wwm).
Use a tokenizer trained with --cjk chars (or auto): the pieces are then characters, and
the warm start's "pieces" is character word2vec. The recipe is the English budget
sweep's best, not re-swept on Chinese.""",
        "its measurements are on English text",
        added=[ZH_WWM],
    ),
    "tapt_mlm_zh.cfg": Derived(
        "tapt_mlm.cfg",
        """\
Chinese task-adaptive pretraining: continue the zh-all encoder on a Chinese task's text
(Weibo posts, TNEWS titles) with whole-word masking over jieba words, as
pretrain_mlm_zh.cfg pretrains it.""",
        "its example commands are the English workflow's",
        {("paths", "init_from"): '"training/zh/encoder"'},
        added=[ZH_WWM],
    ),
}


def header(name: str, derived: Derived) -> str:
    lines = [f"GENERATED from configs/{derived.english} by {SCRIPT}: edit that file (or the",
             f"overrides in {SCRIPT}) and run `python {SCRIPT}`, not this one.",
             *derived.note.splitlines(),
             f"The notes of configs/{derived.english} follow: {derived.reading}."]
    return "".join(f"# {line}\n" for line in lines) + "#\n"


def split_header(text: str) -> Tuple[str, str]:
    """(the leading comment block, the rest)."""
    lines = text.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].startswith("#"):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


def _section_lines(lines: List[str], section: str) -> range:
    """The indices of `section`'s lines after its [header], up to the next header."""
    starts = [i for i, line in enumerate(lines) if (m := SECTION.match(line)) and m.group(1) == section]
    if len(starts) != 1:
        raise ValueError(f"section [{section}] occurs {len(starts)} times")
    end = next((i for i in range(starts[0] + 1, len(lines)) if SECTION.match(lines[i])), len(lines))
    return range(starts[0] + 1, end)


def set_value(lines: List[str], section: str, key: str, value: str) -> None:
    pattern = re.compile(rf"^{re.escape(key)}\s*=")
    found = [i for i in _section_lines(lines, section) if pattern.match(lines[i])]
    if len(found) != 1:
        raise ValueError(f"[{section}] {key} occurs {len(found)} times")
    lines[found[0]] = f"{key} = {value}\n"


def add_value(lines: List[str], section: str, key: str, value: str, comments: Tuple[str, ...]) -> None:
    span = _section_lines(lines, section)
    if any(re.match(rf"^{re.escape(key)}\s*=", lines[i]) for i in span):
        raise ValueError(f"[{section}] {key} is already set; declare it as a setting override")
    last = max((i for i in span if lines[i].strip()), default=span.start - 1)
    lines[last + 1:last + 1] = [*(f"{c}\n" for c in comments), f"{key} = {value}\n"]


def derive(name: str, derived: Derived, configs: Path = CONFIGS) -> str:
    """The text of configs/`name`, from its English config and overrides."""
    english_header, body = split_header((configs / derived.english).read_text(encoding="utf8"))
    for old, new in derived.replaced:
        text = english_header + body
        if text.count(old) != 1:
            raise ValueError(f"{derived.english}: {old!r} occurs {text.count(old)} times")
        english_header, body = english_header.replace(old, new), body.replace(old, new)
    lines = body.splitlines(keepends=True)
    for (section, key), value in derived.settings.items():
        set_value(lines, section, key, value)
    for section, key, value, comments in derived.added:
        add_value(lines, section, key, value, comments)
    return header(name, derived) + english_header + "".join(lines)


def check_against_english(name: str, derived: Derived, text: str, configs: Path = CONFIGS) -> None:
    """The derived config parses to its English config plus the declared settings: the
    text edits changed nothing else."""
    from thinc.api import Config

    expected = Config().from_str((configs / derived.english).read_text(encoding="utf8"), interpolate=False)
    for (section, key), value in derived.settings.items():
        expected[section][key] = Config().from_str(f"[x]\nv = {value}", interpolate=False)["x"]["v"]
    for section, key, value, _ in derived.added:
        expected[section][key] = Config().from_str(f"[x]\nv = {value}", interpolate=False)["x"]["v"]
    got = Config().from_str(text, interpolate=False)
    if got != expected:
        raise ValueError(f"{name}: the derived config differs from {derived.english} by more than its overrides")


def derive_all(configs: Path = CONFIGS) -> Dict[str, str]:
    out = {}
    for name, derived in DERIVED.items():
        out[name] = derive(name, derived, configs)
        check_against_english(name, derived, out[name], configs)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 where a file differs")
    args = parser.parse_args(argv)
    stale = []
    for name, text in derive_all().items():
        path = CONFIGS / name
        if path.exists() and path.read_text(encoding="utf8") == text:
            continue
        stale.append(name)
        if not args.check:
            partial = path.with_name(path.name + ".partial")
            partial.write_text(text, encoding="utf8")
            partial.replace(path)
    verb = "differ from what derive_zh.py writes" if args.check else "written"
    print(f"{', '.join(stale)}: {verb}" if stale else "The Chinese configs are up to date.")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
