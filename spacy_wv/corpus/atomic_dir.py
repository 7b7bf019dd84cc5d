"""Write a directory so that readers see either the old one or the complete new one."""
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union


@contextmanager
def atomic_output_dir(output_dir: Union[str, Path]) -> Iterator[Path]:
    """Yield a fresh sibling directory to write into; on success it replaces
    `output_dir` (and whatever was there), on error it is removed and `output_dir`
    is left as it was."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = output_dir.parent / f".{output_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        yield tmp_dir
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    if output_dir.exists():
        old_dir = tmp_dir.with_name(tmp_dir.name + ".old")
        os.replace(output_dir, old_dir)
        os.replace(tmp_dir, output_dir)
        shutil.rmtree(old_dir, ignore_errors=True)
    else:
        os.replace(tmp_dir, output_dir)
