"""Hostile input: files made to hang, exhaust memory, crash or be silently misread.

Every file is generated here. Each case is a reported symptom (and its siblings); the
memory- and time-heavy ones run in a child process under an address-space limit
(RLIMIT_AS), so a regression fails the test instead of swapping the machine.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.cli import main as cli_main
from mfstudio.core.errors import MFStudioError
from mfstudio.core.ratings import Ratings
from mfstudio.io import session_json
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
    return json.loads(mio.session_to_bytes(session))


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
    # "seconds" is this process's CPU time: the work a refusal took, whatever else the shared machine runs
    t0 = time.process_time()
    out = {{"ok": False, "message": ""}}
    try:
        exec(sys.argv[2])
        out["ok"] = True
    except MFStudioError as exc:
        out["message"] = str(exc)
    except MemoryError:
        out["message"] = "MemoryError"
    out["seconds"] = time.process_time() - t0
    try:  # this process's own peak: ru_maxrss would count the parent's memory at fork
        status = open("/proc/self/status").read()
        out["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
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


# == 1. what the session reader returns is safe to show ==========================================
def results_dropped(res, *words: str) -> None:
    assert res.session.result is None, "invalid results must not reach the window"
    notes = [n for n in res.notices if "saved results" in n]
    assert notes, res.notices
    for w in words:
        assert any(w in n for n in notes), (w, notes)
    for n in notes:
        one_sentence(n)


@pytest.mark.parametrize("drop", ["item_bias", "user_bias"])
def test_one_bias_without_the_other_drops_the_results(tmp_path, drop):
    d = doc_of(make_session("biased-sgd"))
    d["result"]["factors"][drop] = None
    res = mio.load(write_doc(tmp_path, d))
    results_dropped(res, drop)
    assert res.session.ratings.nnz > 0


def test_biases_on_a_solver_without_biases_drop_the_results(tmp_path):
    d = doc_of(make_session("sgd"))
    d["result"]["factors"].update(user_bias=[0.0] * 4, item_bias=[0.0] * 4)
    results_dropped(mio.load(write_doc(tmp_path, d)), "bias")


@pytest.mark.parametrize("edit, word", [
    (lambda h: h["rows"][1].__setitem__(0, None), "step"),  # a NaN step
    (lambda h: h["rows"][1].__setitem__(0, 1.5), "step"),
    (lambda h: h["rows"][1].__setitem__(0, h["rows"][0][0]), "step"),  # not increasing
    (lambda h: h["rows"][1].__setitem__(0, -3), "step"),
    (lambda h: h["rows"][1].__setitem__(0, 1e300), "step"),
    (lambda h: h["rows"][1].__setitem__(0, "Infinity"), "step"),
    (lambda h: h["rows"][1].__setitem__(1, True), "history"),
    (lambda h: h["rows"][1].__setitem__(1, "7"), "history"),
    (lambda h: h["rows"][1].append(0.5), "history"),
    (lambda h: h.update(columns=h["columns"][1:]), "history"),
    (lambda h: h.update(columns=["objective"] * len(h["columns"])), "history"),
    (lambda h: h.update(rows=[[1, 2]] * 3, columns=["step", 5]), "history"),
    (lambda h: h.update(rows={"a": 1}), "history"),
])
def test_a_damaged_history_drops_the_results(tmp_path, edit, word):
    d = doc_of(make_session())
    edit(d["result"]["history"])
    results_dropped(mio.load(write_doc(tmp_path, d)), word)


@pytest.mark.parametrize("K", [10**9, 0, -1, True, 2.0, "2", 1001])
def test_an_impossible_K_drops_the_results(tmp_path, K):
    d = doc_of(make_session())
    f = d["result"]["factors"]
    f["K"] = K
    if K == 10**9:
        f.update(P=[], Q=[])
    results_dropped(mio.load(write_doc(tmp_path, d)), "K")


@pytest.mark.parametrize("edit, word", [
    (lambda f: f["P"][0].__setitem__(0, None), "P"),
    (lambda f: f["Q"][0].__setitem__(0, "Infinity"), "Q"),
    (lambda f: f["P"][0].__setitem__(0, True), "P"),
    (lambda f: f["Q"][1].__setitem__(0, "0.5"), "Q"),
    (lambda f: f.update(P="oops"), "P"),
    (lambda f: f.update(Q=[[1.0, 2.0], [3.0]]), "Q"),
    (lambda f: f.update(global_mean=None), "global_mean"),
    (lambda f: f.update(global_mean="Infinity"), "global_mean"),
    (lambda f: f.update(global_mean=True), "global_mean"),
    (lambda f: f.update(user_bias=[0.0] * 4), "bias"),
])
def test_damaged_factors_drop_the_results(tmp_path, edit, word):
    d = doc_of(make_session())
    edit(d["result"]["factors"])
    results_dropped(mio.load(write_doc(tmp_path, d)), word)


def test_damaged_biases_drop_the_results(tmp_path):
    for edit in (lambda f: f["user_bias"].__setitem__(0, None), lambda f: f.update(item_bias=[1.0]),
                 lambda f: f.update(item_bias=[[1.0] * 5])):
        d = doc_of(make_session("biased-sgd"))
        edit(d["result"]["factors"])
        results_dropped(mio.load(write_doc(tmp_path, d)), "bias")


@pytest.mark.parametrize("edit, word", [
    (lambda r: r.update(reason="exploded"), "reason"),
    (lambda r: r.update(reason=3), "reason"),
    (lambda r: r.update(message=["x"]), "message"),
    (lambda r: r.update(message="bad \ud800 text"), "message"),
    (lambda r: r.update(steps_done=-1), "steps_done"),
    (lambda r: r.update(steps_done=True), "steps_done"),
    (lambda r: r.update(steps_done=2**80), "steps_done"),
    (lambda r: r.update(elapsed_s=-1.0), "elapsed_s"),
    (lambda r: r.update(elapsed_s="Infinity"), "elapsed_s"),
    (lambda r: r.update(solver="magic"), "solver"),
    (lambda r: r.update(params={"K": "lots"}), "setting"),
    (lambda r: r.update(params={"alpha": True}), "setting"),
    (lambda r: r.update(params={"K": 7}), "K"),
    (lambda r: r.pop("factors"), "factors"),
    (lambda r: r.pop("history"), "history"),
])
def test_other_damaged_result_fields_drop_the_results(tmp_path, edit, word):
    d = doc_of(make_session())
    edit(d["result"])
    results_dropped(mio.load(write_doc(tmp_path, d)), word)


def test_a_valid_result_still_opens_whole(tmp_path):
    s = make_session("biased-sgd")
    res = mio.load(write_doc(tmp_path, doc_of(s)))
    r = res.session.result
    assert r is not None and not [n for n in res.notices if "saved results" in n]
    assert np.array_equal(r.factors.P, s.result.factors.P) and r.reason == s.result.reason


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
    data = mio.session_to_bytes(s)  # no UnicodeEncodeError
    back, _ = mio.session_from_bytes(data)
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


# == 4. session gzip bombs =========================================================================
def _gzip_with_repeated_block(path: Path, head: bytes, block: bytes, repeats: int, tail: bytes,
                              exact_crc: bool = True) -> None:
    """A gzip file of head + block * repeats + tail, written without holding the whole in memory:
    the compressed block is made once and repeated (a full flush makes it independent)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    with open(path, "wb") as fh:
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        fh.write(c.compress(head) + c.flush(zlib.Z_FULL_FLUSH))
        packed = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
        for _ in range(repeats):
            fh.write(packed)
        fh.write(c.compress(tail) + c.flush())
        crc = zlib.crc32(head)
        if exact_crc:
            for _ in range(repeats):
                crc = zlib.crc32(block, crc)
        crc = zlib.crc32(tail, crc)
        size = len(head) + len(block) * repeats + len(tail)
        fh.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def _around(key: str, n: int, m: int) -> tuple[bytes, bytes]:
    """The text of a session before and after the value of ``ratings[key]`` (n x m, labelled)."""
    doc = {"format": "mfstudio-session", "version": 1, "ratings": {
        "shape": [n, m], "users": [f"u{i}" for i in range(n)], "items": [f"i{j}" for j in range(m)], key: "@@"}}
    head, tail = json.dumps(doc).split('"@@"')
    return head.encode(), tail.encode()


def _session_head_tail() -> tuple[bytes, bytes]:
    """A valid session's text split where any amount of blank space may go."""
    head, tail = _around("entries", 2, 2)
    return head + b"[[0, 0, 4.0]]", tail


def test_a_small_gzip_that_unpacks_to_gigabytes_of_blank_space_is_refused_quickly(tmp_path):
    p = tmp_path / "bomb.mfstudio"
    head, tail = _session_head_tail()
    _gzip_with_repeated_block(p, head, b" " * (1 << 20), 1946, tail)  # 1.9 GiB of blank space, ~2 MB packed
    assert p.stat().st_size < 3_000_000
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1024, timeout=120)
    assert not out["ok"] and "unpacks to" in out["message"], out
    assert out["seconds"] < 2 and out["peak_mb"] < 250, out


def test_a_ten_gigabyte_gzip_bomb_is_refused_quickly(tmp_path):
    p = tmp_path / "bomb10.mfstudio"
    head, tail = _session_head_tail()
    _gzip_with_repeated_block(p, head, b" " * (1 << 20), 10 * 1024, tail, exact_crc=False)
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1024, timeout=120)
    assert not out["ok"] and "unpacks to" in out["message"], out
    assert out["seconds"] < 3 and out["peak_mb"] < 350, out


def test_a_small_gzip_declaring_a_grid_of_a_hundred_million_nulls_is_refused_quickly(tmp_path):
    n = 10_000
    p = tmp_path / "nulls.mfstudio"
    head, tail = _around("R", n, n)
    row = b"[" + b"null, " * (n - 1) + b"null],\n"
    last = b"[" + b"null, " * (n - 1) + b"null]]" + tail
    _gzip_with_repeated_block(p, head + b"[", row, n - 1, last)
    assert p.stat().st_size < 2_000_000
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1536, timeout=180)
    assert not out["ok"] and out["message"] != "MemoryError", out
    assert out["seconds"] < 2 and out["peak_mb"] < 250, out


def test_a_plain_grid_of_millions_of_nulls_is_refused_before_parsing(tmp_path):
    n = 3000
    p = tmp_path / "nulls.mfstudio"
    head, tail = _around("R", n, n)
    row = b"[" + b"null, " * (n - 1) + b"null]"
    p.write_bytes(head + b"[" + b", ".join([row] * n) + b"]" + tail)
    out = run_limited(f"mio.load({str(p)!r})", mem_mb=1024, timeout=120)
    assert not out["ok"] and "null" in out["message"], out
    assert out["seconds"] < 2 and out["peak_mb"] < 250, out


def test_a_large_grid_form_is_refused_with_a_sentence(tmp_path):
    n = 1200
    R = [[4.0] * n for _ in range(n)]
    d = {"format": "mfstudio-session", "version": 1,
         "ratings": {"shape": [n, n], "users": [str(i) for i in range(n)], "items": [str(i) for i in range(n)], "R": R}}
    refused(write_doc(tmp_path, d), "entries")


def test_entries_beyond_the_matrix_or_file_are_refused(tmp_path):
    d = doc_of(make_session())
    d["ratings"].pop("R")
    d["ratings"]["entries"] = [[0, 0, 4.0], [1e300, 0, 3.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: RuntimeWarning: invalid value encountered in cast
        refused(write_doc(tmp_path, d), "entries")


def test_a_second_gzip_member_is_refused(tmp_path):
    s = make_session()
    p = tmp_path / "two.mfstudio"
    p.write_bytes(gzip.compress(mio.session_to_bytes(s)) + gzip.compress(b'{"evil": 1}'))
    refused(p, "after its end|second")


def test_trailing_bytes_after_a_gzip_member_are_refused(tmp_path):
    s = make_session()
    p = tmp_path / "junk.mfstudio"
    p.write_bytes(gzip.compress(mio.session_to_bytes(s)) + b"\x00junk")
    refused(p, "after its end|second")


@pytest.mark.parametrize("packed", [False, True])
def test_a_real_large_session_still_opens(tmp_path, monkeypatch, packed):
    """The worst a real session packs (every cell rated alike, ids in order: about 10 times as lists of
    entries, under 10 as packed columns, which are compressed one by one) is well inside the unpacking
    limit, also above the size that is always allowed."""
    from mfstudio.io import session_packed

    if not packed:
        monkeypatch.setattr(session_packed, "PACK_ABOVE", 10**9)
    n, m = 1600, 1000
    idx = np.arange(n * m)
    r = Ratings(idx // m, idx % m, np.full(n * m, 5.0), (n, m))
    from mfstudio.core.session import Session

    p = tmp_path / "big.mfstudio"
    mio.save_session(p, Session(ratings=r))
    data = p.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    if packed:
        assert len(gzip.decompress(data)) < session_json.MAX_UNPACK_RATIO / 2 * len(data)
    else:
        assert len(gzip.decompress(data)) > session_json.UNPACK_FLOOR
    assert mio.load(p).session.ratings == r


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
            fh.write(header.getvalue())  # the header carries the magic
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
    z = tmp_path / "r.npz"
    np.savez(z, R=np.array([[-0.0, 2.0], [3.0, np.nan]]))
    vals = mio.load(z, keep_zeros=True).session.ratings.observed.vals
    assert vals.size == 3 and np.all(np.copysign(1.0, vals) == 1.0)


@pytest.mark.parametrize("text", ["١٢", "５", "1_0", "٣,٥", "nan", "Infinity"])
def test_numbers_outside_the_rule_are_refused_when_pasted_or_typed(text):
    from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, read_number

    with pytest.raises(ValueError):
        read_number(text, UNAMBIGUOUS_COMMA)


def test_minus_zero_is_zero_when_pasted():
    from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, read_number

    v = read_number("-0", UNAMBIGUOUS_COMMA)
    assert v == 0 and np.copysign(1.0, v) == 1.0


def test_movielens_lines_follow_the_rule(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::1::5::978300760\n1::2::٣::978300761\n", encoding="utf-8")
    msg = refused(d)
    assert "Line 2" in msg


def test_movielens_title_ids_follow_the_rule(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("1::1::5::978300760\n2::1::4::978300761\n", encoding="utf-8")
    (d / "movies.dat").write_text("١::Not this (2000)::Drama\n1::This one (1999)::Comedy\n", encoding="utf-8")
    res = mio.load(d)
    assert res.session.ratings.items == ("This one (1999)",)
    assert any("could not be read" in n and "line 1" in n for n in res.notices)


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


# == 7. misleading sentences ===========================================================================
def test_session_patience_without_hold_out_does_not_blame_a_flag(tmp_path, capsys):
    from mfstudio.core.session import Session

    s = make_session(hold_out=False)
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, Session(ratings=s.ratings, params={"K": 2, "steps": 20}, patience=3))
    code = cli_main(["train", str(p), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert "leave out --patience" not in err
    assert code == 0 and "patience" in err  # trained, and a note says the session's patience was not used


def test_no_numpy_warning_before_any_message(tmp_path):
    cases = {
        "a.mfstudio": json.dumps({"format": "mfstudio-session", "version": 1, "ratings": {
            "shape": [2, 2], "users": ["a", "b"], "items": ["c", "d"], "entries": [[1e300, 0, 4]]}}),
        "b.csv": "1,2,4,881250949\n3,4,1e308,881250950\n",
        "c.csv": "user,item,rating\nx,a,1e308\ny,b,-1e308\n",
        "d.csv": "1e300,2,3\n4,5,1\n",
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                mio.load(p)
            except mio.FileFormatError as exc:
                one_sentence(str(exc))


def test_no_file_is_read_through_pickle(tmp_path):
    p = tmp_path / "r.npz"
    np.savez(p, R=np.array([[1.0]]), users=np.array([object()], dtype=object))
    refused(p, "Python objects")


def test_stat_of_an_ordinary_file_is_regular(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("u,a\nx,1\n")
    assert stat.S_ISREG(os.stat(p).st_mode) and mio.load(p).session.ratings.nnz == 1


# == 8. session JSON: one meaning per value ======================================================

@pytest.mark.parametrize("edit, where", [
    (lambda d: d["ratings"]["R"][0].__setitem__(1, True), "ratings.R"),
    (lambda d: d["ratings"]["R"][0].__setitem__(1, "5"), "ratings.R"),
    (lambda d: d["ratings"].update(shape=["4", "5"]), "ratings.shape"),
    (lambda d: d["ratings"].update(shape=[True, 5]), "ratings.shape"),
    (lambda d: d["ratings"].update(shape=[4.0, 5]), "ratings.shape"),
    (lambda d: d["ratings"].update(scale=[True, 5]), "ratings.scale"),
    (lambda d: d["ratings"].update(scale=["1", 5]), "ratings.scale"),
    (lambda d: d.update(held_out=[[True, 0]]), "held_out"),
    (lambda d: d.update(held_out=[["0", 0]]), "held_out"),
    (lambda d: d.update(params={"K": True}), "settings"),
    (lambda d: d.update(params={"K": "٣"}), "settings"),
    (lambda d: d.update(params={"alpha": "1_0"}), "settings"),
    (lambda d: d.update(patience=True), "patience"),
    (lambda d: d.update(patience=10**30), "patience"),
    (lambda d: d.update(zeros_are_missing=1), "zeros_are_missing"),
])
def test_session_values_of_the_wrong_kind_are_refused(tmp_path, edit, where):
    d = doc_of(make_session())
    edit(d)
    assert where in refused(write_doc(tmp_path, d))


def test_session_entries_refuse_booleans(tmp_path):
    d = doc_of(make_session())
    d["ratings"].pop("R")
    d["ratings"]["entries"] = [[0, 0, True], [1, 1, 3.0]]
    refused(write_doc(tmp_path, d), "ratings.entries")


@pytest.mark.parametrize("text", [
    '{"format": "mfstudio-session", "format": "other", "version": 1}',
    '{"format": "mfstudio-session", "version": 1, "ratings": {"shape": [1, 1], "shape": [2, 2]}}',
])
def test_duplicate_keys_are_refused(tmp_path, text):
    p = tmp_path / "dup.mfstudio"
    p.write_text(text)
    refused(p, "twice")


def test_duplicate_keys_deep_in_a_real_session_are_refused(tmp_path):
    text = mio.session_to_bytes(make_session()).decode()
    text = text.replace('"reason":', '"reason": "budget", "reason":', 1)
    p = tmp_path / "dup.mfstudio"
    p.write_text(text)
    refused(p, "'reason' twice")


def test_minus_zero_in_a_session_is_zero(tmp_path):
    d = doc_of(make_session())
    d["ratings"]["R"][0][0] = -0.0
    vals = mio.load(write_doc(tmp_path, d)).session.ratings.observed.vals
    assert np.all(np.copysign(1.0, vals) == 1.0)
