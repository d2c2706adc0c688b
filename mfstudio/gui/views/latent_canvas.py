"""The latent map's figure: users and items as points, the selected user's taste arrow, rings and
predicted-rating lines, the colours by genre, and the hit test that finds the point under the mouse.

Every artist is made once and moved each frame (``set_offsets``, ``set_segments``,
``set_positions``); only a new data set rebuilds the point names and the legend. The moving
artists (and the title, which names the selection) are drawn over a saved background (axes, ticks,
legend) and blitted: a full draw
(its text costs most of a frame) happens only when the background changed. During a run the
limits only grow, in round steps, so the axes (and their tick labels) change rarely; once the
run has ended they fit the points again. The aspect is equal: a user's arrow and the lines of
equal predicted rating across it stay perpendicular on screen, as they are in the maths.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy
from PySide6.QtWidgets import QSizePolicy, QWidget

from mfstudio.core import Ratings
from mfstudio.core.projection import Projection

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui.views.blit import Canvas, ScaledBackground, axis_key, row_layout
from mfstudio.gui.views.slices import Step, figure_steps
from mfstudio.gui.views.ticks import nice_above

USER_COLOUR = "#4d4d4d"  # users: one neutral dark grey, round
ITEM_COLOUR = "#d55e00"  # items without genres: one vermilion, square
# Items by genre: the Okabe-Ito colours (told apart with colour blindness too), then two more.
GENRE_COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#0072b2", "#d55e00", "#8c564b", "#9467bd",
                 "#f0e442")
OTHER_COLOUR = "#b8b8b8"
ARROW_COLOUR = "#b2182b"  # the diverging scale's red end: the selected user's taste and its lines
RING_COLOUR = "#111111"
HELD_RING_COLOUR = "#8c8c8c"
NEWCOMER_COLOUR = "#6a3d9a"  # the person being added (Add me): a purple star, unlike every other point
NEWCOMER_SIZE = 260.0
NAMED_POINTS = 60  # up to this many users + items, each point carries its name
LEVELS = 12  # at most this many predicted-rating lines (about 10 across the view)
FONT = 8
NAME_PLACES = ((5, 2), (-5, 2), (5, -11), (-5, -11))  # where a name may sit, in points from its point
RINGED_PLACES = ((9, 4), (-9, 4), (9, -13), (-9, -13))  # the same, clear of a ring
DEFAULT_TITLE = "Users and items in taste space"


@dataclass(frozen=True)
class ItemStyle:
    """How the items are coloured: one colour, or by genre; each colour is one group of items (one scatter each,
    so Agg stamps one marker per group, many times faster than colouring markers one by one)."""

    groups: tuple[tuple[str, str, np.ndarray], ...]  # (legend label, colour, item indices)
    genres: tuple[tuple[str, int], ...] = ()  # each genre with its number of items, commonest first
    group: tuple[str, ...] = ()  # the genre each item is coloured by

    @property
    def by_genre(self) -> bool:
        return bool(self.genres)

    def colour_of(self, item: int) -> str:
        return next(c for _label, c, idx in self.groups if np.any(idx == item))


def item_style(ratings: Ratings) -> ItemStyle:
    """Colours for the items: by genre when the data has genres (an item with several takes the colour of its
    rarest, the one that tells it apart; the commonest colour groups get colours, the rest are grey)."""
    m, genres = ratings.n_items, ratings.item_genres
    if genres is None or not any(genres):
        return ItemStyle((("Items (Q columns)", ITEM_COLOUR, np.arange(m)),))
    count = Counter(g for gs in genres for g in gs)
    rank = {g: k for k, (g, _n) in enumerate(sorted(count.items(), key=lambda t: (-t[1], t[0])))}
    group = tuple(min(gs, key=lambda g: (count[g], rank[g])) if gs else "" for gs in genres)
    sizes = Counter(g for g in group if g)
    coloured = [g for g, _n in sorted(sizes.items(), key=lambda t: (-t[1], rank[t[0]]))]
    if len(coloured) > len(GENRE_COLOURS):
        coloured = coloured[:len(GENRE_COLOURS) - 1]
    of = np.array(group, dtype=object)
    groups = [(g, GENRE_COLOURS[k], np.flatnonzero(of == g)) for k, g in enumerate(coloured)]
    rest = np.flatnonzero(~np.isin(of, coloured))
    if len(rest):
        named = any(group[i] for i in rest)
        groups.append(("Other genres" if named else "No genre", OTHER_COLOUR, rest))
    ordered = tuple(sorted(count.items(), key=lambda t: rank[t[0]]))
    return ItemStyle(tuple(groups), ordered, group)


@dataclass
class Overlay:
    """What the selection adds: a user's arrow, rings and lines; an item's rings; the title saying so."""

    user: int | None = None
    item: int | None = None
    rings: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # items (user) or users (item)
    held_rings: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # the same, held out
    rings_are_users: bool = False
    offset: float = 0.0  # μ + b_u: the predicted rating of an item at the origin with no bias of its own
    title: str = ""


def _marker_size(n_points: int) -> float:
    return 56.0 if n_points <= NAMED_POINTS else 30.0 if n_points <= 300 else 10.0 if n_points <= 2000 else 5.0


def _ring_size(s: float) -> float:
    return (math.sqrt(s) + (7.0 if s > 20 else 3.5)) ** 2


LAYOUT = {"h_pad": 2 / 72, "w_pad": 3 / 72}  # the constrained layout's pads
LIVE_LABEL_CHARS = 6  # while a run goes the layout keeps room for y tick labels this wide ("-0.025")


class MapCanvas(Canvas):
    """The latent map's figure (objectName ``latentMap``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(4.8, 4.2), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("latentMap")
        self.setAccessibleName("Latent map")
        self.setAccessibleDescription("Users and items as points in taste space; a selected user's taste arrow.")
        self.setMinimumSize(60, 140)  # squeezed on a small screen; the splitter gives it room
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        ax = self.ax = self.figure.add_subplot()
        ax.set_aspect("equal", adjustable="datalim")
        ax.tick_params(labelsize=FONT)
        ax.grid(True, alpha=0.25)
        ax.set_xlabel("k1", fontsize=FONT + 1)
        ax.set_ylabel("k2", fontsize=FONT + 1)
        ax.set_title(DEFAULT_TITLE, fontsize=FONT + 1, y=1.0)  # a fixed place: placing it costs a lot per frame
        self.zero_lines = (ax.axhline(0, color="0.55", lw=0.8, zorder=0.5),
                           ax.axvline(0, color="0.55", lw=0.8, zorder=0.5))
        empty = np.zeros((0, 2))
        self.levels = LineCollection([], colors=ARROW_COLOUR, linewidths=0.8, linestyles=(0, (4, 3)), alpha=0.55,
                                     zorder=1)
        ax.add_collection(self.levels, autolim=False)
        # where the user and the item of the last single updates were (One update): a short trail each
        self.trails = LineCollection([], colors=ARROW_COLOUR, linewidths=1.6, alpha=0.75, zorder=5.2)
        ax.add_collection(self.trails, autolim=False)
        self.item_groups: list[tuple[np.ndarray, Any]] = []  # (item indices, their scatter): one per colour
        self.users = ax.scatter(empty[:, 0], empty[:, 1], marker="o", color=USER_COLOUR, linewidths=0, zorder=3)
        self.rings = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none", edgecolors=RING_COLOUR,
                                linewidths=1.3, zorder=4)
        self.held_rings = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none",
                                     edgecolors=HELD_RING_COLOUR, linewidths=1.3, linestyles="--", zorder=4)
        self.chosen = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none", edgecolors=ARROW_COLOUR,
                                 linewidths=2.2, zorder=6)
        self.arrow = FancyArrowPatch((0, 0), (1, 1), arrowstyle="-|>", mutation_scale=14, color=ARROW_COLOUR, lw=2,
                                     zorder=5, shrinkA=0, shrinkB=0)
        self.arrow.set_visible(False)
        ax.add_patch(self.arrow)
        box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
        self.level_labels = [ax.text(0, 0, "", fontsize=FONT - 0.5, color=ARROW_COLOUR, ha="center", va="center",
                                     bbox=box, zorder=5.5, visible=False, clip_on=True) for _ in range(LEVELS)]
        self.hint = ax.text(0.5, 0.5, "Press Train to see the users\nand items in taste space",
                            transform=ax.transAxes, ha="center", va="center", color="0.5", fontsize=FONT + 2)
        self.names: list[tuple[str, int, object]] = []  # ("user" | "item", index, annotation)
        # Names are plain texts shifted a few points from their point (an Annotation costs three times as much
        # to draw): one offset transform per place a name may take, made once.
        self._shift = {(dx, dy): offset_copy(ax.transData, fig=self.figure, x=dx, y=dy, units="points")
                       for dx, dy in NAME_PLACES + RINGED_PLACES + ((6, 4),)}
        self.chosen_name = ax.text(0, 0, "", transform=self._shift[6, 4], fontsize=FONT, color=ARROW_COLOUR,
                                   zorder=7, visible=False, clip_on=True,
                                   bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        # the person being added (Add me): a star with their name, at their folded-in place
        self.newcomer = ax.scatter(empty[:, 0], empty[:, 1], marker="*", s=NEWCOMER_SIZE, facecolors=NEWCOMER_COLOUR,
                                   edgecolors="white", linewidths=0.8, zorder=6.8)
        self.newcomer_name = ax.text(0, 0, "", transform=self._shift[6, 4], fontsize=FONT, fontweight="bold",
                                     color=NEWCOMER_COLOUR, zorder=7, visible=False, clip_on=True,
                                     bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        self.newcomer_xy: np.ndarray | None = None
        # the planted truth of a pattern (File ▸ New from pattern…), turned to the estimate: hollow marks, each
        # joined to its estimate by a thin line
        self.truth_users = ax.scatter(empty[:, 0], empty[:, 1], marker="o", facecolors="none", edgecolors="0.35",
                                      linewidths=0.9, zorder=2.6)
        self.truth_items = ax.scatter(empty[:, 0], empty[:, 1], marker="s", facecolors="none", edgecolors="0.35",
                                      linewidths=0.9, zorder=2.6)
        self.truth_links = LineCollection([], colors="0.55", linewidths=0.7, zorder=2.5)
        ax.add_collection(self.truth_links, autolim=False)
        self._labels: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self.legend = None
        self.style: ItemStyle | None = None
        self.visible_items = np.zeros(0, np.int64)  # the item indices drawn (the genre filter's)
        self.visible_users: np.ndarray | None = None  # the user indices drawn (a sample of big data); None: all
        self.users_xy = np.zeros((0, 2))  # the shown coordinates (for hit tests and overlays)
        self.items_xy = np.zeros((0, 2))
        self.frames = 0
        self._live_limits: tuple[np.ndarray, np.ndarray] | None = None  # the limits a live run has grown to
        self._layout_key: tuple = ()
        self._label_shares: tuple[float, float] | None = None  # the shares of variance the axis names show
        self._bg = ScaledBackground(self)  # the background the moving artists are blitted over
        self._bg_key: tuple = ()  # what its base was drawn for
        self._exporting = False
        self.layouts = self.full_draws = self.blits = 0  # counters, for tests
        for a in self._moving() + self._scales():
            a.set_animated(True)
        self.mpl_connect("draw_event", self._on_draw_event)
        self.mpl_connect("resize_event", self._on_resize)
        self.solve_layout()

    # -- layout -------------------------------------------------------------------------
    # Solving the constrained layout costs more than drawing 2,600 points, so it is solved only for a draw after
    # something that takes room changed (title, axis labels, the widest y tick label, the legend, the size);
    # the other draws keep the axes where the last solve put them.
    def solve_layout(self) -> None:
        """The next draw solves the layout."""
        self.figure.set_layout_engine("constrained", **LAYOUT)

    def _layout_changed(self, live: bool = False) -> None:
        ax = self.ax
        lo, hi = sorted(ax.get_ylim())
        ticks = [t for t in ax.yaxis.get_major_locator().tick_values(lo, hi) if lo <= t <= hi]
        widest = max((len(t) for t in ax.yaxis.get_major_formatter().format_ticks(ticks)), default=0)
        # a name takes a line; the labels always get room for LIVE_LABEL_CHARS, so that a run's start and end
        # (whose labels differ) need no new solve, and neither do the labels a run widens within that room
        key = (bool(ax.get_xlabel()), bool(ax.get_ylabel()), id(self.legend), max(widest, LIVE_LABEL_CHARS))
        if live and self._layout_key and key[:3] == self._layout_key[:3] and widest <= self._layout_key[3]:
            return  # while a run goes, narrower tick labels keep the room solved for wider ones
        if key != self._layout_key:
            self._layout_key = key
            self.solve_layout()

    def _on_resize(self, _event: object) -> None:
        self.solve_layout()
        self._bg.clear()

    # -- drawing: a background, and the moving artists blitted over it ---------------------
    def _moving(self) -> list[Any]:
        names = [ann for _kind, _i, ann in self.names]
        # the title too: it says what is selected, and a click must not cost a full draw
        artists = [self.ax.title, self.levels, self.trails, *(c for _idx, c in self.item_groups), self.users,
                   self.rings,
                   self.held_rings, self.arrow, self.chosen,
                   *self.level_labels, self.chosen_name, self.newcomer, self.newcomer_name, self.truth_users,
                   self.truth_items, self.truth_links, *names]
        return sorted(artists, key=lambda a: a.get_zorder())

    def _scales(self) -> list[Any]:
        """What the limits place (drawn again over the base when they move): the axes, their grid and names, and
        the lines through zero."""
        return [*self.zero_lines, self.ax.xaxis, self.ax.yaxis]

    def _background_key(self) -> tuple:
        return (self._layout_key, self.hint.get_text(), self.hint.get_visible(), self.width(), self.height(),
                self.figure.dpi)

    def frame(self, sliced: bool = False, now: bool = True) -> None:
        """Show the artists as they are now: blitted over the saved background while it holds (the scales drawn
        again when the limits moved), else a full draw. ``sliced``: drawn a slice per event-loop pass (see
        :mod:`.slices`; a run's frames), else now (a click's); not ``now``: the first slice in the next pass too."""
        self.stop_slices()  # an unfinished frame showed older data
        full = self._bg.base is None or self._bg_key != self._background_key() or \
            isinstance(self.figure.get_layout_engine(), ConstrainedLayoutEngine)
        if full:
            self.full_draws += 1
            steps: list[Step] = []
            if isinstance(self.figure.get_layout_engine(), ConstrainedLayoutEngine):
                steps.append(self._solve_live_layout)
            if not sliced:
                for step in steps:
                    step()
                self.draw()  # the draw event saves the background and draws the moving artists on it
                return
            self._bg.clear()
            steps += [*figure_steps(self.figure, self.get_renderer()), self._saved]
            steps += self._bg.restore_steps(self._scales(), axis_key(self.ax))
            show = self.update
        else:
            steps = self._bg.restore_steps(self._scales(), axis_key(self.ax))
            self.blits += 1

            def show() -> None:
                self.blit(self.figure.bbox)
        # the moving artists as they are then (new data may have made them anew), one step each: their texts (the
        # title, the level labels, the names) took 40 ms as one step
        n = len(self._moving())
        steps += [functools.partial(self._draw_moving_part, k, n) for k in range(n)]
        if sliced:
            self.draw_in_slices(steps, show, now)
            return
        for step in steps:
            step()
        show()

    def _solve_live_layout(self) -> None:
        """The layout, with room for the widest labels a run may bring (see _layout_changed); none for a folded
        canvas (the next frame with room solves it)."""
        if not self._has_room():
            return
        self.layouts += 1
        room = self._layout_key[3] if self._layout_key else LIVE_LABEL_CHARS
        self.figure.set_layout_engine("none")
        row_layout(self.figure, [self.ax], room)

    def draw(self) -> None:
        """A full draw now; a layout left to solve (a resize, new labels) is solved as a frame solves it: the axes
        were placed by it, and a constrained solve leaves placed axes where they were, sized for another size."""
        if not self._exporting and isinstance(self.figure.get_layout_engine(), ConstrainedLayoutEngine):
            self._solve_live_layout()
        super().draw()

    def _saved(self) -> None:
        self._bg.save()
        self._bg_key = self._background_key()

    def _on_draw_event(self, _event: object) -> None:
        if self._exporting:
            return
        if isinstance(self.figure.get_layout_engine(), ConstrainedLayoutEngine):
            self.layouts += 1
            self.figure.set_layout_engine("none")
        self._saved()
        self._bg.restore(self._scales(), axis_key(self.ax))
        self._draw_moving()

    def _draw_moving(self) -> None:
        for a in self._moving():
            self.figure.draw_artist(a)

    def _draw_moving_part(self, k: int, n: int) -> None:
        """The ``k``-th of the ``n`` moving artists a frame counted, as they are when drawn; the last part also
        draws any there are beyond ``n`` by then."""
        moving = self._moving()
        for a in moving[k:k + 1] if k < n - 1 else moving[k:]:
            self.figure.draw_artist(a)

    @contextmanager
    def for_export(self) -> Iterator[None]:
        """Within: every artist is drawn in a full draw (savefig) and the layout is solved for it."""
        moving = self._moving() + self._scales()
        self._exporting = True
        for a in moving:
            a.set_animated(False)
        self.solve_layout()
        try:
            yield
        finally:
            for a in moving:
                a.set_animated(True)
            self._exporting = False
            self.solve_layout()  # for the screen again
            self._bg.clear()

    # -- data ---------------------------------------------------------------------------
    def set_data(self, ratings: Ratings | None, style: ItemStyle | None) -> None:
        """New users and items: names, sizes, colours and the legend are made again (not per frame)."""
        for _kind, _i, ann in self.names:
            ann.remove()
        self.names = []
        for _idx, c in self.item_groups:
            c.remove()
        self.item_groups = []
        self.style = style
        self.solve_layout()
        if self.legend is not None:
            self.legend.remove()
            self.legend = None
        if ratings is None or style is None:
            self._labels = ((), ())
            return
        self._labels = (ratings.users, ratings.items)
        n, m = ratings.n_users, ratings.n_items
        s = _marker_size(n + m)
        self.users.set_sizes([s])
        crowded = n + m > 2000  # see-through points show where they are dense
        self.users.set_alpha(0.6 if crowded else None)
        for _label, colour, idx in style.groups:
            c = self.ax.scatter([], [], marker="s", s=s * 0.85, color=colour, linewidths=0, zorder=2, animated=True,
                                alpha=0.75 if crowded else None)
            self.item_groups.append((idx, c))
        for c in (self.rings, self.held_rings):
            c.set_sizes([_ring_size(s)])
            c.set_linewidths([1.3 if s > 20 else 0.8])
        self.chosen.set_sizes([_ring_size(s) * 1.5])
        if n + m <= NAMED_POINTS:
            for kind, labels in (("user", ratings.users), ("item", ratings.items)):
                for i, text in enumerate(labels):
                    colour = "#5a2a00" if kind == "item" and not style.by_genre else "#303030"
                    ann = self.ax.text(0, 0, text, transform=self._shift[NAME_PLACES[0]], fontsize=FONT - 0.5,
                                       color=colour, clip_on=True, zorder=6.5, animated=True)
                    self.names.append((kind, i, ann))
        # with genres the squares say "item" and their colour the genre; the caption says so too
        handles = [Line2D([], [], ls="", marker="o", color=USER_COLOUR, markersize=6, label="Users (P rows)")]
        handles += [Line2D([], [], ls="", marker="s", color=c, markersize=6, label=lab)
                    for lab, c, _idx in style.groups]
        self.legend = self.figure.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)),
                                         fontsize=FONT, frameon=False, handletextpad=0.3, columnspacing=1.2)

    def set_hint(self, text: str) -> None:
        """A sentence in the middle of the axes ("" hides it)."""
        self.hint.set_text(text)
        self.hint.set_visible(bool(text))

    def clear_points(self) -> None:
        """No points, no overlay (nothing to show, or a model that diverged)."""
        empty = np.zeros((0, 2))
        for c in (self.users, self.rings, self.held_rings, self.chosen, *(c for _i, c in self.item_groups)):
            c.set_offsets(empty)
        self.users_xy, self.items_xy = empty, empty
        self.visible_items = np.zeros(0, np.int64)
        self.visible_users = None
        self.levels.set_segments([])
        self.trails.set_segments([])
        self.arrow.set_visible(False)
        for t in self.level_labels:
            t.set_visible(False)
        for _kind, _i, ann in self.names:
            ann.set_visible(False)
        self.chosen_name.set_visible(False)
        self.set_newcomer(None)

    def set_newcomer(self, xy: np.ndarray | None, name: str = "") -> None:
        """The person being added at ``xy`` (a star labelled ``name``), or nobody (None); drawn with the next
        frame, whose limits make room for them."""
        self.newcomer_xy = None if xy is None else np.asarray(xy, dtype=float).reshape(2)
        if self.newcomer_xy is None or not np.all(np.isfinite(self.newcomer_xy)):
            self.newcomer_xy = None
            self.newcomer.set_offsets(np.zeros((0, 2)))
            self.newcomer_name.set_visible(False)
            return
        x, y = (float(v) for v in self.newcomer_xy)
        self.newcomer.set_offsets(np.array([[x, y]]))
        self.newcomer_name.set_position((x, y))
        self.newcomer_name.set_text(name)
        self.newcomer_name.set_visible(bool(name))

    def set_truth(self, users_xy: np.ndarray | None, items_xy: np.ndarray | None) -> None:
        """The planted truth's places (None: none shown), each joined to its estimate of this frame."""
        empty = np.zeros((0, 2))
        if users_xy is None or items_xy is None or len(users_xy) != len(self.users_xy) or \
                len(items_xy) != len(self.items_xy):
            for c in (self.truth_users, self.truth_items):
                c.set_offsets(empty)
            self.truth_links.set_segments([])
            return
        shown = self.visible_items
        self.truth_users.set_offsets(users_xy)
        self.truth_items.set_offsets(items_xy[shown])
        links = [np.array([a, b]) for a, b in zip(users_xy, self.users_xy)]
        links += [np.array([items_xy[i], self.items_xy[i]]) for i in shown]
        self.truth_links.set_segments(links)

    # -- frames -------------------------------------------------------------------------
    def show_frame(self, proj: Projection, visible_items: np.ndarray, overlay: Overlay, live: bool,
                   trails: list[np.ndarray] | None = None, visible_users: np.ndarray | None = None) -> None:
        """Move every point to ``proj``, draw ``overlay`` and the ``trails`` (each a point's past places), set the
        limits (growing only while ``live``); only ``visible_users`` (default: all) and ``visible_items``."""
        self.frames += 1
        ax = self.ax
        self.users_xy, self.items_xy = proj.users_xy, proj.items_xy
        self.visible_items = visible_items
        self.visible_users = visible_users
        self.users.set_offsets(self._users_shown())
        shown = np.zeros(len(proj.items_xy), bool)
        shown[visible_items] = True
        for idx, c in self.item_groups:
            c.set_offsets(proj.items_xy[idx[shown[idx]]])
        self._set_axis_labels(proj, live)
        title = overlay.title or DEFAULT_TITLE
        if ax.get_title() != title:
            ax.set_title(title, fontsize=FONT + 1, y=1.0)
        self.trails.set_segments([t for t in (trails or []) if len(t) > 1])
        self._set_limits(live)
        self._layout_changed(live)
        self._show_overlay(overlay)
        self._place_names(overlay)

    def _set_axis_labels(self, proj: Projection, live: bool) -> None:
        """The axes' names; while a run goes, a share of the variance is updated only once it moved by 2 points
        or more (each new text costs a full draw, and 50% / 51% / 50% flickers)."""
        ax, shares = self.ax, proj.explained
        if live and shares is not None and self._label_shares is not None and \
                max(abs(a - b) for a, b in zip(shares, self._label_shares)) < 0.02:
            return
        self._label_shares = shares
        y_label = proj.y_label or "(K = 1: no second feature)"
        if ax.get_xlabel() != proj.x_label:
            ax.set_xlabel(proj.x_label, fontsize=FONT + 1)
        if ax.get_ylabel() != y_label:
            ax.set_ylabel(y_label, fontsize=FONT + 1)

    def _users_shown(self) -> np.ndarray:
        """The drawn users' coordinates."""
        return self.users_xy if self.visible_users is None else self.users_xy[self.visible_users]

    def _set_limits(self, live: bool) -> None:
        xy = np.vstack([self._users_shown(), self.items_xy[self.visible_items], np.zeros((1, 2)),
                        np.zeros((0, 2)) if self.newcomer_xy is None else self.newcomer_xy[None, :]])
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        span = float(max(np.max(hi - lo), 1e-9))
        named = 0.12 if self.names else 0.0  # room for the names, written right of and above the points
        lo, hi = lo - 0.08 * span, hi + (0.08 + named) * span
        if live:  # grow only, in round steps: the axes stay put while the points move
            step = nice_above(span / 8)
            if self._live_limits is not None:
                old_lo, old_hi = self._live_limits
                # a side that must grow takes a quarter more room than it needs: points spreading out
                # while a model learns move the limits (and the axes' drawing) a few times, not at every frame
                lo = np.where(lo < old_lo, lo - 0.25 * span, old_lo)
                hi = np.where(hi > old_hi, hi + 0.25 * span, old_hi)
            lo, hi = np.floor(lo / step) * step, np.ceil(hi / step) * step
            if self._live_limits is not None:
                lo, hi = np.minimum(lo, self._live_limits[0]), np.maximum(hi, self._live_limits[1])
            self._live_limits = (lo, hi)
        else:
            self._live_limits = None
        # The equal aspect (adjustable="datalim") widens one axis to fit the box. It decides which by the data
        # limits, which moved points do not update: they are set to the limits wanted, so it only ever widens.
        # auto=None keeps autoscaling "on", so widening a limit set here is not warned about.
        self.ax.dataLim.set_points(np.array([[lo[0], lo[1]], [hi[0], hi[1]]], dtype=float))
        self.ax.set_xlim(float(lo[0]), float(hi[0]), auto=None)
        self.ax.set_ylim(float(lo[1]), float(hi[1]), auto=None)
        self.ax.apply_aspect()  # the limits as they will be drawn: the overlay and the names are placed in them

    def _show_overlay(self, o: Overlay) -> None:
        empty = np.zeros((0, 2))
        ring_xy = self.users_xy if o.rings_are_users else self.items_xy
        self.rings.set_offsets(ring_xy[o.rings] if len(o.rings) else empty)
        self.held_rings.set_offsets(ring_xy[o.held_rings] if len(o.held_rings) else empty)
        chosen = []
        if o.user is not None:
            chosen.append(self.users_xy[o.user])
        if o.item is not None:
            chosen.append(self.items_xy[o.item])
        self.chosen.set_offsets(np.array(chosen) if chosen else empty)
        p = None if o.user is None else self.users_xy[o.user]
        if p is None or not float(np.hypot(*p)) > 0:
            self.arrow.set_visible(False)
            self.levels.set_segments([])
            for t in self.level_labels:
                t.set_visible(False)
            return
        self.arrow.set_positions((0.0, 0.0), (float(p[0]), float(p[1])))
        self.arrow.set_visible(True)
        self._show_levels(p, o.offset)

    def _show_levels(self, p: np.ndarray, offset: float) -> None:
        """Lines of equal predicted rating for the user at ``p``: offset + p·x = c, perpendicular to the arrow."""
        (x0, x1), (y0, y1) = self.ax.get_xlim(), self.ax.get_ylim()
        half = max(x1 - x0, y1 - y0)  # each line reaches well past the view
        vals = offset + np.array([[x0, y0], [x0, y1], [x1, y0], [x1, y1]]) @ p
        levels = MaxNLocator(nbins=LEVELS - 3, steps=[1, 2, 2.5, 5, 10]).tick_values(vals.min(), vals.max())
        norm = float(np.hypot(*p))
        u = p / norm  # along the arrow
        d = np.array([-u[1], u[0]])  # along the lines
        segments = []
        labels = iter(self.level_labels)
        # each line's number sits where it leaves the view (inset a little), all on the same side: the edges
        # are where the points are fewest
        mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
        lo, hi = np.array([x0 + mx, y0 + my]), np.array([x1 - mx, y1 - my])
        # a number on every line, or on every other one (the even multiples of the step) when they are many
        every = 2 if len(levels) > 9 else 1
        step = float(levels[1] - levels[0]) if len(levels) > 1 else 1.0
        for c in levels[:LEVELS]:
            foot = (c - offset) / norm * u
            segments.append([foot - 3 * half * d, foot + 3 * half * d])
            if round(c / step) % every:
                continue
            t = next(labels)
            s_lo, s_hi = -np.inf, np.inf
            for a in (0, 1):
                if abs(d[a]) < 1e-12:
                    if not lo[a] <= foot[a] <= hi[a]:
                        s_lo, s_hi = np.inf, -np.inf
                    continue
                e1, e2 = sorted(((lo[a] - foot[a]) / d[a], (hi[a] - foot[a]) / d[a]))
                s_lo, s_hi = max(s_lo, e1), min(s_hi, e2)
            if s_lo < s_hi:
                q = foot + s_hi * d
                t.set_position((float(q[0]), float(q[1])))
                t.set_text(f"{c:.3g}")
                t.set_visible(True)
            else:
                t.set_visible(False)
        for t in labels:
            t.set_visible(False)
        self.levels.set_segments(segments)

    def _place_names(self, o: Overlay) -> None:
        """Name the points where a name fits: right of a point, else left, above or below, else not at all (the
        hover still names it); the selected point and the ringed ones first, then users, then items."""
        if not self.names:
            self._name_chosen(o)
            return
        to_px = self.ax.transData.transform
        users_px, items_px = to_px(self.users_xy), to_px(self.items_xy)
        box = self.ax.bbox
        scale = self.figure.dpi / 72.0
        h = (FONT - 0.5) * 1.25 * scale
        shown = np.zeros(len(self.items_xy), bool)
        shown[self.visible_items] = True
        first = {("user", o.user), ("item", o.item)}
        ringed = {("item" if not o.rings_are_users else "user", int(k)) for k in np.concatenate([o.rings,
                                                                                              o.held_rings])}
        order = sorted(range(len(self.names)), key=lambda k: (
            (self.names[k][0], self.names[k][1]) not in first, (self.names[k][0], self.names[k][1]) not in ringed,
            self.names[k][0] != "user", k))
        # the points themselves (and the rings) are in the way too
        taken: list[tuple[float, float, float, float]] = []
        r_point = 0.5 * math.sqrt(float(self.users.get_sizes()[0])) * scale
        r_ring = 0.5 * math.sqrt(float(self.rings.get_sizes()[0])) * scale
        ring_set = {k for k in ringed}
        user_idx = range(len(users_px)) if self.visible_users is None else self.visible_users
        for kind, pts, idx in (("user", users_px, user_idx), ("item", items_px, self.visible_items)):
            for i in idx:
                x, y = pts[i]
                r = r_ring if (kind, int(i)) in ring_set or (kind, int(i)) in first else r_point
                taken.append((x - r, y - r, x + r, y + r))
        n_points = len(taken)
        for k in order:
            kind, i, ann = self.names[k]
            xy = self.users_xy[i] if kind == "user" else self.items_xy[i]
            ann.set_position((float(xy[0]), float(xy[1])))
            if kind == "item" and not shown[i]:
                ann.set_visible(False)
                continue
            px, py = users_px[i] if kind == "user" else items_px[i]
            w = len(ann.get_text()) * (FONT - 0.5) * 0.58 * scale
            placed = False
            ringed_here = (kind, i) in ring_set or (kind, i) in first
            for dx, dy in RINGED_PLACES if ringed_here else NAME_PLACES:
                ha = "left" if dx > 0 else "right"
                x0 = px + dx * scale - (w if ha == "right" else 0)
                y0 = py + dy * scale
                rect = (x0, y0, x0 + w, y0 + h)
                inside = box.x0 <= rect[0] and rect[2] <= box.x1 and box.y0 <= rect[1] and rect[3] <= box.y1
                own = users_px[i] if kind == "user" else items_px[i]
                if inside and not any(a < rect[2] and rect[0] < c and b < rect[3] and rect[1] < d
                                      for k2, (a, b, c, d) in enumerate(taken)
                                      if k2 >= n_points or not (a < own[0] < c and b < own[1] < d)):
                    taken.append(rect)
                    ann.set_transform(self._shift[dx, dy])
                    ann.set_horizontalalignment(ha)
                    placed = True
                    break
            ann.set_visible(placed)

    def _name_chosen(self, o: Overlay) -> None:
        """On a map too full to name every point, the selected one is named."""
        users, items = self._labels
        if o.user is not None:
            text, xy = users[o.user], self.users_xy[o.user]
        elif o.item is not None:
            text, xy = items[o.item], self.items_xy[o.item]
        else:
            self.chosen_name.set_visible(False)
            return
        self.chosen_name.set_text(text)
        self.chosen_name.set_position((float(xy[0]), float(xy[1])))
        self.chosen_name.set_visible(True)

    def item_offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """The items drawn, read back from their scatters: their indices (ascending) and positions."""
        if not self.item_groups:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        shown = np.zeros(len(self.items_xy), bool)
        shown[self.visible_items] = True
        idx = np.concatenate([i[shown[i]] if len(shown) else i[:0] for i, _c in self.item_groups])
        xy = np.vstack([np.asarray(c.get_offsets(), float).reshape(-1, 2) for _i, c in self.item_groups])
        order = np.argsort(idx, kind="stable")
        return idx[order], xy[order]

    # -- hit test -------------------------------------------------------------------------
    def point_at(self, x: float, y: float, radius: float = 8.0) -> tuple[str, int] | None:
        """The user or item drawn nearest the display point (x, y) within ``radius`` pixels (users win ties)."""
        best: tuple[float, str, int] | None = None
        r = radius * self.device_pixel_ratio
        to_px = self.ax.transData.transform
        for kind, xy, index in (("user", self.users_xy, self.visible_users), ("item", self.items_xy,
                                                                             self.visible_items)):
            pts = xy if index is None else xy[index]
            if not len(pts):
                continue
            dist = np.hypot(*(to_px(pts) - [x, y]).T)
            k = int(np.argmin(dist))
            if dist[k] <= r and (best is None or dist[k] < best[0]):
                best = (float(dist[k]), kind, k if index is None else int(index[k]))
        return None if best is None else (best[1], best[2])
