"""Help ▸ What am I looking at?: one short paragraph per view, in words a non-programmer understands.

The same paragraph is the tooltip of the view's title (or tab), so the help is where the eye is.
"""

from __future__ import annotations

VIEWS: dict[str, tuple[str, str]] = {  # key: (the view's name, its paragraph)
    "grid": ("The ratings (R)", "The table of ratings people gave: one row per person (user), one column per "
             "thing rated (item). An empty cell means that person has not rated that item: filling those gaps is "
             "what the model is for. You can type, paste and clear ratings; orange cells are held out, kept "
             "hidden from training to test the model."),
    "R-hat": ("R-hat", "The model's guess for every cell, rated or not: R-hat = P times Q. Where a rating exists "
              "you see how well the model fits it; in the gaps (blue italics) you see what it predicts the person "
              "would give. The closer R-hat is to R on the rated cells, the better the fit."),
    "P": ("P", "One row per user: how much each person likes each hidden taste (k1, k2, ...). The model invents "
          "these tastes itself; a big number means the person likes that taste a lot, a negative one that they "
          "dislike it."),
    "Q": ("Q", "One column per item: how much of each hidden taste the item has. A person's predicted rating of "
          "an item is their row of P times the item's column of Q, taste by taste, added up."),
    "Biases": ("Biases", "With biases (biased-sgd) the model also learns the average rating μ, how much higher or "
               "lower than average each person rates (user bias) and how much each item is liked whatever the "
               "taste (item bias). The tastes then only explain what is left."),
    "latent map": ("Latent map", "Every person (dot) and every item (square) placed by their tastes: two tastes "
                   "are two directions on the map. People near each other like the same things; an item far "
                   "along a person's arrow is predicted high for them. The points move while the model learns."),
    "loss curve": ("Loss curve", "How wrong the model still is, step after step: the objective e (what training "
                   "makes smaller) on the left, the typical error of a rating (RMSE) on the right. A falling line "
                   "is learning; a line that jumps up is training gone wrong (too big a learning rate α)."),
    "explain": ("Why this number?", "One prediction taken apart: the average, then each bias and each taste "
                "pushing it up (blue) or down (red), until the number R-hat shows. Select any cell to see its "
                "parts."),
    "similar": ("Similar", "The items (or people) whose tastes are most like the selected one's: by direction "
                "only (cosine), and by direction times length (dot product), which favours the often-rated ones. "
                "The scatter shows how long each taste vector is against how often the item was rated."),
}


def tooltip(key: str) -> str:
    """The paragraph of the view ``key``, as a tooltip."""
    return VIEWS[key][1]


def page() -> str:
    """Every view's paragraph, for the Help ▸ What am I looking at? window (rich text)."""
    parts = [f"<p><b>{name}</b><br>{text}</p>" for name, text in VIEWS.values()]
    return "<h3>What am I looking at?</h3>" + "".join(parts)
