"""The GPU kit (benchmarks/gpu): its package plan against the machine's list, and the
same steps as on the GPU at toy size on CPU, so that the kit cannot rot between leases."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks" / "gpu"))

import prepare  # noqa: E402
import run  # noqa: E402


def test_plan_carries_what_the_machine_lacks_or_our_pins_refuse():
    carry, _, problems = prepare.plan_packages(prepare.required_distributions(), prepare.machine_packages())
    assert problems == []
    # Missing there.
    assert {"spacy", "thinc", "spacy-transformers", "srsly", "blis"} <= set(carry)
    # There, but at versions our pins refuse (transformers 5, tokenizers 0.23, huggingface-hub 1.x).
    assert {"transformers", "tokenizers", "huggingface-hub"} <= set(carry)
    # The machine's own build, and what only lazy paths import.
    assert not {"torch", "numpy", "gensim", "jieba", "matplotlib", "scipy"} & set(carry)


def test_plan_reports_a_machine_torch_our_pins_refuse(tmp_path):
    listing = tmp_path / "packages.txt"
    listing.write_text("torch 1.0.0\nnumpy 2.5.2\n", encoding="utf8")
    _, _, problems = prepare.plan_packages(prepare.required_distributions(), prepare.machine_packages(listing))
    assert any(problem.startswith("torch: the machine has 1.0.0") for problem in problems)


def test_spacy_wv_entry_points_travel_in_the_site(tmp_path):
    prepare.spacy_wv_dist_info(tmp_path)
    (info,) = tmp_path.glob("spacy_wv-*.dist-info")
    entry_points = (info / "entry_points.txt").read_text(encoding="utf8")
    assert "[spacy_factories]" in entry_points
    assert "wv_vectors = spacy_wv.pipeline.vectors:make_wv_vectors" in entry_points


@pytest.fixture(scope="module")
def tiny_kit_run(data_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("gpu_kit")
    kit, out, work = root / "kit", root / "out", root / "work"
    subprocess.run([sys.executable, str(REPO / "benchmarks/gpu/prepare.py"), "--tiny", "--kit", str(kit),
                    "--data-dir", str(data_dir)], check=True, capture_output=True)
    result = subprocess.run([sys.executable, str(REPO / "benchmarks/gpu/run.py"), "--tiny", "--kit", str(kit),
                             "--out", str(out), "--work", str(work)], capture_output=True, text=True)
    return result, run.read_rows(out / "rows.jsonl"), out, work


def test_tiny_run_completes_every_step(tiny_kit_run):
    result, rows, out, _ = tiny_kit_run
    errors = [row for row in rows if "error" in row]
    assert result.returncode == 0 and errors == [], (errors, (out / "log.txt").read_text()[-3000:])
    assert {row["step"] for row in rows} == set(run.STEPS)
    assert (out / "table.md").read_text().count("\n|") >= 5


def test_tiny_run_measures_both_loops_and_trains_an_encoder_spacy_loads(tiny_kit_run):
    from transformers import AutoModel

    _, rows, _, work = tiny_kit_run
    encode = next(row for row in rows if row["step"] == "encode")
    assert encode["tokens"] > 100_000
    throughput = {row["system"]: row for row in rows if row["step"] == "throughput"}
    assert set(throughput) == {"ours", "trainer"}
    assert all(row["tokens_per_s"] > 0 and 0 < row["mfu"] for row in throughput.values())
    pretrain = next(row for row in rows if row["step"] == "pretrain")
    assert pretrain["steps"] == 6 and pretrain["tokens"] == 6 * 1024
    assert AutoModel.from_pretrained(work / "encoder").config.num_hidden_layers == 2
    tasks = {(row["task"], row["system"]): row for row in rows if row["step"] in ("ner", "textcat", "stacked")}
    assert set(tasks) == {("conll", "finetuned"), ("sst2", "finetuned"), ("conll", "stacked")}
    assert all(row["steps"] > 0 and row["infer_words_s"] > 0 for row in tasks.values())


def test_steps_block_the_lazy_imports():
    """Every step runs with gensim, jieba and matplotlib blocked (the GPU machine lacks the
    first two), so a step that imported one would fail here as it would there."""
    code = f"import sys; sys.path.insert(0, {str(REPO / 'benchmarks' / 'gpu')!r}); import run; run.block_imports('gensim,jieba'); import gensim"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1 and "import of gensim halted" in result.stderr
    assert set(run.BLOCKED_IMPORTS) == prepare.LAZY


def test_run_refuses_a_missing_kit(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "benchmarks/gpu/run.py"), "--tiny", "--kit", str(tmp_path / "none"),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "No GPU kit at" in result.stderr and "prepare.py --tiny" in result.stderr


def test_table_lists_failed_steps_first():
    rows = [{"step": "peak", "dtype": "bf16", "size": 8192, "tflops": 790.0},
            {"step": "ner", "error": "timed out after 59 s"}]
    table = run.format_table(rows, 60.0)
    assert table.index("ner: FAILED (timed out after 59 s)") < table.index("790 TFLOP/s")
