"""An interrupted command (SIGTERM from a scheduler, Ctrl-C) leaves no half-made output
and no hidden temporary directory (issue 12)."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "spacy_wv", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_encode_killed_by_sigterm_leaves_nothing(tiny_tokenizer_dir, data_dir, tmp_path):
    proc = start("encode", tiny_tokenizer_dir, tmp_path / "shards", data_dir / "wikipedia_en", "--batch-size", 50)
    wait_for(lambda: any(p.name.startswith(".shards.tmp-") for p in tmp_path.iterdir()), proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, output
    assert "Traceback" not in output and "Interrupted" in output
    assert list(tmp_path.iterdir()) == []


class OutputReader(threading.Thread):
    """Collects a process's output as it comes (progress bars end lines with \\r, not \\n)."""

    def __init__(self, proc: subprocess.Popen):
        super().__init__(daemon=True)
        self.fd, self.chunks = proc.stdout.fileno(), []

    def run(self) -> None:
        while chunk := os.read(self.fd, 4096):
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf8", "replace")


def test_tokenizer_interrupted_by_ctrl_c_saves_nothing(data_dir, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "spacy_wv", "tokenizer", str(tmp_path / "tok"), str(data_dir / "wikipedia_en"),
                             "--vocab-size", "2000"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reader = OutputReader(proc)
    reader.start()
    # The "Reading" bar starts once Ctrl-C is caught as a flag, with the trainer about to
    # pull the 50 MB from our iterator (reading it takes several seconds more).
    wait_for(lambda: "Reading" in reader.text, proc, timeout=120)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    output = reader.text
    assert proc.returncode == 130, output
    assert "Traceback" not in output and "Interrupted" in output
    assert list(tmp_path.iterdir()) == []
