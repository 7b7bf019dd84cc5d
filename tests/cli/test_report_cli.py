import json

from spacy_wv.outputs import marker_file

from .conftest import one_error

NER_EVAL = {"ents_p": 0.8, "ents_r": 0.7, "ents_f": 0.7466, "speed": 15000.0,
            "ents_per_type": {"PER": {"p": 0.9, "r": 0.8, "f": 0.847}}}


def test_report_writes_replaces_its_own_output_and_refuses_others(run_cli, tmp_path):
    evaluation, stats = tmp_path / "eval.json", tmp_path / "stats.json"
    evaluation.write_text(json.dumps(NER_EVAL), encoding="utf8")
    stats.write_text(json.dumps({"seconds": 90}), encoding="utf8")
    out = tmp_path / "metrics"
    code, output = run_cli("report", out, "--ner", f"ours,{evaluation},{stats}")
    assert code == 0, output
    assert "| ours | 80.00 | 70.00 | 74.66 | 15,000 | 1.50 |" in output
    assert json.loads((out / "metrics.json").read_text(encoding="utf8"))["ner"]["ours"]["training_minutes"] == 1.5
    assert marker_file(out, "report").is_file()
    assert run_cli("report", out, "--ner", f"again,{evaluation}")[0] == 0
    assert list(json.loads((out / "metrics.json").read_text(encoding="utf8"))["ner"]) == ["again"]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("mine", encoding="utf8")
    line = one_error(*run_cli("report", notes, "--ner", f"ours,{evaluation}"))
    assert "todo.txt" in line and "not a report made by" in line
    assert sorted(p.name for p in notes.iterdir()) == ["todo.txt"]
