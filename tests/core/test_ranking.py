"""The ranking metrics: a hand-computed example, a plain numpy reference on random data, edge cases, the
schedule of a training run and the history's ranking columns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfstudio.core.examples import load_example
from mfstudio.core.history import HISTORY_COLUMNS
from mfstudio.core.ranking import (
    RankingEvaluator,
    evaluation_interval,
    metric_names,
    ranking_k,
    ranking_metrics,
    ranking_names,
    relevance_threshold,
    relevant,
    shown_name,
)
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers.base import Factors
from mfstudio.core.training import StopReason, Training


def obs(cells: list[tuple[int, int, float]]) -> Observed:
    a = np.array(cells, dtype=float).reshape(-1, 3)
    return Observed(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2])


# Three users, five items; P is the identity, so each user's scores are a row of Q.
SCORES = np.array([[0.9, 0.8, 0.7, 0.6, 0.5],    # user 0
                   [0.2, 0.1, 0.3, 0.4, 0.5],    # user 1
                   [0.5, 0.4, 0.3, 0.2, 0.1]])   # user 2
TRAIN = obs([(0, 1, 5), (1, 3, 4), (1, 4, 2), (2, 0, 4)])
HELD = obs([(0, 0, 5), (0, 3, 4), (0, 4, 2),   # user 0: relevant (>= 4) items 0 and 3
            (1, 0, 4),                         # user 1: relevant item 0
            (2, 2, 3)])                        # user 2: nothing relevant, so skipped
FACTORS = Factors(np.eye(3), SCORES.copy())


def test_a_hand_computed_example_at_k_2():
    # user 0: candidates 0, 2, 3, 4 (item 1 is trained) ranked 0 (0.9), 2 (0.7), 3 (0.6), 4 (0.5); top 2 = 0, 2
    #   hits 1 (item 0 at rank 1): precision 1/2, recall 1/2,
    #   NDCG = (1/log2 2) / (1/log2 2 + 1/log2 3) = 1 / 1.6309 = 0.6131, AP = (1/1) / min(2, 2) = 0.5
    # user 1: candidates 0, 1, 2 (3 and 4 trained) ranked 2 (0.3), 0 (0.2), 1 (0.1); top 2 = 2, 0
    #   hits 1 (item 0 at rank 2): precision 1/2, recall 1/1,
    #   NDCG = (1/log2 3) / (1/log2 2) = 0.6309, AP = (1/2) / min(2, 1) = 0.5
    # user 2: no held-out rating of 4 or more: skipped
    m = ranking_metrics(FACTORS, TRAIN, HELD, 2, 4.0)
    assert list(m) == ["precision@2", "recall@2", "ndcg@2", "map@2"]
    ideal_2 = 1 + 1 / math.log2(3)
    assert m["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert m["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert m["ndcg@2"] == pytest.approx((1 / ideal_2 + 1 / math.log2(3)) / 2)
    assert m["ndcg@2"] == pytest.approx(0.622038, abs=1e-6)
    assert m["map@2"] == pytest.approx((0.5 + 0.5) / 2)


def test_k_larger_than_the_candidates_divides_precision_by_k():
    # k = 4. user 0: top 4 = 0, 2, 3, 4, hits at ranks 1 and 3: precision 2/4, recall 1,
    #   NDCG = (1 + 1/log2 4) / (1 + 1/log2 3) = 1.5 / 1.6309 = 0.9197, AP = (1/1 + 2/3) / 2 = 0.8333
    # user 1: only 3 candidates, top = 2, 0, 1, hit at rank 2: precision 1/4 (k, not 3), recall 1,
    #   NDCG = 1/log2 3 = 0.6309, AP = (1/2) / min(4, 1) = 0.5
    m = ranking_metrics(FACTORS, TRAIN, HELD, 4, 4.0)
    assert m["precision@4"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert m["recall@4"] == pytest.approx(1.0)
    assert m["ndcg@4"] == pytest.approx((1.5 / (1 + 1 / math.log2(3)) + 1 / math.log2(3)) / 2)
    assert m["map@4"] == pytest.approx(((1 + 2 / 3) / 2 + 0.5) / 2)
    big = ranking_metrics(FACTORS, TRAIN, HELD, 50, 4.0)  # more than there are items
    assert big["precision@50"] == pytest.approx((2 / 50 + 1 / 50) / 2) and big["recall@50"] == 1.0


def test_the_threshold_decides_what_is_relevant_and_users_without_are_skipped():
    at_3 = ranking_metrics(FACTORS, TRAIN, HELD, 2, 3.0)  # now user 2's item 2 (rated 3) counts
    # user 2: candidates 1 (0.4), 2 (0.3), 3, 4; top 2 = 1, 2: hit at rank 2: precision 1/2, recall 1
    assert at_3["precision@2"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 2) / 3)
    assert at_3["recall@2"] == pytest.approx((1 / 2 + 1 + 1) / 3)
    none = ranking_metrics(FACTORS, TRAIN, HELD, 2, 5.5)  # no held-out rating reaches it
    assert tuple(none) == metric_names(2) and all(math.isnan(v) for v in none.values())
    empty = ranking_metrics(FACTORS, TRAIN, obs([]), 10, 4.0)
    assert all(math.isnan(v) for v in empty.values())
    skipped = RankingEvaluator(TRAIN, HELD, 5, 2, 4.0)
    assert skipped.users.tolist() == [0, 1] and skipped.cells == 10


def test_ties_go_to_the_lower_item_and_nan_scores_come_last():
    Q = np.array([[1.0, 2.0, 2.0, 2.0, np.nan]])  # items 1, 2 and 3 tie
    f = Factors(np.ones((1, 1)), Q)
    held = obs([(0, 3, 5), (0, 4, 5)])
    m = ranking_metrics(f, obs([(0, 0, 1)]), held, 2, 4.0)  # top 2 = 1, 2: item 3 loses the tie
    assert m["precision@2"] == 0.0
    m = ranking_metrics(f, obs([(0, 0, 1)]), held, 4, 4.0)  # top 4 = 1, 2, 3, then 4 (NaN) last
    assert m["precision@4"] == pytest.approx(2 / 4)
    assert m["map@4"] == pytest.approx((1 / 3 + 2 / 4) / 2)


def reference(scores: np.ndarray, train: Observed, held: Observed, k: int, threshold: float) -> dict[str, float]:
    """The definitions, one user at a time, with a full sort."""
    per_user = []
    for u in range(scores.shape[0]):
        relevant = set(held.cols[(held.rows == u) & (held.vals >= threshold)].tolist())
        if not relevant:
            continue
        trained = set(train.cols[train.rows == u].tolist())
        candidates = np.array([j for j in range(scores.shape[1]) if j not in trained])
        s = np.where(np.isnan(scores[u, candidates]), -np.inf, scores[u, candidates])
        top = candidates[np.lexsort((candidates, -s))][:k]
        rel = np.array([j in relevant for j in top], dtype=float)
        hits = rel.sum()
        ranks = np.arange(1, len(top) + 1)
        best = min(k, len(relevant))
        ideal = sum(1 / math.log2(r + 1) for r in range(1, best + 1))
        per_user.append([hits / k, hits / len(relevant), float(np.sum(rel / np.log2(ranks + 1))) / ideal,
                         float(np.sum(rel * np.cumsum(rel) / ranks)) / best])
    if not per_user:
        return dict.fromkeys(metric_names(k), math.nan)
    return dict(zip(metric_names(k), np.mean(per_user, axis=0).tolist()))


@pytest.mark.parametrize("biased", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_metrics_match_a_plain_numpy_reference_on_random_data(seed, biased):
    rng = np.random.default_rng(seed)
    n, m, K = 37, 23, 3
    cells = rng.choice(n * m, 300, replace=False)
    rows, cols = cells // m, cells % m
    vals = rng.integers(1, 6, len(cells)).astype(float)
    R = Ratings(rows, cols, vals, (n, m))
    split = R.split(0.3, seed)
    f = Factors(rng.normal(size=(n, K)), rng.normal(size=(K, m)))
    if biased:
        f = Factors(f.P, f.Q, rng.normal(size=n), rng.normal(size=m), 3.5)
    f.with_fallback(split.train)  # cold users and items predict the fallback (ties among them)
    expected = f.predict()
    for k in (1, 5, 10, 40):
        for threshold in (3.0, 4.0):
            want = reference(expected, split.train, split.val, k, threshold)
            got = RankingEvaluator(split.train, split.val, m, k, threshold)(f)
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (k, threshold)


def test_names_thresholds_and_the_k_of_names():
    assert metric_names(10) == ("precision@10", "recall@10", "ndcg@10", "map@10")
    assert shown_name("ndcg@10") == "NDCG@10" and shown_name("map@5") == "MAP@5"
    assert ranking_k(["step", *metric_names(7)]) == 7 and ranking_k(["precision@7", "recall@7"]) is None
    assert relevance_threshold(None, (1.0, 5.0)) == 4.0 and relevance_threshold(None, (1.0, 10.0)) == 7.75
    assert relevance_threshold(3.5, (1.0, 5.0)) == 3.5
    with pytest.raises(ValueError):
        RankingEvaluator(TRAIN, HELD, 5, 0, 4.0)


def test_the_schedule_keeps_evaluation_a_small_share_of_training():
    # MovieLens-100K with a fifth held out: ~940 users evaluated x 1,682 items, 80,000 training ratings, K = 20:
    # one evaluation 940 * 1,682 * (0.6 + 20/25) + 20,000 = 2.23 M, a tenth of a step 80,000 * 24 / 10 = 0.19 M
    assert evaluation_interval(940 * 1682, 20, 80_000) == 16
    assert evaluation_interval(940 * 1682, 1, 80_000) == 32  # a cheaper step: rarer
    assert evaluation_interval(6040 * 3706, 20, 800_000) == 32  # MovieLens-1M
    assert evaluation_interval(3, 20, 1_000_000) == 1  # cheap next to a step (few users to score): every step
    assert evaluation_interval(4 * 4, 2, 13) == 128  # the notebook's 4 x 4: the fixed cost bounds it


# -- in a training run -------------------------------------------------------------------------
def movie_night(**kw) -> Training:
    return Training(load_example("movie-night"), "sgd", {"K": 3, "steps": 600, "alpha": 0.01, "tol": 0},
                    holdout=0.3, **kw)


def test_a_run_with_a_hold_out_has_ranking_columns_evaluated_on_schedule():
    t = movie_night()
    assert t.history.columns == HISTORY_COLUMNS + metric_names(10) and t.rank_every > 1
    snaps = list(t.run(chunk_seconds=1e-6))
    final = snaps[-1]
    assert final.finished and list(final.ranking) == list(metric_names(10))
    assert all(math.isfinite(v) for v in final.ranking.values())
    h = t.history.arrays()
    evaluated = h[np.isfinite(h[:, 7]), 0].astype(int)
    want = [s for s in range(t.rank_every, 601, t.rank_every)] + ([600] if 600 % t.rank_every else [])
    assert evaluated.tolist() == want
    assert np.all(np.isnan(h[~np.isin(h[:, 0], want), 7:]))
    assert dict(zip(metric_names(10), h[-1, 7:].tolist())) == final.ranking  # the last row is the final state
    threshold = relevance_threshold(None, t.ratings.scale)
    assert final.ranking == pytest.approx(ranking_metrics(t.solver.factors, t.split.train, t.split.val, 10,
                                                          threshold), rel=1e-12)
    for s in snaps[:-1]:  # a snapshot between evaluations says NaN, never another step's numbers
        vals = list(s.ranking.values())
        assert all(math.isnan(v) for v in vals) or s.step % t.rank_every == 0


def test_the_history_is_bit_identical_whatever_the_chunks():
    a, b = movie_night(), movie_night()
    a.run_to_end()
    list(b.run(chunk_seconds=1e-6))
    assert np.array_equal(np.delete(a.history.arrays(), 6, axis=1), np.delete(b.history.arrays(), 6, axis=1),
                          equal_nan=True)  # elapsed time aside


def test_no_hold_out_or_no_top_n_means_no_ranking():
    t = Training(load_example(), "sgd", {"steps": 50})
    assert t.history.columns == HISTORY_COLUMNS and t.run_to_end().ranking == {} and t.ranker is None
    t = movie_night(top_n=0)
    assert t.history.columns == HISTORY_COLUMNS and t.run_to_end().ranking == {}
    t = movie_night(top_n=3, relevance=4.5)
    assert t.ranker.threshold == 4.5 and list(t.run_to_end().ranking) == list(metric_names(3))


def test_every_run_ends_evaluated_steps_and_updates_included():
    t = movie_night()
    snap = list(t.run(max_steps=1))[-1]  # the Step button
    assert snap.step == 1 and all(math.isfinite(v) for v in snap.ranking.values())
    assert np.all(np.isfinite(t.history.arrays()[-1, 7:]))
    update, snap = t.step_update()
    while not snap.finished:
        update, snap = t.step_update()
    assert snap.step == 2 and all(math.isfinite(v) for v in snap.ranking.values())


def test_early_stopping_ends_on_the_best_step_with_its_ranking():
    R = load_example("movie-night")
    t = Training(R, "sgd", {"K": 6, "steps": 200_000, "alpha": 0.01, "beta": 0.0, "tol": 0}, holdout=0.3,
                 patience=500, history_cap=64)  # thinned: the best step's row is put back
    snap = t.run_to_end()
    assert snap.reason is StopReason.EARLY_STOP
    assert t.history.last()["step"] == snap.step == snap.best_step + 500  # the history goes on to the last step run
    best = t.history.row_at(snap.best_step)
    assert best["step"] == snap.best_step and best["val_rmse"] == pytest.approx(snap.val_rmse)
    assert [best[n] for n in metric_names(10)] == list(snap.ranking.values())  # the kept factors' ranking


# -- implicit data: every held-out interaction is relevant, and the mean percentile rank --------------------------
def test_implicit_data_counts_every_held_out_interaction_relevant_and_ignores_the_threshold():
    # The same three users as above, the values now counts: every held-out cell is relevant. At k = 2:
    # user 0: relevant 0, 3, 4; top 2 = 0, 2: hit at rank 1: precision 1/2, recall 1/3,
    #   NDCG = 1 / (1 + 1/log2 3), AP = (1/1) / min(2, 3) = 1/2
    # user 1: relevant 0; top 2 = 2, 0: hit at rank 2: precision 1/2, recall 1, NDCG = 1/log2 3, AP = 1/2
    # user 2: relevant 2 (count 3, below any rating threshold); top 2 = 1, 2: as user 1
    for threshold in (4.0, 100.0, None):
        m = ranking_metrics(FACTORS, TRAIN, HELD, 2, threshold, implicit=True)
        assert list(m) == ["precision@2", "recall@2", "ndcg@2", "map@2", "mpr"]
        assert m["precision@2"] == pytest.approx(1 / 2)
        assert m["recall@2"] == pytest.approx((1 / 3 + 1 + 1) / 3)
        assert m["ndcg@2"] == pytest.approx((1 / (1 + 1 / math.log2(3)) + 2 / math.log2(3)) / 3)
        assert m["map@2"] == pytest.approx(1 / 2)
    e = RankingEvaluator(TRAIN, HELD, 5, 2, 4.0, implicit=True)
    assert e.threshold is None and e.users.tolist() == [0, 1, 2] and e.names == metric_names(2, True)
    assert "count above 0" in e.nothing_relevant()
    assert "4 or more (set --relevance lower)" in RankingEvaluator(TRAIN, HELD, 5, 2, 4.0).nothing_relevant(
        "--relevance")
    assert "mpr" not in ranking_metrics(FACTORS, TRAIN, HELD, 2, 4.0)  # ratings: no mpr


def test_the_mean_percentile_rank_of_a_hand_computed_example():
    # rank = (candidates ahead) / (candidates - 1); mpr = sum count * rank / sum count. Held-out counts:
    # user 0: candidates 0 (0.9), 2 (0.7), 3 (0.6), 4 (0.5), 4 of them; held out 0 (count 5) at place 0: 0/3,
    #   3 (count 4) at place 2: 2/3, 4 (count 2) at place 3: 3/3; sum 5*0 + 4*2/3 + 2*1 = 14/3, counts 11
    # user 1: candidates 2 (0.3), 0 (0.2), 1 (0.1); held out 0 (count 4) at place 1: 1/2; sum 2, counts 4
    # user 2: candidates 1 (0.4), 2 (0.3), 3 (0.2), 4 (0.1); held out 2 (count 3) at place 1: 1/3; sum 1, counts 3
    # mpr = (14/3 + 2 + 1) / (11 + 4 + 3) = 23/54
    m = ranking_metrics(FACTORS, TRAIN, HELD, 2, None, implicit=True)
    assert m["mpr"] == pytest.approx(23 / 54, rel=1e-12)
    # the same scores reversed for every user put each list upside down: rank -> 1 - rank
    flipped = Factors(np.eye(3), -SCORES)
    # user 0: 5*1 + 4*1/3 + 2*0 = 19/3; user 1: 4*1/2 = 2; user 2: 3*2/3 = 2 -> (19/3 + 4) / 18 = 31/54
    assert ranking_metrics(flipped, TRAIN, HELD, 2, None, implicit=True)["mpr"] == pytest.approx(31 / 54, rel=1e-12)


def test_the_mean_percentile_rank_breaks_ties_to_the_lower_item_and_puts_nan_last():
    Q = np.array([[1.0, 2.0, 2.0, 2.0, np.nan]])  # items 1, 2 and 3 tie; item 4 has no score
    f = Factors(np.ones((1, 1)), Q)
    # candidates (item 0 is trained) in order 1, 2, 3, 4: item 2 (count 1) at place 1 of 0..3, item 4 (count 3) last
    m = ranking_metrics(f, obs([(0, 0, 1)]), obs([(0, 2, 1), (0, 4, 3)]), 2, None, implicit=True)
    assert m["mpr"] == pytest.approx((1 * 1 / 3 + 3 * 1.0) / 4, rel=1e-12)
    m = ranking_metrics(f, obs([(0, 0, 1)]), obs([(0, 3, 1)]), 2, None, implicit=True)  # item 3 loses to 1 and 2
    assert m["mpr"] == pytest.approx(2 / 3, rel=1e-12)


def test_a_user_with_a_single_candidate_has_no_percentile_rank():
    f = Factors(np.ones((2, 1)), np.array([[1.0, 2.0, 3.0]]))
    train = obs([(0, 0, 1), (0, 1, 1), (1, 0, 1)])
    held = obs([(0, 2, 4), (1, 2, 1)])  # user 0 has only item 2 left: no order to judge
    m = ranking_metrics(f, train, held, 1, None, implicit=True)
    assert m["mpr"] == 0.0  # user 1 alone: item 2 tops candidates 2, 1
    assert m["precision@1"] == 1.0  # both users count for the top-N metrics
    alone = ranking_metrics(f, train, obs([(0, 2, 4)]), 1, None, implicit=True)
    assert math.isnan(alone["mpr"]) and alone["recall@1"] == 1.0


def implicit_reference(scores: np.ndarray, train: Observed, held: Observed, k: int) -> dict[str, float]:
    """The definitions for implicit data, with a full sort: the top-N metrics with every held-out count > 0
    relevant, and the mean percentile rank weighted by the counts."""
    top_n = reference(scores, train, Observed(held.rows, held.cols, (held.vals > 0).astype(float)), k, 0.5)
    total = weight = 0.0
    for u in range(scores.shape[0]):
        trained = set(train.cols[train.rows == u].tolist())
        candidates = np.array([j for j in range(scores.shape[1]) if j not in trained])
        mine = (held.rows == u) & (held.vals > 0)
        if not mine.any() or len(candidates) < 2:
            continue
        s = np.where(np.isnan(scores[u, candidates]), -np.inf, scores[u, candidates])
        order = list(candidates[np.lexsort((candidates, -s))])
        for i, r in zip(held.cols[mine].tolist(), held.vals[mine].tolist()):
            total += r * order.index(i) / (len(candidates) - 1)
            weight += r
    return {**top_n, "mpr": total / weight if weight else math.nan}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_implicit_metrics_match_a_plain_numpy_reference_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, m, K = 41, 29, 3
    cells = rng.choice(n * m, 500, replace=False)
    counts = rng.integers(1, 30, len(cells)).astype(float)
    R = Ratings(cells // m, cells % m, counts, (n, m), implicit=True)
    split = R.split(0.3, seed)
    f = Factors(rng.normal(size=(n, K)), rng.normal(size=(K, m)))
    f.Q[:, [10, 11, 12, 20]] = f.Q[:, [0, 1, 2, 0]]  # some equal scores: ties
    f.with_fallback(split.train)
    expected = f.predict()
    for k in (1, 5, 40):
        want = implicit_reference(expected, split.train, split.val, k)
        got = RankingEvaluator(split.train, split.val, m, k, None, implicit=True)(f)
        assert list(got) == list(metric_names(k, True))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), k


def test_the_mean_percentile_rank_of_users_with_many_held_out_items_and_many_ties():
    rng = np.random.default_rng(11)
    n, m = 5, 203
    cells = rng.choice(n * m, 600, replace=False)
    R = Ratings(cells // m, cells % m, rng.integers(1, 9, len(cells)).astype(float), (n, m), implicit=True)
    split = R.split(0.5, 3)  # about 60 held-out items a user: the sort merges runs of every length
    Q = rng.normal(size=(2, 15))[:, rng.integers(0, 15, m)]  # 15 distinct items, repeated: many equal scores
    f = Factors(rng.normal(size=(n, 2)), np.ascontiguousarray(Q))
    want = implicit_reference(f.predict(), split.train, split.val, 10)
    got = ranking_metrics(f, split.train, split.val, 10, None, implicit=True)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_a_random_order_has_a_mean_percentile_rank_near_one_half():
    rng = np.random.default_rng(5)
    n, m = 400, 60
    cells = rng.choice(n * m, 4000, replace=False)
    R = Ratings(cells // m, cells % m, rng.integers(1, 9, len(cells)).astype(float), (n, m), implicit=True)
    split = R.split(0.25, 0)
    f = Factors(rng.normal(size=(n, 4)), rng.normal(size=(4, m)))  # scores unrelated to the data
    assert abs(ranking_metrics(f, split.train, split.val, 10, None, implicit=True)["mpr"] - 0.5) < 0.02
    R = listening()  # a model that knows the two groups ranks each listener's own half first: far below 0.5
    split = R.split(0.3, 0)
    group = np.arange(R.n_users) % 2
    P = np.stack([group == 0, group == 1], axis=1).astype(float)
    half = (np.arange(R.n_items) >= R.n_items // 2).astype(int)
    Q = np.stack([half == 0, half == 1]).astype(float)
    assert ranking_metrics(Factors(P, Q), split.train, split.val, 10, None, implicit=True)["mpr"] < 0.3


def test_names_of_the_implicit_metrics():
    assert metric_names(10, implicit=True) == ("precision@10", "recall@10", "ndcg@10", "map@10", "mpr")
    assert shown_name("mpr") == "MPR" and shown_name("ndcg@5") == "NDCG@5"
    assert ranking_k(["step", *metric_names(5, True)]) == 5
    assert ranking_names(["step", "mpr", *metric_names(5)]) == metric_names(5, True)
    assert ranking_names(["step", *metric_names(5)]) == metric_names(5) and ranking_names(["mpr"]) == ()
    assert relevant(np.array([0.0, 1.0, 4.0]), 4.0).tolist() == [False, False, True]
    assert relevant(np.array([0.0, 1.0, 4.0]), 4.0, implicit=True).tolist() == [False, True, True]


def test_implicit_data_is_ranked_every_step_while_that_is_cheap():
    assert evaluation_interval(50 * 40, 10, 1_600, implicit=True) == 1  # the listening example
    assert evaluation_interval(50 * 40, 10, 1_600) == 16  # as ratings: the fixed cost bounds it (22,000 / 2,240)
    assert evaluation_interval(940 * 1682, 20, 80_000, implicit=True) == 1  # MovieLens-100K: 2.2 M work
    assert evaluation_interval(6040 * 3706, 20, 800_000, implicit=True) == \
        evaluation_interval(6040 * 3706, 20, 800_000) == 32  # MovieLens-1M: 31 M, the rule for ratings


def listening(n: int = 30, m: int = 20, seed: int = 0) -> Ratings:
    """A small play log with a planted taste: two groups of listeners, each playing mostly its half of the artists."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for u in range(n):
        mine = set(rng.choice(m // 2, 6, replace=False) + (m // 2) * (u % 2)) | {int(rng.integers(m))}
        rows += [u] * len(mine)
        cols += sorted(int(i) for i in mine)
    return Ratings(rows, cols, rng.integers(1, 40, len(rows)).astype(float), (n, m), implicit=True)


def test_a_run_on_implicit_data_has_every_ranking_metric_and_mpr_at_every_step():
    t = Training(listening(), "als", {"K": 2, "steps": 12, "tol": 0}, holdout=0.3, relevance=1000.0)
    assert t.rank_every == 1 and t.ranker.threshold is None  # the relevance setting is ignored
    names = metric_names(10, True)
    assert t.history.columns == HISTORY_COLUMNS + names
    snaps = list(t.run(chunk_seconds=1e-6))
    h = t.history.arrays()
    assert h[:, 0].tolist() == list(range(1, 13))
    assert np.all(np.isfinite(h[:, 7:])) and np.all((h[:, 11] >= 0) & (h[:, 11] <= 1))
    assert list(snaps[-1].ranking) == list(names)
    assert snaps[-1].ranking["mpr"] == h[-1, 11]
    assert snaps[-1].ranking == ranking_metrics(t.solver.factors, t.split.train, t.split.val, 10, None, True)
    for s in snaps:  # every snapshot carries its own step's numbers
        row = t.history.row_at(s.step)
        assert row["step"] == s.step and s.ranking == {k: row[k] for k in names}


def test_implicit_als_has_the_objective_and_every_ranking_metric_at_every_step():
    t = Training(listening(), "implicit-als", {"K": 2, "steps": 10, "tol": 0}, holdout=0.3)
    assert t.rank_every == 1
    snap = t.run_to_end()
    h = t.history.arrays()
    names = list(t.history.columns)
    assert h[:, 0].tolist() == list(range(1, 11)) and np.all(np.diff(h[:, 1]) <= 1e-9 * h[0, 1])
    assert np.all(np.isfinite(h[:, names.index("precision@10"):]))
    assert snap.ranking["mpr"] == h[-1, names.index("mpr")] < 0.3  # the planted taste: far better than random
