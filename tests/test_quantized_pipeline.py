"""`spacy_wv quantize`: the copy of a trained stacked pipeline that the workflows package
loads with its encoder in int8 and finds what loading the original with int8 finds."""
import subprocess
import sys

import pytest
import spacy

from spacy_wv.errors import UserError
from spacy_wv.quantized_pipeline import int8_override, write_quantized_copy
from tests.project.tiny_pipelines import tiny_fasttext_vectors, tiny_stacked_ner_pipeline


def quantized_linears(nlp) -> int:
    import torch

    return sum(isinstance(module, torch.ao.nn.quantized.dynamic.Linear)
               for node in nlp.get_pipe("tok2vec").model.walk() for shim in node.shims
               for module in getattr(shim, "_model").modules())


@pytest.fixture(scope="module")
def stacked_ner(tmp_path_factory, data_dir, tiny_modernbert_dir, text_slice):
    return tiny_stacked_ner_pipeline(tmp_path_factory, data_dir, tiny_modernbert_dir,
                                     tiny_fasttext_vectors(tmp_path_factory, text_slice))


def test_int8_copy_loads_quantized_and_agrees_with_an_int8_load(stacked_ner, tmp_path, data_dir):
    copy = write_quantized_copy(stacked_ner, tmp_path / "int8")
    assert quantized_linears(spacy.load(stacked_ner)) == 0
    nlp = spacy.load(copy)
    assert quantized_linears(nlp) > 0
    blocks = (data_dir / "conll2003" / "eng.testa").read_text(encoding="utf8").split("\n\n")[1:31]
    texts = [" ".join(line.split()[0] for line in block.splitlines()) for block in blocks]
    found = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    reference = spacy.load(stacked_ner, config=int8_override(stacked_ner))
    assert sum(map(len, found)) > 0
    assert found == [[(e.start, e.end, e.label_) for e in doc.ents] for doc in reference.pipe(texts)]
    # The copy keeps the fp32 weights: quantizing happens as it loads, never on disk.
    assert sorted(p.name for p in stacked_ner.rglob("*") if p.is_file()) == \
        sorted(p.name for p in copy.rglob("*") if p.is_file() and not p.name.startswith(".spacy_wv-"))


def test_int8_copy_refuses_a_pipeline_without_an_encoder(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.to_disk(tmp_path / "blank")
    assert int8_override(tmp_path / "blank") is None
    with pytest.raises(UserError, match="no spacy_wv encoder"):
        write_quantized_copy(tmp_path / "blank", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_quantize_cli_names_a_missing_pipeline_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "spacy_wv", "quantize", str(tmp_path / "nowhere"), str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Not a saved spaCy pipeline" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
