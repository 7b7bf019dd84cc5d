import json

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_wv.corpus.char_spans import SpanStats, char_spans_to_docs, convert_char_spans
from spacy_wv.corpus.conll import conll_to_docs


def _write_jsonl_from_conll(data_dir, path, n_docs):
    """Real CoNLL-2003 sentences with their entities as character offsets, plus spans
    cut through words, as annotation tools produce."""
    with path.open("w") as f:
        for doc in conll_to_docs(data_dir / "conll2003" / "eng.testa", n_sents=1, max_docs=n_docs):
            ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
            if doc.ents:
                e = doc.ents[0]
                ents.append([e.start_char + 1, e.end_char, "CUT"])
            f.write(json.dumps({"text": doc.text, "entities": ents}) + "\n")


def test_misaligned_spans_are_counted_not_fatal(data_dir, tmp_path):
    path = tmp_path / "dev.jsonl"
    _write_jsonl_from_conll(data_dir, path, 60)
    stats = SpanStats()
    docs = list(char_spans_to_docs(path, stats=stats))
    assert stats.docs == 60
    assert stats.misaligned > 0 and stats.entities > 0
    assert not any(e.label_ == "CUT" for d in docs for e in d.ents)


def test_expand_mode_snaps_spans_and_drops_overlaps(data_dir, tmp_path):
    path = tmp_path / "dev.jsonl"
    _write_jsonl_from_conll(data_dir, path, 60)
    strict, expand = SpanStats(), SpanStats()
    list(char_spans_to_docs(path, stats=strict))
    out = tmp_path / "dev.spacy"
    convert_char_spans(path, out, alignment_mode="expand")
    list(char_spans_to_docs(path, alignment_mode="expand", stats=expand))
    assert expand.misaligned == 0 and expand.overlapping == strict.misaligned
    assert len(list(DocBin().from_disk(out).get_docs(Vocab()))) == 60
