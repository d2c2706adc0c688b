"""The export folder rule: one run's complete results, other files untouched, litter cleaned,
read-only files refused, symlinks followed, and a folder that cannot be swapped written in place."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import mfstudio.io as mio
from mfstudio.io import atomic
from mfstudio.io.export import OWN_FILES
from tests.io.conftest import make_session

SGD = [*mio.RESULT_FILES, mio.HELD_OUT_FILE, mio.MANIFEST]  # the runs hold ratings out
BIASED = [*mio.RESULT_FILES, *mio.BIAS_FILES, mio.HELD_OUT_FILE, mio.MANIFEST]


@pytest.fixture(scope="module")
def runs():
    """Two sgd runs with different results and one biased-sgd run."""
    return make_session(steps=30), make_session(steps=5), make_session("biased-sgd", steps=5)


def contents(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def reference(tmp_path: Path, session, name: str) -> dict[str, bytes]:
    ref = tmp_path / "refs" / name
    mio.export_results(ref, session)
    return contents(ref)


def hidden_siblings(d: Path) -> list[str]:
    return sorted(p.name for p in d.parent.iterdir() if p.name.startswith(f".{d.name}."))


def test_a_new_folder_is_made_whole_with_normal_permissions(tmp_path, runs):
    out = tmp_path / "out"
    written = mio.export_results(out, runs[0])
    assert sorted(p.name for p in written) == sorted(SGD) and sorted(os.listdir(out)) == sorted(SGD)
    assert mio.verify_export(out) == [] and hidden_siblings(out) == []
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (out / "P.csv").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_results_folder_becomes_exactly_the_new_run(tmp_path, runs):
    out = tmp_path / "out"
    mio.export_results(out, runs[2])  # biased: has user_bias.csv and item_bias.csv
    assert sorted(os.listdir(out)) == sorted(BIASED)
    os.chmod(out, 0o750)
    os.chmod(out / "P.csv", 0o640)
    inode = out.stat().st_ino
    mio.export_results(out, runs[1])
    assert contents(out) == reference(tmp_path, runs[1], "b")  # no bias files from the earlier run
    assert out.stat().st_ino != inode  # swapped in whole, not rewritten file by file
    assert out.stat().st_mode & 0o777 == 0o750 and (out / "P.csv").stat().st_mode & 0o777 == 0o640
    assert hidden_siblings(out) == []


def test_a_folder_with_other_files_keeps_them_and_gets_a_manifest(tmp_path, runs):
    out = tmp_path / "Documents"
    (out / "mine").mkdir(parents=True)
    (out / "mine" / "thesis.tex").write_text("chapter 1")
    (out / "notes.txt").write_text("keep me")
    (out / ".hidden").write_text("mine too")
    inode = out.stat().st_ino
    mio.export_results(out, runs[2])
    mio.export_results(out, runs[0])
    assert out.stat().st_ino == inode  # written in place
    assert (out / "notes.txt").read_text() == "keep me" and (out / ".hidden").read_text() == "mine too"
    assert (out / "mine" / "thesis.tex").read_text() == "chapter 1"
    assert mio.verify_export(out) == []
    ref = reference(tmp_path, runs[0], "a")
    assert {n: b for n, b in contents(out).items() if n in OWN_FILES} == ref
    # the earlier run's bias files went (they were exactly as it wrote them) ...
    assert not (out / "user_bias.csv").exists()
    # ... but one the user changed since is theirs now, and stays
    mio.export_results(out, runs[2])
    (out / "item_bias.csv").write_text("edited by hand")
    mio.export_results(out, runs[0])
    assert (out / "item_bias.csv").read_text() == "edited by hand" and not (out / "user_bias.csv").exists()
    assert "item_bias.csv" not in {f for f in ref} and mio.verify_export(out) == []


def test_verify_export_tells_a_complete_set_from_a_broken_one(tmp_path, runs):
    out = tmp_path / "out"
    assert mio.verify_export(out) == [mio.MANIFEST]
    mio.export_results(out, runs[0])
    assert mio.verify_export(out) == []
    (out / "Q.csv").write_text("half written")
    (out / "run.json").unlink()
    assert mio.verify_export(out) == ["Q.csv", "run.json"]
    (out / mio.MANIFEST).write_text("{not json")
    assert mio.verify_export(out) == [mio.MANIFEST]


@pytest.mark.parametrize("others", [False, True], ids=["results-only", "with-other-files"])
def test_a_read_only_result_file_is_refused_and_nothing_written(tmp_path, runs, others):
    out = tmp_path / "out"
    out.mkdir()
    if others:
        (out / "notes.txt").write_text("mine")
    mio.export_results(out, runs[0])
    os.chmod(out / "R_hat.csv", 0o444)
    before = contents(out)
    with pytest.raises(mio.FileFormatError) as err:
        mio.export_results(out, runs[1])
    msg = str(err.value)
    assert msg == (f"{out / 'R_hat.csv'} is read-only, so nothing was written; "
                   "make it writable or choose another folder.")
    assert contents(out) == before and hidden_siblings(out) == []


def test_a_read_only_folder_is_refused(tmp_path, runs):
    out = tmp_path / "out"
    mio.export_results(out, runs[0])
    before = contents(out)
    os.chmod(out, 0o555)
    try:
        with pytest.raises(mio.FileFormatError, match="The folder .* is read-only, so nothing was written"):
            mio.export_results(out, runs[1])
    finally:
        os.chmod(out, 0o755)
    assert contents(out) == before


def test_a_folder_named_like_a_result_file_is_refused(tmp_path, runs):
    out = tmp_path / "out"
    (out / "P.csv").mkdir(parents=True)
    with pytest.raises(mio.FileFormatError, match=r"P\.csv is a folder, so the results cannot be written there"):
        mio.export_results(out, runs[0])
    assert os.listdir(out) == ["P.csv"] and os.listdir(out / "P.csv") == []


def test_a_symlinked_folder_stays_a_link_and_its_target_gets_the_results(tmp_path, runs):
    real = tmp_path / "real"
    link = tmp_path / "link"
    mio.export_results(real, runs[0])
    link.symlink_to(real, target_is_directory=True)
    mio.export_results(link, runs[1])
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert contents(real) == reference(tmp_path, runs[1], "b")


@pytest.mark.parametrize("why", ["mount point", "other filesystem", "parent read-only", "working folder"])
def test_a_folder_that_cannot_be_swapped_is_written_in_place(tmp_path, runs, monkeypatch, why):
    out = tmp_path / "out"
    mio.export_results(out, runs[0])
    inode = out.stat().st_ino
    ref = reference(tmp_path, runs[1], "b")
    if why == "mount point":
        monkeypatch.setattr(atomic.os.path, "ismount", lambda p: Path(p) == out)
    elif why == "other filesystem":
        def exdev(*a):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(atomic, "_exchange", exdev)
        monkeypatch.setattr(atomic.os, "rename", exdev)
    elif why == "parent read-only":
        def eacces(*a, **k):
            raise PermissionError(errno.EACCES, "Permission denied")
        monkeypatch.setattr(atomic.tempfile, "mkdtemp", eacces)
    else:
        monkeypatch.chdir(out)
    mio.export_results(out if why != "working folder" else ".", runs[1])
    assert out.stat().st_ino == inode and contents(out) == ref
    assert hidden_siblings(out) == []


def test_swapping_without_an_exchange_call_also_works(tmp_path, runs, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # other systems: two renames
    out = tmp_path / "out"
    mio.export_results(out, runs[0])
    mio.export_results(out, runs[1])
    assert contents(out) == reference(tmp_path, runs[1], "b") and hidden_siblings(out) == []


def test_a_swap_interrupted_between_its_renames_is_finished_by_the_next_write(tmp_path, runs, monkeypatch):
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    mio.export_results(out, runs[0])
    real_rename = os.rename
    def interrupted(src, dst):
        if Path(dst) == out and "-new-" in str(src):  # moving the new folder in: the old one is aside
            raise KeyboardInterrupt
        return real_rename(src, dst)
    monkeypatch.setattr(atomic.os, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mio.export_results(out, runs[1])
    monkeypatch.setattr(atomic.os, "rename", real_rename)
    assert contents(out) == reference(tmp_path, runs[0], "a")  # the old folder was put back
    # a kill at that point cannot put it back: both parts are left beside a missing folder
    new = tmp_path / ".out.mfstudio-new-abcd1234"
    real_rename(out, tmp_path / ".out.mfstudio-old-abcd1234")
    mio.export_results(tmp_path / "b", runs[1])
    real_rename(tmp_path / "b", new)
    assert atomic.repair_folder_swap(out) == out
    assert contents(out) == reference(tmp_path, runs[1], "b") and hidden_siblings(out) == []
    # and the next export does the same by itself
    real_rename(out, new)
    (tmp_path / ".out.mfstudio-old-abcd1234").mkdir()
    mio.export_results(out, runs[2])
    assert contents(out) == reference(tmp_path, runs[2], "c") and hidden_siblings(out) == []


def test_litter_of_a_killed_export_is_cleaned_and_nothing_else(tmp_path, runs):
    out = tmp_path / "out"
    out.mkdir()
    ours = [".P.csv.abcd1234.tmp", ".results.npz.x_9zzzzz.bak", ".mfstudio-export.json.0123abcd.bak"]
    theirs = [".notes.txt.abcd1234.tmp", ".P.csv.tmp", ".P.csv.toolongname.tmp", "notes.txt"]
    for name in ours + theirs:
        (out / name).write_bytes(b"x" * 1000)
    (tmp_path / ".out.mfstudio-new-zzzz9999").mkdir()  # a killed swap's half-built folder
    (tmp_path / ".out.mfstudio-new-zzzz9999" / "P.csv").write_text("half")
    (tmp_path / ".out.mfstudio-old-mine").mkdir()  # not our name pattern
    keep = tmp_path / ".out.mfstudio-old-keep1234"  # our pattern, but holding a folder: not ours to delete
    (keep / "sub").mkdir(parents=True)
    mio.export_results(out, runs[0])
    names = set(os.listdir(out))
    assert not names & set(ours) and set(theirs) <= names
    assert hidden_siblings(out) == [".out.mfstudio-old-keep1234", ".out.mfstudio-old-mine"]
    # in a folder of results only, the litter goes with the swap
    only = tmp_path / "only"
    mio.export_results(only, runs[0])
    (only / ".Q.csv.abcd1234.tmp").write_bytes(b"x" * 1000)
    mio.export_results(only, runs[1])
    assert sorted(os.listdir(only)) == sorted(SGD)


def test_a_full_disk_leaves_the_old_folder_and_creates_nothing(tmp_path, runs, monkeypatch):
    out = tmp_path / "out"
    mio.export_results(out, runs[0])
    before = contents(out)
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(mio.FileFormatError, match=r"Could not write .*out \(No space left on device\)"):
        mio.export_results(out, runs[1])
    assert contents(out) == before and hidden_siblings(out) == []
    nested = tmp_path / "a" / "b" / "c"
    with pytest.raises(mio.FileFormatError, match="No space left on device"):
        mio.export_results(nested, runs[1])
    assert sorted(os.listdir(tmp_path)) == ["out"]  # neither c nor the a/b it would have needed


def test_a_fifo_named_like_the_manifest_does_not_block_an_export(tmp_path):
    import os
    import threading

    import mfstudio.io as mio
    from tests.io.conftest import make_session

    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "mfstudio-export.json")
    s = make_session(hold_out=False)
    done: list[object] = []

    def export() -> None:
        try:
            done.append(mio.export_results(out, s))
        except Exception as exc:  # a sentence is fine; hanging is not
            done.append(exc)

    t = threading.Thread(target=export, daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive() and done
