"""A damaged numba cache is compiled anew instead of stopping the program at every start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = """
{guard}
from numba import njit


@njit(cache=True)
def twice_plus_one(x):
    return 2 * x + 1


print(twice_plus_one(20))
"""


def run(folder: Path, guarded: bool) -> subprocess.CompletedProcess:
    (folder / "kernel.py").write_text(KERNEL.format(guard="from mfstudio.core import _cache_guard" if guarded else ""))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}"}
    env.pop("NUMBA_CACHE_DIR", None)
    return subprocess.run([sys.executable, "-c", "import kernel"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)


def damage(folder: Path) -> int:
    files = [p for p in (folder / "__pycache__").iterdir() if p.suffix in (".nbi", ".nbc")]
    for p in files:
        p.write_bytes(p.read_bytes()[:12])
    return len(files)


def test_damaged_cache_files_are_a_miss_and_are_written_anew(tmp_path):
    first = run(tmp_path, guarded=True)
    assert first.returncode == 0 and first.stdout.strip() == "41", first.stderr
    assert damage(tmp_path) == 2  # its index and its data
    again = run(tmp_path, guarded=True)
    assert again.returncode == 0 and again.stdout.strip() == "41", again.stderr
    index = next((tmp_path / "__pycache__").glob("*.nbi"))
    assert len(index.read_bytes()) > 12  # written anew: the next start loads it
    assert run(tmp_path, guarded=True).stdout.strip() == "41"


def test_without_the_guard_a_damaged_cache_stops_the_program(tmp_path):
    """What the guard is for (numba itself raises on a truncated file)."""
    assert run(tmp_path, guarded=False).returncode == 0
    damage(tmp_path)
    broken = run(tmp_path, guarded=False)
    assert broken.returncode != 0 and ("pickle" in broken.stderr.lower() or "EOFError" in broken.stderr)
