"""Hostile input: files made to hang, exhaust memory, crash or be silently misread.

Every file is generated here. Each case is a reported symptom (and its siblings); the
memory- and time-heavy ones run in a child process under an address-space limit
(RLIMIT_AS), so a regression fails the test instead of swapping the machine.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.cli import main as cli_main
from mfstudio.core.errors import MFStudioError
from mfstudio.core.ratings import Ratings
from mfstudio.io import session_file as sf
from tests.io.conftest import make_session

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev and resource limits are POSIX")
ROOT = Path(__file__).resolve().parents[2]


def one_sentence(msg: str) -> None:
    """A message a user can read: one line, no traceback, ends like a sentence, encodable."""
    assert msg and "\n" not in msg and "Traceback" not in msg, msg
    assert msg.rstrip().endswith((".", ")")), msg
    msg.encode("utf-8")


def refused(path, match: str | None = None, **kw) -> str:
    with pytest.raises(mio.FileFormatError) as err:
        mio.load(path, **kw)
    msg = str(err.value)
    one_sentence(msg)
    if match is not None:
        assert any(m in msg for m in match.split("|")), msg
    return msg


def doc_of(session) -> dict:
    return json.loads(sf.session_to_bytes(session))


def write_doc(tmp_path, doc, name="s.mfstudio") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


# -- a child process with limits ---------------------------------------------------------------
CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    limit = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, {root!r})
    import mfstudio.io as mio
    from mfstudio.core.errors import MFStudioError
    t0 = time.perf_counter()
    out = {{"ok": False, "message": ""}}
    try:
        exec(sys.argv[2])
        out["ok"] = True
    except MFStudioError as exc:
        out["message"] = str(exc)
    except MemoryError:
        out["message"] = "MemoryError"
    out["seconds"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
""")


def run_limited(code: str, *, mem_mb: int = 1024, timeout: float = 60.0) -> dict:
    """Run ``code`` (with mio imported) in a child limited to ``mem_mb`` of address space."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT)), str(mem_mb), code],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def returns_within(fn, seconds: float, unblock: Path | None = None):
    """fn()'s result or exception, failing the test if it takes longer than ``seconds``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        if unblock is not None:  # open the FIFO's other end so the blocked reader returns
            try:
                os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            t.join(5)
        pytest.fail(f"still running after {seconds} s (blocked or far too slow)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


# == 2. labels that cannot be encoded ==============================================================
SURROGATE = "\ud800"


def test_a_lone_surrogate_in_session_labels_is_refused(tmp_path):
    for where in ("users", "items"):
        d = doc_of(make_session())
        d["ratings"][where][1] = "bad" + SURROGATE
        msg = refused(write_doc(tmp_path, d), "cannot be saved|surrogate")
        assert "2" in msg  # which label


def test_a_lone_surrogate_in_genres_is_refused(tmp_path):
    d = doc_of(make_session())
    d["ratings"]["item_genres"] = [["Drama"], ["\udfff"], [], []]
    refused(write_doc(tmp_path, d), "surrogate")


def test_a_lone_surrogate_in_npz_labels_is_refused(tmp_path):
    p = tmp_path / "r.npz"
    np.savez(p, R=np.array([[1.0, 2.0], [3.0, 0.0]]), users=np.array(["a", "b" + SURROGATE]))
    refused(p, "surrogate")


def test_ratings_refuse_unencodable_labels_whoever_builds_them():
    with pytest.raises(MFStudioError, match="surrogate"):
        Ratings([0], [0], [1.0], (1, 1), users=["x\udc80"])
    with pytest.raises(MFStudioError, match="surrogate"):
        Ratings([0], [0], [1.0], (1, 1), item_genres=[["\ud83d"]])
    Ratings([0], [0], [1.0], (1, 1), users=["emoji \U0001F600 fine"])  # a real pair is a character


def test_utf16_text_with_a_lone_surrogate_gets_a_sentence(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes(b"\xff\xfe" + "u,a\nx,1\n".encode("utf-16-le") + b"\x00\xd8")
    refused(p)


def test_session_writing_never_raises_on_unencodable_text(tmp_path):
    s = make_session()
    s.result.message = "diverged \udc80 here"
    data = sf.session_to_bytes(s)  # no UnicodeEncodeError
    back, _ = sf.session_from_bytes(data)
    assert back.result is not None and back.result.message == "diverged \ufffd here"


def test_the_command_line_refuses_unencodable_labels_before_training(tmp_path, capsys):
    d = doc_of(make_session())
    d["ratings"]["users"][0] = SURROGATE
    p = write_doc(tmp_path, d)
    assert cli_main(["train", str(p), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    one_sentence(capsys.readouterr().err.strip())
    assert not (tmp_path / "out").exists()


# == 3. FIFOs, devices and files that grow ========================================================
def fifo(tmp_path, name: str) -> Path:
    p = tmp_path / name
    os.mkfifo(p)
    return p


@posix_only
@pytest.mark.parametrize("name, fmt", [("f.csv", None), ("f.mfstudio", None), ("f.npz", None), ("ml.zip", None),
                                       ("u.data", None), ("ratings.csv", None), ("f.csv", "triples"),
                                       ("f.bin", "session"), ("f.bin", "npz"), ("f.zip", "movielens")])
def test_a_fifo_is_refused_without_blocking(tmp_path, name, fmt):
    p = fifo(tmp_path, name)
    with pytest.raises(mio.FileFormatError) as err:
        returns_within(lambda: mio.load(p, fmt=fmt), 5, unblock=p)
    one_sentence(str(err.value))
    assert "not a regular file" in str(err.value) or "named pipe" in str(err.value)


@posix_only
def test_a_fifo_given_to_init_is_refused_without_blocking(tmp_path, capsys):
    data = tmp_path / "r.csv"
    data.write_text("u,a,b\nx,1,2\ny,3,\n")
    p = fifo(tmp_path, "start.npz")
    code = returns_within(lambda: cli_main(["train", str(data), "--init", str(p), "--out", str(tmp_path / "o")]),
                          5, unblock=p)
    assert code == 2
    assert "named pipe" in capsys.readouterr().err


@posix_only
def test_the_command_line_refuses_a_fifo(tmp_path):
    p = fifo(tmp_path, "f.csv")
    try:
        proc = subprocess.run([sys.executable, "-m", "mfstudio", "train", str(p), "--out", str(tmp_path / "o")],
                              capture_output=True, text=True, timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("mfstudio train on a FIFO blocks")
    assert proc.returncode == 2 and "named pipe" in proc.stderr
    one_sentence(proc.stderr.strip())


@posix_only
def test_a_movielens_folder_holding_a_fifo_does_not_block(tmp_path):
    d = tmp_path / "ml-100k"
    d.mkdir()
    os.mkfifo(d / "u.data")
    with pytest.raises(mio.FileFormatError):
        returns_within(lambda: mio.load(d), 5, unblock=d / "u.data")


@posix_only
@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("name", ["z.csv", "z.mfstudio", "z.npz", "z.zip", "u.data"])
def test_devices_and_links_to_them_are_refused_at_once(tmp_path, target, name):
    if not os.path.exists(target):
        pytest.skip(f"no {target}")
    link = tmp_path / name
    link.symlink_to(target)
    out = run_limited(f"mio.load({str(link)!r})", mem_mb=1024, timeout=60)
    assert not out["ok"] and "not a regular file" in out["message"], out
    assert out["seconds"] < 2 and out["peak_mb"] < 300, out


@posix_only
def test_a_device_named_directly_is_refused(tmp_path):
    refused("/dev/null", "not a regular file")


@posix_only
def test_the_size_limit_holds_while_reading_not_only_from_stat():
    from mfstudio.io import files

    if not os.path.exists("/proc/self/maps"):
        pytest.skip("no /proc")
    assert os.stat("/proc/self/maps").st_size == 0  # a regular file whose size says nothing
    with pytest.raises(mio.FileFormatError, match="more than MF Studio reads"):
        files.read_bytes("/proc/self/maps", limit=64)


# == 5. .npz side arrays and --init checked from their headers =====================================
def _npz_with_lazy_member(path: Path, arrays: dict, big_name: str, shape: tuple, dtype: str) -> None:
    """An .npz holding ``arrays`` and one large all-zero array written in chunks (never in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, a in arrays.items():
            buf = io.BytesIO()
            np.save(buf, a)
            zf.writestr(k + ".npy", buf.getvalue())
        dt = np.dtype(dtype)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(dt),
                                                      "fortran_order": False, "shape": shape})
        total = int(np.prod(shape)) * dt.itemsize
        with zf.open(big_name + ".npy", "w", force_zip64=True) as fh:
            fh.write(np.lib.format.magic(1, 0) + header.getvalue())
            chunk = bytes(1 << 22)
            while total > 0:
                fh.write(chunk[:min(total, len(chunk))])
                total -= len(chunk)


@pytest.mark.parametrize("name, shape, dtype, word", [
    ("users", (100_000_000,), "<U1", "users"),
    ("items", (50_000_000,), "<U2", "items"),
    ("scale", (50_000_000,), "<f8", "scale"),
])
def test_npz_side_arrays_are_checked_from_their_headers(tmp_path, name, shape, dtype, word):
    p = tmp_path / "r.npz"
    _npz_with_lazy_member(p, {"R": np.array([[1.0, 2.0], [3.0, 4.0]])}, name, shape, dtype)
    assert p.stat().st_size < 6_000_000
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1024, timeout=120)
    assert not out["ok"] and word in out["message"], out
    assert out["seconds"] < 2 and out["peak_mb"] < 250, out


@pytest.mark.parametrize("arrays, big, shape, word", [
    ({"Q": np.ones((2, 3))}, "P", (20_000, 2_500), "P"),  # 400 MB for users the data does not have
    ({"P": np.ones((2, 2))}, "Q", (2, 25_000_000), "Q"),
    ({"P": np.ones((2, 2)), "Q": np.ones((2, 3))}, "user_bias", (50_000_000,), "user_bias"),
    ({"P": np.ones((2, 2)), "Q": np.ones((2, 3))}, "global_mean", (50_000_000,), "global_mean"),
])
def test_init_arrays_are_checked_from_their_headers(tmp_path, arrays, big, shape, word):
    data = tmp_path / "r.csv"
    data.write_text("u,a,b,c\nx,1,2,3\ny,3,,4\n")
    p = tmp_path / "start.npz"
    _npz_with_lazy_member(p, arrays, big, shape, "<f8")
    code = (f"from mfstudio.cli import read_init\n"
            f"r = mio.load({str(data)!r}).session.ratings\n"
            f"read_init({str(p)!r}, None, r.shape)")
    out = run_limited(code, mem_mb=1024, timeout=120)
    assert not out["ok"] and word in out["message"], out
    assert out["seconds"] < 2 and out["peak_mb"] < 250, out


def test_init_with_an_impossible_K_is_refused_from_the_header(tmp_path):
    from mfstudio.cli import read_init

    p = tmp_path / "start.npz"
    np.savez(p, P=np.zeros((2, 0)), Q=np.zeros((0, 3)))
    with pytest.raises(MFStudioError, match="K"):
        read_init(str(p), None, (2, 3))


def test_npz_with_two_arrays_of_one_name_is_refused(tmp_path):
    p = tmp_path / "dup.npz"
    buf = io.BytesIO()
    np.save(buf, np.ones((2, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("R.npy", buf.getvalue())
            zf.writestr("R.npy", buf.getvalue())
    refused(p, "twice")


def test_a_zip_with_a_million_members_is_refused_before_it_is_listed(tmp_path):
    p = tmp_path / "many.npz"
    with zipfile.ZipFile(p, "w") as zf:
        for k in range(200_000):
            zf.writestr(f"{k}", b"")
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1024, timeout=120)
    assert not out["ok"] and "files" in out["message"], out
    assert out["seconds"] < 1, out


# == 6. one rule for numbers ==========================================================================
@pytest.mark.parametrize("cell", ["1_0", "١٢", "５", "nan", "inf", "Infinity", "0x10", "1e400", "4\u20035"])
@pytest.mark.parametrize("layout", ["matrix", "triples"])
def test_numbers_outside_the_rule_are_refused_in_files(tmp_path, cell, layout):
    p = tmp_path / "r.csv"
    if layout == "matrix":
        p.write_text(f"user,a,b\nx,1,2\ny,2,{cell}\n", encoding="utf-8")
    else:
        p.write_text(f"user,item,rating\nx,a,1\ny,b,{cell}\n", encoding="utf-8")
    msg = refused(p, fmt=layout)
    assert "Line 3" in msg, msg


def test_numbers_outside_the_rule_are_refused_in_a_large_file_too(tmp_path):
    """The vectorised path (numpy conversion of a plain large table) follows the same rule."""
    lines = ["user,item,rating"] + [f"u{i % 97},i{i % 89},{1 + i % 5}" for i in range(5000)]
    lines[4000] = "u1,i1,1_0"
    p = tmp_path / "big.csv"
    p.write_text("\n".join(lines) + "\n")
    assert "Line 4001" in refused(p)
    lines[4000] = "u1,i1,٣"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "Line 4001" in refused(p)


def test_minus_zero_is_zero_in_files(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\nx,a,-0\ny,b,3\n")
    vals = mio.load(p).session.ratings.observed.vals
    assert vals[0] == 0 and np.copysign(1.0, vals[0]) == 1.0
    p.write_text("user,a,b\nx,-0,-0.0\ny,2,3\n")
    assert mio.load(p).session.ratings.nnz == 2  # 0 means not rated: -0 too
    vals = mio.load(p, keep_zeros=True).session.ratings.observed.vals
    assert np.all(np.copysign(1.0, vals) == 1.0)


@pytest.mark.parametrize("text", ["١٢", "５", "1_0", "٣,٥", "nan", "Infinity"])
def test_numbers_outside_the_rule_are_refused_when_pasted_or_typed(text):
    from mfstudio.gui.clipboard import parse_number

    with pytest.raises(ValueError):
        parse_number(text)


def test_minus_zero_is_zero_when_pasted():
    from mfstudio.gui.clipboard import parse_number

    v = parse_number("-0")
    assert v == 0 and np.copysign(1.0, v) == 1.0


def test_movielens_lines_follow_the_rule(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::1::5::978300760\n1::2::٣::978300761\n", encoding="utf-8")
    msg = refused(d)
    assert "Line 2" in msg


@pytest.mark.parametrize("flag, value", [("--k", "٣"), ("--k", "1_0"), ("--holdout", "0_2"), ("--holdout", "٠.٢"),
                                         ("--steps", "True"), ("--alpha", "nan"), ("--patience", "３")])
def test_command_line_numbers_follow_the_rule(tmp_path, capsys, flag, value):
    data = tmp_path / "r.csv"
    data.write_text("u,a,b\nx,1,2\ny,3,\n")
    args = ["train", str(data), "--out", str(tmp_path / "o"), flag, value]
    if flag == "--patience":
        args += ["--holdout", "0.2"]
    assert cli_main(args) == 2
    one_sentence(capsys.readouterr().err.strip())


# == 6b. sentences that misled, in text files ====================================================

def test_negative_ids_in_triples_are_read_as_triples(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("-1,-2,4,881250949\n-3,-4,5,881250950\n-1,-4,3,881250951\n-5,-2,2,881250952\n")
    res = mio.load(p)
    assert res.fmt == "triples" and res.session.ratings.nnz == 4
    assert res.session.ratings.scale == (1.0, 5.0)


def test_huge_ratings_beside_timestamps_give_no_warning(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("1,2,4,881250949\n3,4,1e308,881250950\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mio.load(p)  # whatever it is read as, numpy prints nothing


def test_an_unterminated_quote_is_named(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('user,a,b\n"x,1,2\ny,3,4\nz,5,6\n')
    msg = refused(p)
    assert "quote" in msg and "line 2" in msg.lower(), msg
