"""``mfstudio explain``: one prediction of a trained model, term by term."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from mfstudio.cli.common import (
    EXIT_OK,
    LABEL_HOW,
    RESULTS_HELP,
    _json_safe,
    _model_words,
    _Parser,
    trained_session,
)
from mfstudio.core.explain_implicit import VERB
from mfstudio.core.solvers import SOLVERS

EXPLAIN_EXAMPLES = """\
examples:
  mfstudio explain results --user u1 --item B
  mfstudio explain results/session.mfstudio --user "User 1" --item "Item 3" --json
  mfstudio explain ml100k --user 196 --item "Star Wars (1977)"

The terms are the global mean, the user's and the item's bias (biased-sgd only) and one term
P[u,k]*Q[k,i] per latent feature k1..kK; they add up to the prediction, the cell of R_hat.csv.
What R-hat shows is that prediction clipped to the rating scale. With --json, stdout is one JSON
object: {"user", "item", "prediction" (unclipped), "shown" (clipped), "actual" (null if not rated),
"terms": [{"name", "value"}, ...]}, with term names "mean", "user bias", "item bias", "k1" ... "kK".
A user or item without training ratings gets the fallback: the mean (and the other side's bias) and
no factor terms.

A model of implicit data (implicit-als: counts of plays, clicks, purchases) is explained the way Hu,
Koren & Volinsky (2008, section 5) do it, by the user's own items: each item j the user has in training
adds s_ij * c_uj (how alike j and the item are in this user's eyes, times the user's confidence in j),
listed with its count and its share of the score, largest first; they add up to the score P[u]*Q[:,i]
(with a "rest" row while the factors are not yet converged). --verb words the sentence ("because you
played X"). With --json: {"user", "item", "form": "item-based", "score", "because": [{"item", "count",
"confidence", "similarity", "value", "share"}, ...], "rest", "sentence"}.
"""



def explain_parser() -> _Parser:
    """The parser of ``mfstudio explain``."""
    p = _Parser(
        prog="mfstudio explain",
        description="Why this number? Take one prediction of a trained model apart: the mean, the biases and "
                    "each latent feature's P[u,k]*Q[k,i], what is shown after clipping, and the actual rating.",
        epilog=EXPLAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--user", metavar="U", required=True, help="the user (row), " + LABEL_HOW.format("user"))
    p.add_argument("--item", metavar="I", required=True, help="the item (column), " + LABEL_HOW.format("item"))
    p.add_argument("--json", action="store_true",
                   help="print the breakdown as one JSON object (exact numbers) instead of a table")
    p.add_argument("--verb", metavar="WORD", default=VERB,
                   help=f"implicit data: the verb of 'because you ... X' (default {VERB!r}; e.g. played, clicked)")
    return p



def explanation_text(e: Any, heading: str) -> str:
    """A breakdown as the readable table of ``mfstudio explain``, then its sentence and the rotation note."""
    import textwrap

    from mfstudio.core.explain import rotation_note

    rows = [("part", "P[u,k]", "Q[k,i]", "value"), *e.rows()]
    w = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = [heading, ""]
    for r in rows:
        lines.append(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}".rstrip())
    lines += ["", textwrap.fill(e.sentence, 88), textwrap.fill(rotation_note(e.biased), 88)]
    return "\n".join(lines)


def item_based_text(e: Any, heading: str) -> str:
    """An implicit model's item-based breakdown as the readable table of ``mfstudio explain``, then its sentence."""
    import textwrap

    rows = [("the user has", "count", "adds", "share"), *e.rows()]
    w = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = [heading, ""]
    for r in rows:
        lines.append(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}".rstrip())
    note = ("Each item the user has adds how alike it is to this one in the user's eyes (s_ij) times the "
            "confidence in it (1 + confidence x count); Hu, Koren & Volinsky 2008, section 5.")
    lines += ["", textwrap.fill(e.sentence, 88), textwrap.fill(note, 88)]
    return "\n".join(lines)


def explain(argv: Sequence[str]) -> int:
    """``mfstudio explain``: one cell of a trained model's R_hat, term by term."""
    from mfstudio.core.explain import explain as explain_cell
    from mfstudio.core.explain import find_label

    args = explain_parser().parse_args(list(argv))
    s = trained_session(args.results, "explain")
    where = f"in {args.results}"
    u = find_label(s.ratings.users, args.user, "user", where)
    i = find_label(s.ratings.items, args.item, "item", where)
    r = s.result
    if getattr(SOLVERS.get(r.solver), "implicit", False):  # Hu et al.'s item-based form
        from mfstudio.core.explain_implicit import explain_implicit

        p = SOLVERS[r.solver].resolve_params(r.params)
        e = explain_implicit(s.ratings, r.factors, s.train_entries(), u, i, float(p["confidence"]),
                             float(p["beta"]), args.verb)
        if args.json:
            print(json.dumps(_json_safe(e.to_json()), ensure_ascii=False, indent=2))
        else:
            print(item_based_text(e, f"{e.user_label} and {e.item_label} ({_model_words(r)}), by the user's items"))
        return EXIT_OK
    e = explain_cell(s.ratings, r.factors, u, i, s.held_out_cells, r.solver)
    if args.json:
        print(json.dumps(_json_safe(e.to_json()), ensure_ascii=False, indent=2))
    else:
        steps = f", after {r.steps_done:,} step{'s' if r.steps_done != 1 else ''}" if r.steps_done else ""
        print(explanation_text(e, f"{e.user_label} and {e.item_label} ({r.solver}, K = {r.factors.K}{steps})"))
    return EXIT_OK

