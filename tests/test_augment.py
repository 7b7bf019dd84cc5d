import pytest
import spacy
from spacy.training import Corpus
from spacy.util import registry
from thinc.api import Config

from spacy_wv.augment import build_mention_table, create_entity_swap_augmenter, create_token_noise_augmenter
from spacy_wv.corpus.conll import convert_conll
from spacy_wv.errors import UserError


@pytest.fixture(scope="module")
def conll_train(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("aug") / "train.spacy"
    convert_conll(data_dir / "conll2003" / "eng.train", out, n_sents=5, max_docs=60)
    return out


def test_mention_table_has_real_mentions(conll_train):
    nlp = spacy.blank("en")
    examples = list(Corpus(str(conll_train))(nlp))
    table = build_mention_table(eg.reference for eg in examples)
    assert set(table) == {"LOC", "MISC", "ORG", "PER"}
    assert ("EU",) in table["ORG"] and ("Peter", "Blackburn") in table["PER"]


def test_entity_swap_keeps_types_and_text_outside_entities(conll_train):
    nlp = spacy.blank("en")
    examples = list(Corpus(str(conll_train))(nlp))
    table = build_mention_table(eg.reference for eg in examples)
    augment = create_entity_swap_augmenter(conll_train, level=1.0)
    changed = 0
    for eg in examples:
        (new,) = list(augment(nlp, eg))
        old_ref, new_ref = eg.reference, new.reference
        assert [e.label_ for e in new_ref.ents] == [e.label_ for e in old_ref.ents]
        assert all(tuple(t.text for t in e) in table[e.label_] for e in new_ref.ents)
        assert new.predicted.text == new_ref.text and not new.predicted.ents
        outside = lambda d: [t.text for t in d if not t.ent_type_]  # noqa: E731
        assert outside(new_ref) == outside(old_ref)
        changed += new_ref.text != old_ref.text
    assert changed > len(examples) // 2


def test_entity_swap_via_corpus_config(conll_train):
    config = Config().from_str(f"""
    [corpus]
    @readers = "spacy.Corpus.v1"
    gold_preproc = false
    path = "{conll_train}"
    [corpus.augmenter]
    @augmenters = "spacy_wv.EntitySwapAugmenter.v1"
    corpus = "{conll_train}"
    level = 0.5
    """)
    corpus = registry.resolve(config)["corpus"]
    nlp = spacy.blank("en")
    augmented = list(corpus(nlp))
    original = list(Corpus(str(conll_train))(nlp))
    assert len(augmented) == len(original) == 60
    swapped = sum(new.reference.text != old.reference.text for new, old in zip(augmented, original))
    assert 5 < swapped < 55  # level 0.5: about half the examples with entities get new mentions


def test_token_noise_keeps_token_count_and_entities(conll_train):
    nlp = spacy.blank("en")
    augment = create_token_noise_augmenter(level=1.0, token_prob=0.5)
    n_changed = n_tokens = 0
    for eg in Corpus(str(conll_train))(nlp):
        (new,) = list(augment(nlp, eg))
        assert len(new.reference) == len(eg.reference)
        assert [(e.start, e.end, e.label_) for e in new.reference.ents] == [(e.start, e.end, e.label_) for e in eg.reference.ents]
        assert all(t.text and not t.text.isspace() for t in new.reference)
        n_changed += sum(a.text != b.text for a, b in zip(new.reference, eg.reference))
        n_tokens += len(eg.reference)
    assert 0.1 < n_changed / n_tokens < 0.5


def test_bad_settings_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="level"):
        create_token_noise_augmenter(level=1.5)
    with pytest.raises(UserError, match="not found"):
        create_entity_swap_augmenter(tmp_path / "missing.spacy")
