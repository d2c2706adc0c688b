"""Generate resources/lessons/*.mfslesson, the lessons of Help ▸ Lessons.

Run: python tools/make_lessons.py  (fixed seeds: the output is the same every time)

Before writing, every claim the pages make about a run is checked by training the lesson's
session (lesson 2's alpha diverges and the smaller one trains; lesson 3's validation error rises
while its training error falls; ...); the figures are printed, and a claim that does not hold stops
the script with nothing written. tests/core/test_lessons.py checks the shipped files are what
this script makes now and checks the claims again on them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from mfstudio.core.examples import load_example  # noqa: E402
from mfstudio.core.ladder import rung_errors  # noqa: E402
from mfstudio.core.lesson import Action, Lesson, Page  # noqa: E402
from mfstudio.core.lessons import LESSONS, lesson_path  # noqa: E402
from mfstudio.core.ranking import ranking_metrics  # noqa: E402
from mfstudio.core.recommend import recommend  # noqa: E402
from mfstudio.core.session import Session  # noqa: E402
from mfstudio.core.training import Training  # noqa: E402
from mfstudio.io.lesson_file import lesson_to_bytes  # noqa: E402

NOTEBOOK = {"K": 2, "steps": 10_000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0}
TOO_BIG, FIXED = 0.1, 0.01  # lesson 2's learning rates
OVERFIT = {"K": 4, "steps": 2000, "alpha": 0.01, "beta": 0.0, "tol": 0.0, "seed": 116}  # lesson 3
HOLDOUT = 0.25
BIASED = {"K": 2, "steps": 200, "alpha": 0.005, "beta": 0.02, "tol": 0.0, "seed": 0}  # biased-sgd's defaults
PLAIN = {"alpha": 0.01, "steps": 2000}  # lesson 4's sgd, without biases

CLICKS = {"K": 4, "steps": 15, "seed": 0}  # lesson 6's implicit-als: four taste groups, four factors
CLICKS_SPLIT_SEED = 1  # lesson 6 holds out a fifth of the plays (HOLDOUT_CLICKS) drawn with this seed
HOLDOUT_CLICKS = 0.2
TOP = 10  # the k of precision@k and recall@k

TUNING = ("solver", "K", "steps", "alpha", "beta", "tol", "seed")
RUN = ("holdout", "patience", "top_n")


def notebook() -> Lesson:
    session = Session(ratings=load_example("example-1"), solver="sgd", params=dict(NOTEBOOK))
    pages = (
        Page("The ratings R",
             "The grid is the notebook's Example 1: R, the ratings 4 users gave 4 items on a scale of 1 to 5. "
             "An empty cell is a 0 in the notebook: that user has not rated that item.\n\n"
             "Filling in those empty cells is the whole point: a good guess there is a recommendation."),
        Page("Two small matrices, P and Q",
             "The notebook guesses R as the product of two small matrices. P has one row of K = 2 numbers for "
             "each user, Q one column of K = 2 numbers for each item.\n\n"
             "The guess for user i and item j, R_hat[i][j], is row i of P times column j of Q. P and Q start "
             "as random numbers, so at first R_hat is far from R.", view="P"),
        Page("Press Train",
             "Press *Train*. MF Studio now does what the notebook's loop does: for steps = 10,000 rounds it "
             "visits every rating, measures the error e = R[i][j] - R_hat[i][j], and nudges row i of P and "
             "column j of Q a little to make that error smaller.\n\n"
             "alpha = 0.0002 is how big each nudge is; beta = 0.02 keeps the numbers in P and Q from growing "
             "large.", view="Printout", action=Action("train")),
        Page("The printout",
             "Every 1,000 steps the notebook printed R_hat, P and Q. The Printout tab shows the same blocks, "
             "numbered as the notebook numbers them (step 0 is after the first round).\n\n"
             "Read them from the top: where R has a rating, R_hat comes closer to it with every block.",
             view="Printout"),
        Page("The empty cells",
             "Now look at R-hat: the cells that are empty in R hold numbers too. They are the model's guesses, "
             "how user 1 might rate item 1 for example.\n\n"
             "Nobody told the model those ratings; it made them from the tastes it found in P and Q.",
             view="R-hat"),
    )
    return Lesson("What the notebook does", pages, session, hide=frozenset({"solver", "tol", *RUN}))


def learning_rate() -> Lesson:
    params = {**NOTEBOOK, "steps": 1000, "alpha": TOO_BIG}
    session = Session(ratings=load_example("example-1"), solver="sgd", params=params)
    pages = (
        Page("A bigger nudge",
             "The notebook's learning rate, alpha = 0.0002, is small, so it needs many steps. Why not take "
             "bigger ones?\n\n"
             "This lesson sets alpha = 0.1, five hundred times larger, with steps = 1,000."),
        Page("Press Train",
             "Press *Train* and watch the loss curve. Within a few steps the error shoots up instead of down, and "
             "MF Studio stops the run: it *diverged*.\n\n"
             "Each nudge to P and Q was so big that it jumped past the right values and landed further away; "
             "the next nudge, bigger still, jumped further.", action=Action("train")),
        Page("Make alpha smaller",
             "The message under the run says what to do: MF Studio tried smaller learning rates from the same "
             "start and suggests alpha = 0.01.\n\n"
             "Set alpha to 0.01, ten times smaller, and press *Train* again. Now the error falls and stays down: "
             "after 1,000 steps R_hat is close to R wherever R has a rating.",
             action=Action("train", params={"alpha": FIXED})),
        Page("Not too small either",
             "Now try the notebook's alpha = 0.0002 with the same 1,000 steps. Nothing goes wrong, but when the "
             "steps run out R_hat is still about half a star away from R.\n\n"
             "A good learning rate is as large as it can be without diverging.",
             action=Action("train", params={"alpha": NOTEBOOK["alpha"]})),
    )
    hide = {"solver", "K", "beta", "tol", "seed", *RUN}
    return Lesson("Too big a learning rate", pages, session, hide=frozenset(hide))


def more_factors() -> Lesson:
    ratings = load_example("movie-night")
    split = ratings.split(HOLDOUT, OVERFIT["seed"])
    cells = np.stack([split.val.rows, split.val.cols], axis=1).astype(np.int64)
    session = Session(ratings=ratings, held_out_cells=cells, solver="sgd", params=dict(OVERFIT), holdout=HOLDOUT)
    pages = (
        Page("Training and validation",
             "A quarter of Movie night's ratings are held out: the model never trains on them. MF Studio checks "
             "the model on them, ratings it has not seen: that is the *validation error*.\n\n"
             "The training error says how well R_hat fits the ratings it learned from."),
        Page("What the curves show",
             "On opening, the model trained for 2,000 steps with K = 4 and beta = 0. Look at the RMSE panel of "
             "the loss curve: the training error falls almost to zero, but the validation error is lowest after "
             "about a hundred steps and then rises.\n\n"
             "The model has learned the training ratings by heart, noise and all, and guesses the hidden ones "
             "worse."),
        Page("Fewer factors",
             "Set K to 2 and press *Train*. With two numbers per person and per film the model cannot memorise "
             "every rating, and its validation error ends lower than with K = 4.\n\n"
             "Movie night was made from two tastes, so two factors are enough.",
             action=Action("train", params={"K": 2})),
        Page("Too few",
             "Now try K = 1. One number cannot tell the two tastes apart, and both errors stay high.\n\n"
             "Between too few and too many is the K that guesses best, and the validation error is how to "
             "find it.", action=Action("train", params={"K": 1})),
        Page("A brake: beta",
             "Back at K = 4, set beta to 0.1 and train. beta penalises large numbers in P and Q, so the model "
             "cannot bend itself to every training rating.\n\n"
             "The validation error ends far lower than with beta = 0: with a brake, more factors do less harm.",
             action=Action("train", params={"K": 4, "beta": 0.1})),
    )
    hide = {"solver", "steps", "alpha", "tol", "seed", "holdout", "patience", "top_n"}
    return Lesson("More factors is not always better", pages, session, hide=frozenset(hide),
                  start_step=OVERFIT["steps"])


def biases() -> Lesson:
    session = Session(ratings=load_example("movie-night"), solver="biased-sgd", params=dict(BIASED))
    pages = (
        Page("Generous people, popular films",
             "Some people rate everything high, and some films are liked by almost everyone. The biased model "
             "writes that down before any taste:\n\n"
             "R_hat[u][i] = mean + user bias + item bias + row u of P times column i of Q.\n\n"
             "The Biases tab shows each person's and each film's bias, in stars above or below the mean.",
             view="Biases"),
        Page("The ladder",
             "The Ladder tab builds the prediction one part at a time. With the mean alone every guess is the "
             "same number, and it misses by almost a star.\n\n"
             "Adding the user biases, then the item biases, brings the error down before a single taste factor "
             "is used.", view="Ladder"),
        Page("Then the tastes",
             "The two factors do the rest: each adds a direction of taste, and the error falls again with each.\n\n"
             "Together with the biases they fit the ratings far better than any part alone.", view="Ladder"),
        Page("Without biases",
             "Now switch the solver to sgd, the notebook's model, which has no mean and no biases, and press "
             "*Train*.\n\n"
             "Its ladder has only factor rungs, and the first factor alone misses by more than the mean alone "
             "did: it has to carry the average rating and everyone's generosity as well as a taste.",
             view="Ladder", action=Action("train", solver="sgd", params=dict(PLAIN))),
    )
    hide = {"tol", "seed", *RUN}
    return Lesson("Why biases matter", pages, session, hide=frozenset(hide), start_view="Ladder",
                  start_step=BIASED["steps"])


def newcomer() -> Lesson:
    session = Session(ratings=load_example("movie-night"), solver="biased-sgd", params=dict(BIASED))
    pages = (
        Page("Twelve people, fifteen films",
             "On opening, the model trained on Movie night: 12 people and 15 films.\n\n"
             "The Recommendations tab lists, for each person, the films they have not seen with the highest "
             "R_hat.", view="Recommendations"),
        Page("Add yourself",
             "Open *Add me* and rate just one film, one you know or can guess at.\n\n"
             "MF Studio works out a row of P for you from your rating, keeping the films' Q as they were "
             "trained.", view="Add me"),
        Page("What does it recommend?",
             "Look at the films it recommends you. With one rating it knows very little of your taste.\n\n"
             "Compare your list with the item biases in the Biases tab: how much of it is simply the films "
             "most people like?", view="Add me"),
        Page("Cold start",
             "This is the *cold start* problem: a recommender knows a newcomer only through their few "
             "ratings.\n\n"
             "Rate a second and a third film and watch your list change as your row of P takes shape. This is "
             "why many services ask new users to rate a few things first.", view="Add me"),
    )
    hide = {*TUNING, "holdout", "patience", "step", "reset"}
    return Lesson("A newcomer with one rating", pages, session, hide=frozenset(hide), start_view="Add me",
                  start_step=BIASED["steps"])


def ratings_vs_clicks() -> Lesson:
    ratings = load_example("listening")
    split = ratings.split(HOLDOUT_CLICKS, CLICKS_SPLIT_SEED)
    cells = np.stack([split.val.rows, split.val.cols], axis=1).astype(np.int64)
    session = Session(ratings=ratings, held_out_cells=cells, solver="implicit-als", params=dict(CLICKS),
                      holdout=HOLDOUT_CLICKS)
    pages = (
        Page("Plays, not stars",
             "This grid is a listening log: how many times each of 50 listeners played each of 40 artists. "
             "Nobody gave a rating. A number is simply how often something happened.\n\n"
             "A blank cell means *never played*. That is not a bad rating: maybe the listener has never heard "
             "of the artist. Most real recommenders learn from data like this: plays, clicks and purchases."),
        Page("Every cell counts",
             "Press *Train*. The solver is *implicit ALS*. It turns every cell into a preference: 1 if the "
             "listener played the artist, 0 if not. The blanks count too, as a weak 0.\n\n"
             "It trusts a cell more the more plays it has: confidence = 1 + confidence weight x plays. So a "
             "hundred plays say \"likes this\" loudly; one play only whispers it.",
             action=Action("train")),
        Page("Judge it by its top ten",
             "A fifth of the plays were hidden before training. There is no star to predict, so ask a "
             "different question: of the ten artists the model puts first for a listener (leaving out those "
             "they already play), how many are hidden ones they really played?\n\n"
             "That share is *precision@10*; *recall@10* is the share of a listener's hidden artists that made "
             "the top ten. Here implicit ALS finds about three quarters of them."),
        Page("What it recommends",
             "Open the Recommendations tab. Pick a listener and compare the list with the artists they play: "
             "most suggestions come from the genres they already love. Nobody told the model about genres; "
             "it found the taste groups in the plays alone.", view="Recommendations"),
        Page("The same plays read as ratings",
             "Now switch the solver to *als*, which reads the numbers as ratings, and press *Train*. It fits "
             "the play counts where there are plays and never looks at the blanks, so an artist nobody "
             "played looks no worse than a favourite.\n\n"
             "Its top ten finds far fewer of the hidden plays, less than half. With clicks, what people did "
             "*not* do carries information too.", view="Recommendations", action=Action("train", solver="als")),
    )
    hide = {"tol", "seed", "holdout", "patience", "relevance"}
    return Lesson("Ratings vs. clicks", pages, session, hide=frozenset(hide))


MAKERS = {"notebook": notebook, "learning-rate": learning_rate, "more-factors": more_factors, "biases": biases,
          "newcomer": newcomer, "ratings-vs-clicks": ratings_vs_clicks}


def clicks_figures(lesson: Lesson) -> dict[str, float]:
    """Lesson 6's claims: implicit-als finds about three quarters of the held-out plays in its top ten, als on the
    same plays read as ratings less than half; most of implicit-als's recommendations are of a listener's own
    genres."""
    s = lesson.session
    assert s.ratings.implicit and s.ratings.shape == (50, 40), "lesson 6: the listening log is not 50 x 40 plays"
    clicks, stars = train(s), train(s, solver="als")
    # every held-out interaction is relevant: the threshold is below the smallest count, 1
    m = {name: ranking_metrics(t.factors, t.split.train, t.split.val, TOP, 0.5) for name, t in
         (("implicit-als", clicks), ("als", stars))}
    p_clicks, p_stars = m["implicit-als"][f"precision@{TOP}"], m["als"][f"precision@{TOP}"]
    r_clicks, r_stars = m["implicit-als"][f"recall@{TOP}"], m["als"][f"recall@{TOP}"]
    assert 0.7 <= r_clicks <= 0.8, "lesson 6: implicit-als does not find about three quarters of the hidden plays"
    assert r_stars < 0.5 and p_clicks > 1.5 * p_stars, "lesson 6: als does not find far fewer, less than half"
    recs = recommend(s.ratings, clicks.factors, TOP, train=clicks.split.train, min_ratings=0)
    genres = s.ratings.item_genres
    assert genres is not None
    o = clicks.split.train
    own = 0
    for u in range(s.ratings.n_users):  # the share of a listener's top ten in the two genres they play most
        played = {}
        for j, v in zip(o.cols[o.rows == u].tolist(), o.vals[o.rows == u].tolist()):
            played[genres[j][0]] = played.get(genres[j][0], 0) + v
        top2 = set(sorted(played, key=played.__getitem__, reverse=True)[:2])
        own += sum(genres[j][0] in top2 for j in recs.item[recs.user == u].tolist())
    share = own / len(recs.item)
    assert share > 0.6, "lesson 6: most recommendations are not of the listener's own genres"
    return {"precision_implicit_als": p_clicks, "precision_als": p_stars, "recall_implicit_als": r_clicks,
            "recall_als": r_stars, "own_genre_share": share}


# -- the claims, checked by training ------------------------------------------------------------
def train(session: Session, **changes: object) -> Training:
    """A finished training of ``session`` with some parameters (or the solver) changed."""
    solver = str(changes.pop("solver", session.solver))
    params = {**(session.params if solver == session.solver else {}), **changes}
    t = Training(session.ratings, solver, params, holdout=session.split_source(), patience=session.patience)
    t.run_to_end()
    return t


def check(lessons: dict[str, Lesson]) -> dict[str, dict[str, float]]:
    """The figures behind each lesson's pages; an AssertionError when a page would say something untrue."""
    figures: dict[str, dict[str, float]] = {}

    s = lessons["notebook"].session
    t = train(s)
    h = t.history.arrays()
    printed = h[np.isin(h[:, 0], np.arange(1, 10_001, 1000))][:, 2]  # after the printouts' steps 0, 1000, ...
    assert len(printed) == 10 and np.all(np.diff(printed) < 0), "lesson 1: R_hat does not come closer each block"
    figures["notebook"] = {"rmse_step_0": float(printed[0]), "rmse_end": float(h[-1, 2])}

    s = lessons["learning-rate"].session
    big, fixed, small = train(s), train(s, alpha=FIXED), train(s, alpha=NOTEBOOK["alpha"])
    assert big.reason.value == "diverged" and big.step <= 10, "lesson 2: alpha = 0.1 does not diverge at once"
    assert big.suggestion == {"alpha": FIXED} and "α = 0.01" in big.message, "lesson 2: another alpha is suggested"
    f_rmse, s_rmse = fixed.current().train_rmse, small.current().train_rmse
    assert fixed.reason.value == "budget" and f_rmse < 0.05, "lesson 2: alpha = 0.01 does not come close to R"
    assert 0.35 < s_rmse < 0.65, "lesson 2: alpha = 0.0002 is not about half a star away after 1,000 steps"
    figures["learning-rate"] = {"diverged_at_step": big.step + 1, "rmse_alpha_0.01": f_rmse,
                                "rmse_alpha_0.0002": s_rmse}

    s = lessons["more-factors"].session
    assert len(s.held_out_cells) == round(HOLDOUT * s.ratings.nnz), "lesson 3: not a quarter of the ratings held out"
    runs = {"K4": train(s), "K2": train(s, K=2), "K1": train(s, K=1), "K4_beta0.1": train(s, beta=0.1)}
    h = runs["K4"].history.arrays()
    val, tr = h[:, 4], h[:, 2]
    best = int(np.argmin(val))
    end = {k: float(r.history.arrays()[-1, 4]) for k, r in runs.items()}
    assert 50 <= h[best, 0] <= 300, "lesson 3: the validation error is not lowest after about a hundred steps"
    assert val[-1] - val[best] > 0.1 and np.all(np.diff(tr[best:]) <= 0), "lesson 3: no rise while training falls"
    assert tr[-1] < 0.05, "lesson 3: the training error does not fall almost to zero"
    assert end["K2"] < end["K4"] - 0.3, "lesson 3: K = 2 does not end lower than K = 4"
    k1 = runs["K1"].history.arrays()[-1]
    assert k1[4] > end["K2"] + 0.3 and k1[2] > 0.5, "lesson 3: K = 1 does not stay high"
    assert end["K4_beta0.1"] < end["K4"] - 0.3, "lesson 3: beta = 0.1 does not end far lower"
    figures["more-factors"] = {"val_best": float(val[best]), "val_best_step": int(h[best, 0]), "val_end": end["K4"],
                               "train_end": float(tr[-1]), "val_end_K2": end["K2"], "val_end_K1": float(k1[4]),
                               "train_end_K1": float(k1[2]), "val_end_K4_beta0.1": end["K4_beta0.1"]}

    s = lessons["biases"].session
    t = train(s)
    rungs = [e.train_rmse for e in rung_errors(t.factors, t.split.train)]
    assert 0.85 < rungs[0] < 1.0, "lesson 4: the mean alone does not miss by almost a star"
    assert np.all(np.diff(rungs) < 0), "lesson 4: a rung of the ladder does not lower the error"
    plain = train(s, solver="sgd", **PLAIN)
    plain_rungs = [e.train_rmse for e in rung_errors(plain.factors, plain.split.train)]
    assert plain_rungs[0] > rungs[0], "lesson 4: sgd's first factor alone is not further off than the mean"
    figures["biases"] = {"ladder": rungs, "sgd_ladder": plain_rungs}  # type: ignore[dict-item]

    s = lessons["newcomer"].session
    assert s.ratings.shape == (12, 15), "lesson 5: Movie night is not 12 people and 15 films"
    t = train(s)
    assert t.reason.value == "budget", "lesson 5: the model does not train for its steps"
    figures["newcomer"] = {"train_rmse": t.current().train_rmse}

    if "ratings-vs-clicks" in lessons:
        figures["ratings-vs-clicks"] = clicks_figures(lessons["ratings-vs-clicks"])
    return figures


def build(names: list[str] | None = None) -> dict[str, bytes]:
    """The lessons' files, name -> bytes, in LESSONS' order (each title as LESSONS lists it); ``names``: only
    these."""
    lessons = {name: MAKERS[name]() for name in LESSONS if names is None or name in names}
    for name, lesson in lessons.items():
        assert lesson.title == LESSONS[name], f"{name}: the title differs from mfstudio.core.lessons.LESSONS"
    return {name: lesson_to_bytes(lesson) for name, lesson in lessons.items()}


def main() -> None:
    lessons = {name: MAKERS[name]() for name in LESSONS}
    for name, numbers in check(lessons).items():
        print(f"{name}: " + ", ".join(f"{k} {np.round(v, 4).tolist()}" for k, v in numbers.items()))
    for name, data in build().items():
        out = lesson_path(name)
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(data)
        print(f"wrote {out}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
