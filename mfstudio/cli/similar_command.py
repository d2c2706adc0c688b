"""``mfstudio similar``: the items (users) most like one."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

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
    trained_session,
)

SIMILAR_EXAMPLES = """\
examples:
  mfstudio similar results --item Starfall
  mfstudio similar results --item Starfall --by dot --top 5
  mfstudio similar results --user u1 --json

Cosine compares the direction of two taste vectors (columns of Q for items, rows of P for users);
the dot product also multiplies by their lengths, so it favours long vectors (often the popular
items). The table ends with a sentence on why the two lists differ here. An item or user without
training ratings has no learned vector: it scores 0 and comes last. With --json, stdout is one JSON
object: {"item", "by", "similar": [{"item", "score"}, ...]} (with --user: {"user", "by", "similar":
[{"user", "score"}, ...]}), best first, the item (user) itself left out.
"""



def similar_parser() -> _Parser:
    """The parser of ``mfstudio similar``."""
    p = _Parser(
        prog="mfstudio similar",
        description="The items (or users) most like one in a trained model, by the cosine or the dot product of "
                    "their taste vectors.",
        epilog=SIMILAR_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--item", metavar="I", help="the item to find similar items for, " + LABEL_HOW.format("item"))
    p.add_argument("--user", metavar="U", help="or the user to find similar users for, " + LABEL_HOW.format("user"))
    p.add_argument("--by", choices=("cosine", "dot"), default="cosine", metavar="HOW",
                   help="cosine (the direction of the vectors only) or dot (also their lengths); default cosine")
    p.add_argument("--top", metavar="N", default="10", help="how many to list, at least 1; default 10")
    p.add_argument("--json", action="store_true", help="print the list as one JSON object (exact numbers)")
    return p



def similar(argv: Sequence[str]) -> int:
    """``mfstudio similar``: the items (or users) most like one, by cosine or dot product."""
    from mfstudio.core.explain import find_label
    from mfstudio.core.similar import compare

    args = similar_parser().parse_args(list(argv))
    if (args.item is None) == (args.user is None):
        raise UsageError("Give --item I (for similar items) or --user U (for similar users)"
                         + (", not both." if args.item is not None else "."))
    top = _whole(args.top, "--top", 1, "of at least 1")
    s = trained_session(args.results, "similar")
    kind = "item" if args.item is not None else "user"
    labels = s.ratings.items if kind == "item" else s.ratings.users
    k = find_label(labels, args.item if kind == "item" else args.user, kind, f"in {args.results}")
    c = compare(s.result.factors, s.train_entries(), kind, k, top)
    found = c.cosine if args.by == "cosine" else c.dot
    if args.json:
        doc = {kind: labels[k], "by": args.by,
               "similar": [{kind: labels[j], "score": float(v)} for j, v in zip(found.others, found.scores)]}
        print(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2))
        return EXIT_OK
    import textwrap

    from mfstudio.core.numbers import table_text

    lines = [f"{kind.capitalize()}s most like {labels[k]} by {args.by} ({_model_words(s.result)})", ""]
    if len(found):
        rows = [("rank", kind, args.by + "  ")]
        rows += [(str(n + 1), labels[j], table_text(v) + ("  " if known else " *"))  # the numbers stay aligned
                 for n, (j, v, known) in enumerate(zip(found.others, found.scores, found.known))]
        lines += _table(rows, (True, False, True))
    else:
        lines.append(f"There is no other {kind}.")
    if not found.known.all() and found.query_known:
        lines.append("  * no taste vector (no training ratings, or all zeros): it scores 0 and comes last")
    lines += ["", textwrap.fill(c.sentence, 88)]
    print("\n".join(lines))
    return EXIT_OK

