"""``mfstudio recommend``: the best items for a new person (folded in) or a user of the data."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from mfstudio.cli.common import (
    EXIT_OK,
    LABEL_HOW,
    RESULTS_HELP,
    UsageError,
    _json_safe,
    _model_words,
    _Parser,
    _table,
    _whole,
    flag_name,
    trained_session,
)
from mfstudio.core.errors import MFStudioError
from mfstudio.core.params import TOP_N

RECOMMEND_EXAMPLES = """\
examples:
  mfstudio recommend results --rate "Starfall=5" --rate "Laugh Track=1" --rate "Deep Orbit=4"
  mfstudio recommend results --user u1 --top 3
  mfstudio recommend ml100k --rate "Star Wars (1977)=5" --rate "Fargo (1996)=4" --top 10 --json

With --rate the new person is folded in: their taste vector (and bias, for biased-sgd) is the exact
minimiser of the trained solver's own objective for their ratings, with every item fixed. Items nobody
rated in training play no part; with no usable rating the predictions are the fallback (the mean
rating, plus each item's bias for biased-sgd). With --user the user's trained row is used, as
recommendations.csv does. Items the person rated are never recommended (for --user: those rated in
training). The order follows the unclipped score; "predicted" is clipped to the rating scale. With
--json, stdout is one JSON object: {"user_factors": [...], "user_bias" (null without biases),
"recommendations": [{"item", "score" (unclipped), "ratings" (the item's training ratings)}, ...]}.
"""


def recommend_parser() -> _Parser:
    """The parser of ``mfstudio recommend``."""
    p = _Parser(
        prog="mfstudio recommend",
        description="Recommend items with a trained model: to a new person, from a few ratings (--rate, folded in "
                    "without retraining), or to a user of the data (--user).",
        epilog=RECOMMEND_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--rate", metavar="ITEM=RATING", action="append", default=[],
                   help="a new person's rating of an item, e.g. --rate \"Starfall=4\"; give it once per item. ITEM "
                        "is named " + LABEL_HOW.format("item") + "; RATING is a number on the data's rating scale")
    p.add_argument("--user", metavar="U",
                   help="a user of the data instead of a new person, " + LABEL_HOW.format("user"))
    p.add_argument(flag_name(TOP_N), dest="top", metavar="N",
                   help="how many items to recommend, 0 to 1,000; default the session's (5 unless it says otherwise)")
    p.add_argument("--min-ratings", metavar="M", default="auto",
                   help="recommend only items with at least M training ratings; default auto "
                        "(10, or half the median item's count when that is smaller)")
    p.add_argument("--json", action="store_true",
                   help="print the person's factors and the recommendations as one JSON object (exact numbers)")
    return p



def rated_flags(texts: Sequence[str], ratings: Any, where: str) -> list[tuple[int, float]]:
    """The --rate ITEM=RATING flags as (item index, rating) pairs; the item by its label, the rating a number.

    The last ``=`` separates the two (a label may hold one, a number never does). The scale, a finite
    value and one rating per item are checked by the fold-in itself.
    """
    from mfstudio.core.explain import find_label
    from mfstudio.core.numbers import NumberError, read_number

    lo, hi = ratings.scale
    out = []
    for text in texts:
        item, eq, value = text.rpartition("=")
        if not eq or not item.strip():
            example = ratings.items[0] if ratings.items else "ITEM"
            raise UsageError(f"--rate {text!r} is not ITEM=RATING; give the item's name, = and a number, e.g. "
                             f"--rate \"{example}={hi:g}\".")
        i = find_label(ratings.items, item, "item", where)
        try:
            v = read_number(value)
            reason = "is blank" if v is None else ""
        except NumberError as exc:
            reason = str(exc)
        if reason:
            raise UsageError(f"The rating in --rate {text!r} {reason}; give a number from {lo:g} to {hi:g}.")
        assert v is not None
        out.append((i, v))
    return out


def recommend(argv: Sequence[str]) -> int:
    """``mfstudio recommend``: the best items for a new person (folded in from --rate) or a user (--user)."""
    from mfstudio.core.explain import find_label
    from mfstudio.core.foldin import fold_in, trained_user

    args = recommend_parser().parse_args(list(argv))
    if args.rate and args.user is not None:
        raise UsageError("Give --rate (a new person's ratings) or --user (a user of the data), not both.")
    if not args.rate and args.user is None:
        raise UsageError("Say who the recommendations are for: --rate ITEM=RATING once per item for a new person, "
                         "or --user U for a user of the data.")
    try:
        top = None if args.top is None else int(TOP_N.validate(args.top))
    except MFStudioError as exc:
        raise UsageError(f"Bad value for --top: {exc}") from None
    if top == 0:
        raise UsageError("Bad value for --top: recommend lists at least 1 item; give --top 1 or more.")
    min_ratings = 0 if args.min_ratings.strip().lower() == "auto" else \
        _whole(args.min_ratings, "--min-ratings", 1, "of training ratings of at least 1, or auto")
    s = trained_session(args.results, "recommend")
    where = f"in {args.results}"
    r, ratings = s.result, s.ratings
    train = s.train_entries()
    if args.user is not None:
        u = find_label(ratings.users, args.user, "user", where)
        row = trained_user(ratings, r.factors, train, u, r.solver)
        who = ratings.users[u]
    else:
        row = fold_in(ratings, r.factors, train, r.solver, r.params, rated_flags(args.rate, ratings, where))
        n = len(row.rated)
        who = f"a new person who rated {n:,} item{'s' if n != 1 else ''}"
    rec = row.recommendations(s.top_n if top is None else top, min_ratings=min_ratings)
    if args.json:
        if row.note:
            print(f"Note: {row.note}", file=sys.stderr)
        doc = {"user_factors": [float(x) for x in row.p],
               "user_bias": None if row.user_bias is None else float(row.user_bias),
               "recommendations": [{"item": ratings.items[i], "score": float(v), "ratings": int(c)}
                                   for i, v, c in zip(rec.item, rec.score, rec.item_ratings)]}
        print(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2))
        return EXIT_OK
    import textwrap

    from mfstudio.core.numbers import short_text, table_text

    lines = [f"Recommendations for {who} ({_model_words(r)})", ""]
    if len(rec):
        rows = [("rank", "item", "predicted", "score", "ratings")]
        rows += [(str(k), label, table_text(p, 2), table_text(v), f"{c:,}") for k, label, p, v, c in rec.rows(ratings)]
        lines += _table(rows, (True, False, True, True, True))
    else:
        lines.append(f"Nothing to recommend: every item is rated or has fewer than {rec.min_ratings:,} training "
                     f"rating{'s' if rec.min_ratings != 1 else ''}.")
    tastes = ", ".join(f"k{k + 1} {short_text(float(x), True)}" for k, x in enumerate(row.p))
    bias = "" if row.user_bias is None else f"; bias {short_text(row.user_bias, True)}"
    lines += ["", textwrap.fill(f"Tastes: {tastes}{bias}.", 88)]
    if row.note:
        lines.append(textwrap.fill(row.note, 88))
    print("\n".join(lines))
    return EXIT_OK

