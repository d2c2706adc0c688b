"""Hostile input: files made to hang, exhaust memory, crash or be silently misread.

Every file is generated here. Each case is a reported symptom (and its siblings); the
memory- and time-heavy ones run in a child process under an address-space limit
(RLIMIT_AS), so a regression fails the test instead of swapping the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.cli import main as cli_main
from mfstudio.io import session_file as sf

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
