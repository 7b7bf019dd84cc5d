import json

import pytest

from spacy_wv.errors import UserError
from spacy_wv.report import build_metrics, metrics_markdown, parse_system, write_report

NER_EVAL = {"ents_p": 0.8, "ents_r": 0.7, "ents_f": 0.7466, "speed": 15000.0,
            "ents_per_type": {"PER": {"p": 0.9, "r": 0.8, "f": 0.847}, "LOC": {"p": 0.7, "r": 0.6, "f": 0.646}}}
TEXTCAT_EVAL = {"cats_micro_f": 0.81, "cats_macro_f": 0.805, "speed": 9000.0,
                "cats_f_per_type": {"negative": {"p": 0.8, "r": 0.8, "f": 0.8}, "positive": {"p": 0.81, "r": 0.81, "f": 0.81}}}


@pytest.fixture
def evals(tmp_path):
    paths = {}
    for name, content in (("ner", NER_EVAL), ("textcat", TEXTCAT_EVAL), ("stats", {"seconds": 150, "steps": 10, "words": 5})):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(content))
    return paths


def test_metrics_and_markdown(evals, tmp_path):
    metrics = build_metrics(ner=[("pretrained", evals["ner"], evals["stats"])],
                            textcat=[("pretrained", evals["textcat"], None)])
    assert metrics["ner"]["pretrained"]["per_type"]["PER"]["f"] == 0.847
    assert metrics["ner"]["pretrained"]["training_minutes"] == 2.5
    assert metrics["textcat"]["pretrained"]["accuracy"] == 0.81
    table = metrics_markdown(metrics)
    assert "| pretrained | 80.00 | 70.00 | 74.66 | 15,000 | 2.50 |" in table
    assert "| pretrained | PER | 90.00 | 80.00 | 84.70 |" in table
    assert "| pretrained | 81.00 | 80.50 | 9,000 |  |" in table
    json_path, md_path = write_report(tmp_path / "out", metrics)
    assert json.loads(json_path.read_text()) == metrics and md_path.read_text() == table


def test_bad_inputs_are_user_errors(evals, tmp_path):
    with pytest.raises(UserError, match="Nothing to report"):
        build_metrics()
    with pytest.raises(UserError, match="not found"):
        build_metrics(ner=[("x", tmp_path / "missing.json", None)])
    with pytest.raises(UserError, match="ents_f"):
        build_metrics(ner=[("x", evals["textcat"], None)])
    with pytest.raises(UserError, match="NAME,EVAL_JSON"):
        parse_system("only-a-name")
    assert parse_system("a,b.json") == ("a", tmp_path.__class__("b.json"), None)
