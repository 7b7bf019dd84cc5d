import pytest

from spacy_wv.hf_dirs import load_encoder


@pytest.fixture(scope="module")
def encoder(tiny_encoder_dir):
    """(model, tokenizer) of the tiny encoder."""
    return load_encoder(tiny_encoder_dir)


@pytest.fixture(scope="module")
def small_corpus(text_slice, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text(text_slice.read_text(encoding="utf8")[:40_000], encoding="utf8")
    return path
