"""Atomic writes: all or nothing, read-only files refused, symlinks followed, litter cleaned."""

import os
from pathlib import Path

import pytest

from mfstudio.io import atomic
from mfstudio.io.errors import FileFormatError


def test_failed_multi_write_restores_every_file(tmp_path, monkeypatch):
    a, b, c = tmp_path / "P.csv", tmp_path / "Q.csv", tmp_path / "R_hat.csv"
    a.write_text("old P")
    c.write_text("old R")
    real = os.replace
    def flaky(src, dst):
        if Path(dst).name == "R_hat.csv" and str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(FileFormatError):
        atomic.write_files({a: "new P", b: "new Q", c: "new R"})
    assert a.read_text() == "old P" and c.read_text() == "old R" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.csv", "R_hat.csv"]

def test_a_directory_in_the_way_changes_nothing(tmp_path):
    (tmp_path / "P.csv").write_text("old")
    (tmp_path / "Q.csv").mkdir()
    with pytest.raises(FileFormatError):
        atomic.write_files({tmp_path / "P.csv": "new", tmp_path / "Q.csv": "x"})
    assert (tmp_path / "P.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.csv", "Q.csv"]


def test_a_symlinked_file_is_written_through_next_to_its_target(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "s.mfstudio"
    target.write_text("old")
    link = tmp_path / "s.mfstudio"
    link.symlink_to(target)
    temps = []
    real_mkstemp = atomic.tempfile.mkstemp
    def recording(*a, **k):
        temps.append(Path(k["dir"]))
        return real_mkstemp(*a, **k)
    monkeypatch.setattr(atomic.tempfile, "mkstemp", recording)
    atomic.atomic_write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert set(temps) == {elsewhere}  # the temp file is on the target's filesystem, not the link's


def test_a_read_only_file_is_not_replaced(tmp_path):
    p = tmp_path / "session.mfstudio"
    p.write_text("old")
    os.chmod(p, 0o444)
    with pytest.raises(FileFormatError, match=r"session\.mfstudio is read-only, so it was not replaced"):
        atomic.atomic_write(p, "new")
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["session.mfstudio"]


def test_set_aside_never_overwrites(tmp_path):
    names = []
    for text in ("first", "second", "third"):
        p = tmp_path / "recovery.mfstudio"
        p.write_text(text)
        names.append(atomic.set_aside(p, "recovery-unreadable").name)
        assert not p.exists()
    assert names == ["recovery-unreadable.mfstudio", "recovery-unreadable-2.mfstudio", "recovery-unreadable-3.mfstudio"]
    assert [(tmp_path / n).read_text() for n in names] == ["first", "second", "third"]


def test_the_next_write_cleans_the_temp_files_a_killed_write_left(tmp_path):
    p = tmp_path / "s.mfstudio"
    ours = [".s.mfstudio.abcd1234.tmp", ".s.mfstudio.zz_99zzz.bak"]
    theirs = [".other.csv.abcd1234.tmp", ".s.mfstudio.tmp", "s.mfstudio.abcd1234.tmp", ".s.mfstudio.abcd1234.txt"]
    for name in ours + theirs:
        (tmp_path / name).write_text("x")
    (tmp_path / ".s.mfstudio.dir12345.tmp").mkdir()  # not a file: not ours
    atomic.atomic_write(p, "new")
    assert sorted(os.listdir(tmp_path)) == sorted(["s.mfstudio", ".s.mfstudio.dir12345.tmp", *theirs])


def test_read_only_means_the_mode_bits_too_but_not_a_windows_folder_attribute(tmp_path, monkeypatch):
    f, d = tmp_path / "f", tmp_path / "d"
    f.write_text("x")
    d.mkdir()
    assert not atomic.is_read_only(f) and not atomic.is_read_only(d) and not atomic.is_read_only(tmp_path / "none")
    os.chmod(f, 0o444)  # refused even for root, whom os.access lets write anything
    os.chmod(d, 0o555)
    try:
        assert atomic.is_read_only(f) and atomic.is_read_only(d)
        monkeypatch.setattr(atomic.sys, "platform", "win32")
        assert atomic.is_read_only(f) and not atomic.is_read_only(d)
    finally:
        os.chmod(d, 0o755)


def test_replace_folder_through_a_symlink_switches_its_target_and_keeps_the_link(tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    (real / "a").write_text("old")
    link.symlink_to(real, target_is_directory=True)
    assert atomic.replace_folder(link, {"a": "new", "b": b"2"})
    assert link.is_symlink() and (real / "a").read_text() == "new" and sorted(os.listdir(real)) == ["a", "b"]
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]
