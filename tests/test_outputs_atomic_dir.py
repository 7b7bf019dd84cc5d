import pytest

from spacy_wv.outputs import atomic_output_dir


def test_success_replaces_the_old_directory(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf8")
    with atomic_output_dir(out) as tmp_dir:
        assert tmp_dir.parent == tmp_path and not (tmp_dir / "old.txt").exists()
        (tmp_dir / "new.txt").write_text("new", encoding="utf8")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_leaves_the_old_directory_and_no_temp(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf8")
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out) as tmp_dir:
            (tmp_dir / "half.txt").write_text("half", encoding="utf8")
            raise RuntimeError("interrupted")
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
