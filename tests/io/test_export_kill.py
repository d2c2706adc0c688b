"""Kill an export with SIGKILL at random points and look at what it left.

The child slows every step that changes the disk (fsync, rename, replace, unlink, ...) and
says each one on stdout, so the parent can kill it at a chosen step (plus a random part of
the pause, landing before or after that step). A folder of results only must always hold one
run's complete results; a folder with other files must keep them untouched and its manifest
must never vouch for a mixed set. The next write cleans what the kills left.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mfstudio.io as mio
from mfstudio.io import atomic
from mfstudio.io.export import OWN_FILES
from tests.io.conftest import make_session

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

PAUSE = 0.01
KILLS = 7

CHILD = r"""
import os, sys, time
import mfstudio.io as mio
from mfstudio.io import atomic

session_file, out, mode, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
session = mio.load(session_file).session
if mode == "renames":
    atomic._exchange = lambda a, b: False  # as on systems without renameat2: two renames

def slowed(name, fn):
    def step(*a, **k):
        print(name, flush=True)
        time.sleep(pause)
        return fn(*a, **k)
    return step

for name in ("replace", "rename", "fsync", "unlink", "rmdir", "link", "mkdir"):
    setattr(os, name, slowed(name, getattr(os, name)))
atomic._exchange = slowed("exchange", atomic._exchange)
print("start", flush=True)
mio.export_results(out, session, include_session=True)
print("done", flush=True)
"""


def run_child(session_file: Path, out: Path, mode: str, kill_at: int | None, jitter: float) -> list[str]:
    """Run one export; kill it at its ``kill_at``-th disk step (None: let it finish). Returns the steps seen."""
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(session_file), str(out), mode, str(PAUSE)],
                         stdout=subprocess.PIPE, text=True)
    steps: list[str] = []
    assert p.stdout is not None
    started = False
    for line in p.stdout:
        word = line.strip()
        if word == "start":
            started = True
            continue
        if started:
            steps.append(word)
        if kill_at is not None and len(steps) == kill_at:
            time.sleep(jitter)
            p.send_signal(signal.SIGKILL)
            break
    p.stdout.close()
    p.wait(timeout=60)
    assert started and (kill_at is not None or steps[-1] == "done"), steps
    return steps


def cleaning_steps(d: Path) -> int:
    """The disk steps the next export spends removing what earlier kills left (before its own)."""
    n = 0
    for p in d.parent.iterdir():
        if p.name.startswith(f".{d.name}."):
            n += 1 + (len(list(p.iterdir())) if p.is_dir() else 0)
    if d.is_dir():
        n += sum(atomic.litter_of(p.name) in OWN_FILES for p in d.iterdir())
    return n


def files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


def litter(d: Path, user_hidden: set[str]) -> list[str]:
    inside = [p.name for p in d.iterdir() if p.name.startswith(".") and p.name not in user_hidden] if d.exists() else []
    beside = [p.name for p in d.parent.iterdir() if p.name.startswith(f".{d.name}.")]
    return inside + beside


@pytest.mark.parametrize("mode", ["exchange", "renames", "in-place"])
def test_an_export_killed_at_random_points_never_leaves_a_mixed_folder(tmp_path, mode):
    rng = random.Random(f"kill-{mode}")
    sessions = []
    refs = []
    for i, s in enumerate((make_session(steps=30), make_session(steps=5))):
        f = tmp_path / f"run{i}.mfstudio"
        mio.save_session(f, s)
        loaded = mio.load(f).session  # what the child exports, byte for byte
        mio.export_results(tmp_path / f"ref{i}", loaded, include_session=True)
        sessions.append(f)
        refs.append(files(tmp_path / f"ref{i}"))
    assert refs[0]["P.csv"] != refs[1]["P.csv"]

    parent = tmp_path / "home"
    out = parent / "results"
    parent.mkdir()
    mine: dict[str, bytes] = {}
    if mode == "in-place":  # the user's own files: never touched
        (out / "thesis").mkdir(parents=True)
        (out / "thesis" / "ch1.tex").write_text("chapter 1")
        mine = {"notes.txt": b"my notes", ".hidden": b"mine", ".notes.txt.abcd1234.tmp": b"mine, named like ours"}
        for name, data in mine.items():
            (out / name).write_bytes(data)
    current = 0
    run_child(sessions[0], out, mode, None, 0)
    # how many disk steps an export takes here, to spread the kills over
    steps = run_child(sessions[1], out, mode, None, 0)[:-1]
    total = len(steps)
    current = 1
    assert total > 15

    kill_points = [rng.randint(1 + total * k // KILLS, max(1 + total * k // KILLS, total * (k + 1) // KILLS))
                   for k in range(KILLS)]
    if mode == "renames":  # and once for sure in the gap: after the old folder went aside, before the new came in
        renames = [i + 1 for i, step in enumerate(steps) if step == "rename"]
        assert len(renames) == 2, steps
        kill_points[rng.randrange(KILLS)] = renames[1]
    outcomes = {"old": 0, "new": 0, "incomplete": 0, "repaired": 0, "litter": 0}
    for n, kill_at in enumerate(kill_points):
        this = (current + 1) % 2 if n % 3 else current  # now and then the same run again
        in_gap = mode == "renames" and kill_at == renames[1]
        run_child(
            sessions[this], out, mode, kill_at + cleaning_steps(out), 0 if in_gap else rng.uniform(0, PAUSE * 1.5)
        )
        outcomes["litter"] += bool(litter(out, set(mine)))
        if mode == "renames" and not out.exists():
            # killed between moving the old folder aside and the new one in: the next write
            # (here called directly, to look at the result) puts the complete new one there
            assert atomic.repair_folder_swap(out) == out, litter(out, set())
            outcomes["repaired"] += 1
        got = files(out)
        if mode == "in-place":
            assert {n: got[n] for n in mine} == mine and (out / "thesis" / "ch1.tex").read_text() == "chapter 1"
            ours = {k: v for k, v in got.items() if k in OWN_FILES}
            for name, data in ours.items():  # each file is whole: one run's or the other's
                assert data in (refs[0].get(name), refs[1].get(name)), name
            if mio.verify_export(out):
                outcomes["incomplete"] += 1
                continue
            got = ours
        else:
            assert not [p for p in got if p.startswith(".")]
        assert got in (refs[current], refs[this]), sorted(got)
        outcomes["new" if got == refs[this] and this != current else "old"] += 1
        current = refs.index(got)

    # the next write completes and cleans every kill's leftovers, and nothing of the user's
    before = litter(out, set(mine))
    run_child(sessions[0], out, mode, None, 0)
    assert litter(out, set(mine)) == [], before
    got = files(out)
    assert {k: v for k, v in got.items() if k in OWN_FILES} == refs[0] and mio.verify_export(out) == []
    assert {n: got[n] for n in mine} == mine and set(got) == set(refs[0]) | set(mine)
    # the kills did land mid-export: some left the old set or an incomplete one, some litter
    assert outcomes["litter"] >= 2, outcomes
    assert outcomes["old"] + outcomes["incomplete"] + outcomes["repaired"] >= 2, outcomes
    assert mode == "in-place" or outcomes["new"] >= 1, outcomes
    assert mode != "renames" or outcomes["repaired"] >= 1, outcomes
