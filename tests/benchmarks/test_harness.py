"""benchmarks/harness.py end to end at toy size on real data, its mean ± sd tables
against `statistics`, its learning-rate schedule against spaCy's, and every script that
runs over it still answering its command line."""
import importlib
import re
import statistics
import sys
from itertools import islice
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import harness  # noqa: E402

ROW_KEYS = {"task", "system", "variant", "seed", "budget", "score", "steps", "epochs", "train_s", "train_words_s",
            "first_epoch_s_per_step", "later_s_per_step", "infer_words_s", "cache_mb", "threads"}
SCRIPTS = ["harness", "ner_budget", "stacked_budget", "chinese", "ablations", "encoder_quality", "stacked_step_cost",
           "inference_speed", "pretrain_throughput", "joint_vectors"]


@pytest.fixture(scope="module")
def conll_slice(data_dir, tmp_path_factory):
    return harness.convert("conll", data_dir, tmp_path_factory.mktemp("conll"), train_docs=10, dev_docs=5)


@pytest.fixture(scope="module")
def isolated_rows(conll_slice, tmp_path_factory):
    """Two seeds of the CNN, 2 steps each, each in its own process, rows appended to a file."""
    output = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    runs = [harness.spec("conll", "cnn", conll_slice, harness.budget(steps=2), seed) for seed in (0, 1)]
    return harness.run_all(runs, output), output


def test_isolated_runs_give_one_row_each_in_the_row_format(isolated_rows):
    rows, output = isolated_rows
    assert harness.read_rows([output]) == rows
    for seed, row in enumerate(rows):
        assert set(row) == ROW_KEYS
        assert (row["task"], row["system"], row["variant"], row["seed"]) == ("conll", "cnn", "", seed)
        assert row["budget"] == {"steps": 2} and row["steps"] == 2
        assert 0 <= row["score"] <= 1 and row["train_s"] > 0 and row["infer_words_s"] > 0
        assert row["cache_mb"] is None  # no encoder, no feature cache


def test_table_gives_mean_and_sample_sd_over_seeds(isolated_rows):
    rows, _ = isolated_rows
    (group,) = harness.summarize(rows)
    scores = [100 * row["score"] for row in rows]
    assert group["n"] == 2 and group["budget"] == "2 steps"
    assert group["mean"] == pytest.approx(statistics.mean(scores))
    assert group["sd"] == pytest.approx(statistics.stdev(scores))
    assert group["steps"] == 2
    table = harness.score_table(rows).splitlines()
    assert len(table) == 3 and table[0].startswith("| task | system | budget | seeds | dev score (mean ± sd) |")
    assert f"| F1 {statistics.mean(scores):.2f} ± {statistics.stdev(scores):.2f} |" in table[2]


def test_summary_groups_by_variant_and_budget_and_compares_with_the_baseline():
    def row(score, variant="", seed=0, spent=None):
        return {"task": "sst2", "system": "finetuned", "variant": variant, "seed": seed,
                "budget": spent or {"steps": 100}, "score": score, "steps": 100}

    rows = [row(0.5, "baseline", 0), row(0.6, "baseline", 1), row(0.7, "baseline", 2),
            row(0.72, "no-dropout", 0), row(0.8, "no-dropout", 1),
            row(0.9, "baseline", 0, {"seconds": 240})]
    summary = harness.summarize(rows)
    assert [(s["variant"], s["budget"], s["n"]) for s in summary] == [
        ("baseline", "100 steps", 3), ("baseline", "4 min", 1), ("no-dropout", "100 steps", 2)]
    assert summary[0]["mean"] == pytest.approx(60.0) and summary[0]["sd"] == pytest.approx(10.0)
    assert summary[1]["sd"] == 0.0
    assert summary[2]["mean"] == pytest.approx(76.0) and summary[2]["sd"] == pytest.approx(statistics.stdev([72, 80]))
    table = harness.score_table(rows, baseline="baseline").splitlines()
    assert "| acc 60.00 ± 10.00 | - |" in table[2]
    assert "| acc 90.00 | - |" in table[3]  # one seed: no spread; its own budget's baseline
    assert "| acc 76.00 ± 5.66 | +16.00 |" in table[4]


def test_budget_is_seconds_or_steps_exactly():
    assert harness.budget(seconds=30) == {"seconds": 30.0}
    assert harness.budget(steps=5) == {"steps": 5}
    for bad in ({}, {"seconds": 30, "steps": 5}, {"steps": 0}, {"seconds": -1}):
        with pytest.raises(ValueError):
            harness.budget(**bad)


@pytest.mark.parametrize("steps", [50, 47])
def test_steps_schedule_is_spacys_warmup_linear(steps):
    from thinc.api import warmup_linear

    expected = list(islice(warmup_linear(1e-3, max(1, steps // 10), steps), steps))
    got = [harness.learn_rate(1e-3, {"steps": steps}, step, 0.0) for step in range(steps)]
    assert got == pytest.approx(expected, abs=1e-12)


def test_wall_clock_schedule_warms_up_over_a_tenth_then_decays_to_zero():
    rate = [harness.learn_rate(1.0, {"seconds": 100.0}, 0, t) for t in range(0, 101)]
    assert rate[5] == pytest.approx(0.5) and rate[10] == pytest.approx(1.0) and rate[100] == 0.0
    assert rate[55] == pytest.approx(0.5)
    assert all(a <= b for a, b in zip(rate[:10], rate[1:11])) and all(a >= b for a, b in zip(rate[10:], rate[11:]))


def test_wall_clock_run_spends_its_seconds(conll_slice):
    row = harness.run_one(harness.spec("conll", "cnn", conll_slice, harness.budget(seconds=1.0), infer=False))
    assert row["train_s"] >= 1.0 and row["steps"] >= 1 and row["infer_words_s"] is None


def test_probe_is_the_encoder_features_alone_and_trains(conll_slice, tiny_encoder_dir):
    config = harness.system_config("conll", "probe", conll_slice["train"], conll_slice["dev"], str(tiny_encoder_dir))
    assert config["components"]["tok2vec"]["model"]["@architectures"] == "spacy_wv.EncoderFeatures.v1"
    assert "wv_vectors" not in config["nlp"]["pipeline"] and "wv_vectors" not in config["components"]
    row = harness.run_one(harness.spec("conll", "probe", conll_slice, harness.budget(steps=2), 0, tiny_encoder_dir,
                                       infer=False))
    assert row["steps"] == 2 and row["cache_mb"] > 0


def test_string_overrides_read_as_on_spacys_command_line(conll_slice):
    config = harness.system_config("conll", "cnn", conll_slice["train"], conll_slice["dev"], overrides={
        "training.dropout": "0.3", "corpora.train.augmenter":
            '{"@augmenters":"spacy_wv.TokenNoiseAugmenter.v1","level":0.3,"token_prob":0.1}'})
    assert config["training"]["dropout"] == 0.3
    assert config["corpora"]["train"]["augmenter"]["@augmenters"] == "spacy_wv.TokenNoiseAugmenter.v1"


def test_gpu_kit_entry_keeps_its_spec(monkeypatch):
    import stacked_budget

    seen = []
    monkeypatch.setattr(harness, "run_one", lambda run: seen.append(run["budget"]) or {})
    stacked_budget.run_one({"seconds": 25, "steps": 0})
    stacked_budget.run_one({"seconds": 25, "steps": 7})
    assert seen == [{"seconds": 25.0}, {"steps": 7}]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_answers_help(script, monkeypatch, capsys):
    module = importlib.import_module(script)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", "--help"])
    with pytest.raises(SystemExit) as exit_:
        module.main()
    assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out


def test_saved_stacked_rows_print_the_results_table(monkeypatch, capsys):
    """The rows RESULTS.md's stacked table came from, through today's table."""
    import stacked_budget

    monkeypatch.setattr(sys, "argv", ["stacked_budget.py", "--table-from", str(REPO / "benchmarks/stacked_budget_rows.jsonl")])
    stacked_budget.main()
    table = capsys.readouterr().out
    assert "| conll | stacked+ft | - | 3 | F1 89.30 ± 0.09 |" in table
    assert "| sst2 | finetuned | - | 3 | acc 80.43 ± 0.46 |" in table


def test_saved_encoder_rows_print_their_table(monkeypatch, capsys):
    import encoder_quality

    rows = harness.read_rows([REPO / "benchmarks/encoder_quality_rows.jsonl"])
    monkeypatch.setattr(sys, "argv", ["encoder_quality.py", "--table-from", str(REPO / "benchmarks/encoder_quality_rows.jsonl")])
    encoder_quality.main()
    table = capsys.readouterr().out
    first = rows[0]
    assert f"| {first['name']} |" in table
    assert harness.format_mean_sd([100 * score for score in first["ner"]]) in table


@pytest.fixture(scope="module")
def sst2_slice(data_dir, tmp_path_factory):
    return harness.convert("sst2", data_dir, tmp_path_factory.mktemp("sst2"), train_docs=64, dev_docs=16)


def test_bow_and_ensemble_systems_are_their_textcat_configs(sst2_slice, tiny_encoder_dir, tmp_path):
    train, dev = sst2_slice["train"], sst2_slice["dev"]
    bow = harness.system_config("sst2", "bow", train, dev, str(tiny_encoder_dir), str(tmp_path), seed=3)
    assert harness.config_path("sst2", "bow") == REPO / "configs" / "textcat_bow.cfg"
    assert bow["nlp"]["pipeline"] == ["textcat"] and bow["system"]["seed"] == 3
    assert bow["components"]["textcat"]["model"]["classifier"]["@architectures"] == "spacy.TextCatBOW.v3"
    assert bow["paths"]["vectors"] is None and "encoder" not in bow["paths"]  # given neither
    for system, vectors in (("ensemble", False), ("ensemble+ft", True)):
        config = harness.system_config("sst2", system, train, dev, str(tiny_encoder_dir), str(tmp_path))
        assert harness.config_path("sst2", system) == REPO / "configs" / "textcat_ensemble.cfg"
        assert config["components"]["textcat"]["model"]["classifier"]["@architectures"] == "spacy.TextCatEnsemble.v2"
        assert config["paths"]["encoder"] == str(tiny_encoder_dir)
        assert config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is vectors
        assert config["paths"]["vectors"] == (str(tmp_path) if vectors else None)
    assert harness.config_path("tnews", "bow") == REPO / "configs" / "zh_textcat_bow.cfg"
    assert harness.config_path("tnews", "ensemble") == REPO / "configs" / "zh_textcat_ensemble.cfg"


def test_bow_runs_in_the_harness(sst2_slice):
    row = harness.run_one(harness.spec("sst2", "bow", sst2_slice, harness.budget(steps=3)))
    assert row["steps"] == 3 and 0 <= row["score"] <= 1 and row["infer_words_s"] > 0 and row["cache_mb"] is None


@pytest.mark.parametrize("system", ["bow", "ensemble", "ensemble+ft"])
def test_textcat_only_systems_refuse_ner_tasks_in_one_line(system, monkeypatch, capsys):
    import chinese
    import stacked_budget

    expected = f"system {system} is for textcat tasks only (sst2, tnews), not conll (ner)"
    with pytest.raises(SystemExit, match=r"^" + re.escape(expected) + "$"):
        harness.check_names(["sst2", "conll"], ["cnn", system])
    with pytest.raises(SystemExit, match=re.escape(expected)):
        harness.config_path("conll", system)
    for module, argv in ((stacked_budget, ["--tasks", "conll,sst2", "--systems", f"cnn,{system}"]),
                         (chinese, ["--tasks", "weibo-named,tnews", "--systems", system])):
        if module is chinese and system == "ensemble+ft":
            continue  # chinese.py takes no static vectors: not one of its systems
        monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py", *argv])
        with pytest.raises(SystemExit) as exit_:
            module.main()
        assert "\n" not in str(exit_.value) and f"system {system} is for textcat tasks only" in str(exit_.value)
        assert "(ner)" in str(exit_.value)


@pytest.mark.parametrize("script,argv", [
    ("stacked_budget", ["--tasks", "conll", "--systems", "stacked"]),
    ("encoder_layers", ["--tasks", "conll", "--variants", "all"]),
    ("ner_budget", []),
])
def test_scripts_refuse_a_missing_encoder_in_one_line(script, argv, monkeypatch, tmp_path):
    module = importlib.import_module(script)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *argv, "--encoder", str(tmp_path / "no-encoder")])
    with pytest.raises(SystemExit) as exit_:
        module.main()
    assert str(exit_.value) == f"--encoder must be an encoder directory (config.json): {tmp_path / 'no-encoder'}"
