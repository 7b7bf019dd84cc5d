import subprocess
import sys
import warnings

import numpy
import pytest
import spacy
from spacy.tokens import Doc, DocBin

from spacy_wv.corpus.conll import sentence_texts
from spacy_wv.errors import UserError
from spacy_wv.pipeline.vectors import set_vector_hooks

from ..checks import cosine


def transformer_config(encoder_dir, hidden_states=True):
    return {
        "model": {
            "@architectures": "spacy-transformers.TransformerModel.v3",
            "name": str(encoder_dir),
            "tokenizer_config": {"use_fast": True},
            "transformer_config": {"output_hidden_states": hidden_states},
            "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 64, "stride": 48},
        }
    }


def build(encoder_dir, hidden_states=True, **vectors_config):
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config=transformer_config(encoder_dir, hidden_states))
    nlp.add_pipe("wv_vectors", config=vectors_config)
    nlp.initialize()
    return nlp


@pytest.fixture(scope="module")
def nlp(tiny_encoder_dir):
    return build(tiny_encoder_dir)


@pytest.fixture(scope="module")
def conll_sentences(data_dir):
    path = data_dir / "conll2003" / "eng.testa"
    return list(sentence_texts(path))


def reference_mean_vectors(doc):
    """Mean pooling written as a plain loop over the alignment: per window, then across windows."""
    trf_data = doc._.trf_data
    hidden = trf_data.tensors[0]
    rows = hidden.reshape(-1, hidden.shape[-1])
    vectors = numpy.zeros((len(doc), hidden.shape[-1]), dtype="float32")
    for i in range(len(doc)):
        indices = trf_data.align[i].dataXd.ravel()
        per_window = {}
        for index in indices:
            per_window.setdefault(int(index) // hidden.shape[1], []).append(rows[index])
        if per_window:
            vectors[i] = numpy.mean([numpy.mean(v, axis=0) for v in per_window.values()], axis=0)
    return vectors


def test_token_vectors_follow_the_alignment_across_overlapping_windows(nlp, conll_sentences):
    doc = nlp(" ".join(conll_sentences[:12]))
    assert len(doc) > 100, "the document must span several strided windows"
    overlapping = [i for i in range(len(doc)) if len(set(doc._.trf_data.align[i].dataXd.ravel() // doc._.trf_data.tensors[0].shape[1])) > 1]
    assert overlapping
    assert doc.tensor.shape == (len(doc), 64)
    assert numpy.allclose(doc.tensor, reference_mean_vectors(doc), atol=1e-5)


def test_same_word_in_two_contexts_gets_two_vectors(nlp):
    doc = nlp("He sat on the bank of the river . The bank raised its interest rates .")
    first, second = [t for t in doc if t.text == "bank"]
    assert not numpy.allclose(first.vector, second.vector)
    assert first.has_vector and first.vector_norm > 0


def test_span_and_doc_vectors_are_token_means_and_similarity_is_cosine(nlp):
    doc = nlp("Shares of Reuters rose in London trading on Monday .")
    span = doc[2:6]
    assert numpy.allclose(span.vector, numpy.mean([t.vector for t in span], axis=0))
    assert numpy.allclose(doc.vector, numpy.mean([t.vector for t in doc], axis=0))
    a, b = doc[2].vector, doc[5].vector
    cosine = numpy.dot(a, b) / (numpy.linalg.norm(a) * numpy.linalg.norm(b))
    assert doc[2].similarity(doc[5]) == pytest.approx(cosine, abs=1e-5)
    assert span.similarity(doc) == pytest.approx(
        numpy.dot(span.vector, doc.vector) / (numpy.linalg.norm(span.vector) * numpy.linalg.norm(doc.vector)), abs=1e-5
    )
    assert doc.similarity(doc) == pytest.approx(1.0, abs=1e-5)


def test_whitespace_token_has_no_vector_and_no_warnings_are_raised(nlp):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = nlp("Rates rose  sharply .")
        space = doc[2]
        assert space.is_space
        assert not space.has_vector and not space.vector.any()
        assert space.similarity(doc[0]) == 0.0
        assert doc.has_vector
        assert numpy.allclose(doc.vector, numpy.mean([t.vector for t in doc if not t.is_space], axis=0))
        # Cosines of the rows the component stored (the space has none, and is left out of doc.vector).
        rows = doc.tensor[[0, 1, 3, 4]]
        assert doc[0].similarity(doc[1]) == pytest.approx(cosine(rows[0], rows[1]), abs=1e-5)
        assert doc[0:2].similarity(doc) == pytest.approx(cosine(rows[:2].mean(0), rows.mean(0)), abs=1e-5)
        assert doc[0].similarity(doc[4]) == pytest.approx(cosine(rows[0], rows[3]), abs=1e-5)
        assert doc.similarity(doc) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("text", ["", "   \n\t ", "😀🎉 東京は日本の首都です。 مرحبا 🙂"])
def test_empty_whitespace_emoji_and_cjk_documents(nlp, text):
    doc = nlp(text)
    assert doc.tensor.shape[0] == len(doc)
    assert [t.has_vector for t in doc] == [not t.is_space for t in doc]
    assert doc.has_vector == any(not t.is_space for t in doc)
    assert numpy.isfinite(doc.vector).all()
    assert doc.vector.shape == (64,)  # the encoder's width, even for an empty doc processed alone


def test_twenty_thousand_token_document(nlp, text_slice):
    words = text_slice.read_text(encoding="utf8").split()[:20_000]
    doc = nlp(" ".join(words))
    assert len(doc) >= 20_000
    assert doc.tensor.shape == (len(doc), 64)
    assert all(doc.tensor[i].any() for i in range(0, len(doc), 997))


def test_normalize_gives_unit_vectors_and_layer_mix_differs_from_last_layer(tiny_encoder_dir, nlp):
    text = "The central bank cut rates ."
    normalized = build(tiny_encoder_dir, normalize=True, layers=[1, 2], pooling="first")(text)
    assert numpy.allclose(numpy.linalg.norm(normalized.tensor, axis=1), 1.0, atol=1e-5)
    assert not numpy.allclose(normalized.tensor, nlp(text).tensor / numpy.linalg.norm(nlp(text).tensor, axis=1, keepdims=True))


def test_bad_configuration_is_a_user_error(tiny_encoder_dir):
    with pytest.raises(UserError, match="layer 7 does not exist"):
        build(tiny_encoder_dir, layers=[7])("Some text .")
    with pytest.raises(UserError, match="output_hidden_states"):
        build(tiny_encoder_dir, hidden_states=False, layers=[0])("Some text .")
    with pytest.raises(UserError, match="Unknown pooling"):
        build(tiny_encoder_dir, pooling="median")
    without_transformer = spacy.blank("en")
    without_transformer.add_pipe("wv_vectors")
    with pytest.raises(UserError, match="needs a `transformer`"):
        without_transformer("Some text .")


def test_vectors_are_the_same_with_ner_in_the_pipeline(tiny_encoder_dir, nlp):
    with_ner = spacy.blank("en")
    with_ner.add_pipe("transformer", config=transformer_config(tiny_encoder_dir))
    ner = with_ner.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 16, "maxout_pieces": 2, "use_upper": False,
        "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
                    "pooling": {"@layers": "reduce_mean.v1"}}}})
    ner.add_label("ORG")
    with_ner.add_pipe("wv_vectors")
    with_ner.initialize()
    text = "Reuters reported from London on Monday ."
    docs = list(with_ner.pipe([text, text]))
    assert numpy.allclose(docs[0].tensor, nlp(text).tensor, atol=1e-5)
    assert docs[1].has_annotation("ENT_IOB")  # ner ran on the doc whose vectors were checked


def test_pipeline_round_trip_loads_without_importing_spacy_wv(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipeline")
    text = "Oil prices fell in New York ."
    script = (
        "import sys, spacy, numpy; nlp = spacy.load(sys.argv[1]); "
        "assert nlp.pipe_names == ['transformer', 'wv_vectors']; "
        f"numpy.save(sys.argv[2], nlp({text!r}).tensor)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "pipeline"), str(tmp_path / "t.npy")], check=True)
    assert numpy.allclose(numpy.load(tmp_path / "t.npy"), nlp(text).tensor, atol=1e-5)


def test_doc_bytes_round_trip_keeps_tensor_and_hooks_can_be_restored(nlp):
    doc = nlp("Gold rose to a record high .")
    with pytest.warns(UserWarning, match="W109"):  # spaCy drops user hooks on serialization
        restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert numpy.allclose(restored.tensor, doc.tensor)
    set_vector_hooks(restored)
    assert restored[1].similarity(restored[2]) == pytest.approx(doc[1].similarity(doc[2]))


def test_docbin_with_user_data_keeps_trf_data_so_the_component_can_rebuild_vectors(nlp):
    doc = nlp("Gold rose to a record high .")
    doc_bin = DocBin(store_user_data=True)
    doc_bin.add(doc)
    restored = next(DocBin(store_user_data=True).from_bytes(doc_bin.to_bytes()).get_docs(nlp.vocab))
    assert restored.tensor.size == 0, "DocBin does not store doc.tensor"
    nlp.get_pipe("wv_vectors")(restored)
    assert numpy.allclose(restored.tensor, doc.tensor)
    assert restored[1].similarity(restored[2]) == pytest.approx(doc[1].similarity(doc[2]))


def test_batched_pipe_gives_the_same_vectors_as_one_doc_at_a_time(nlp, conll_sentences):
    texts = ["", conll_sentences[0], "   ", " ".join(conll_sentences[1:9]), "😀", conll_sentences[9]]
    for doc, text in zip(nlp.pipe(texts, batch_size=4), texts):
        alone = nlp(text)
        assert doc.tensor.shape[0] == len(alone)
        if len(alone):
            assert numpy.allclose(doc.tensor, alone.tensor, atol=1e-5)
            assert doc[0].similarity(doc[-1]) == pytest.approx(alone[0].similarity(alone[-1]), abs=1e-5)


@pytest.fixture(scope="module")
def stacked_nlp(tiny_encoder_dir):
    """configs/ner_stacked.cfg (untrained) beside a static vectors table, whose
    vectors `token.vector` would fall back to without the hooks."""
    import torch
    from spacy.training import Example
    from spacy.util import load_config, load_model_from_config

    from tests.project.tiny_pipelines import REPO

    torch.set_num_threads(1)
    config = load_config(REPO / "configs" / "ner_stacked.cfg", overrides={
        "paths.train": "x", "paths.dev": "y", "paths.encoder": str(tiny_encoder_dir), "components.wv_vectors.anisotropy": "none"})
    nlp = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    example = Example.from_dict(nlp.make_doc("Peter Blackburn visited Brussels ."), {"entities": [(0, 15, "PER"), (24, 32, "LOC")]})
    nlp.initialize(lambda: [example])
    return with_static_vectors(nlp)


@pytest.fixture(scope="module")
def transformer_nlp(tiny_encoder_dir):
    return with_static_vectors(build(tiny_encoder_dir))


def with_static_vectors(nlp):
    nlp.vocab.reset_vectors(width=16)
    for word in ("bank", "river", "rates", "The"):
        nlp.vocab.set_vector(word, numpy.ones(16, dtype="float32"))
    return nlp


VECTOR_TEXTS = ["The bank raised rates .", "We sat on the river bank .", "", "Gold rose ."]


def assert_same_vectors(docs, expected):
    for doc, want in zip(docs, expected):
        assert doc.text == want.text and doc.tensor.shape == want.tensor.shape
        for token, wanted in zip(doc, want):
            assert token.vector.shape == wanted.vector.shape and numpy.allclose(token.vector, wanted.vector, atol=1e-5)
        if len(doc) > 1:
            assert doc[0].similarity(doc[1]) == pytest.approx(want[0].similarity(want[1]), abs=1e-5)
            assert numpy.allclose(doc[:2].vector, want[:2].vector, atol=1e-5)


@pytest.mark.parametrize("pipeline", ["transformer_nlp", "stacked_nlp"])
def test_vectors_are_the_same_after_pipe_with_two_processes(pipeline, request):
    """Issue 22: docs came back from the worker processes with token.vector read from the static table."""
    nlp = request.getfixturevalue(pipeline)
    expected = [nlp(text) for text in VECTOR_TEXTS]
    assert expected[0][1].vector.shape == (64,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W109 from the workers: we put the hooks back
        docs = list(nlp.pipe(VECTOR_TEXTS, n_process=2, batch_size=1))
    assert_same_vectors(docs, expected)


@pytest.mark.parametrize("store_user_data", [True, False])
def test_restore_gives_vectors_back_after_a_docbin_round_trip(stacked_nlp, store_user_data):
    nlp = stacked_nlp
    expected = [nlp(text) for text in VECTOR_TEXTS]
    expected[0].ents = [expected[0].char_span(4, 8, label="ORG")]  # an annotation of the user's, to be kept
    doc_bin = DocBin(store_user_data=store_user_data, docs=expected)
    docs = list(DocBin().from_bytes(doc_bin.to_bytes()).get_docs(nlp.vocab))
    assert docs[0][1].vector.shape == (16,)  # the static table: what a round trip leaves
    docs = list(nlp.get_pipe("wv_vectors").restore(nlp, docs))
    assert_same_vectors(docs, expected)
    assert [(e.text, e.label_) for e in docs[0].ents] == [("bank", "ORG")]
