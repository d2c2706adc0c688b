"""Generate resources/examples/listening.json once: a listening log with a planted taste structure.

Run: python tools/make_listening.py [OUT.json]  (fixed seed: the output is the same every time; OUT.json
instead of the shipped file, for checking it)

50 listeners x 40 artists (8 in each of 5 genres; the names are invented). Each listener belongs to
one of four taste groups, and each group loves two genres. A listener comes across some artists
(most of the loved genres', few of the others') and plays those a number of times drawn from how
much the group loves the genre, how popular the artist is and how much the listener listens. Most
cells are 0 (never played), stored as null: this is implicit data (counts of plays, not ratings),
so the file carries "implicit": true and opens as Ratings(implicit=True).
"""

import json
import sys
from pathlib import Path

import numpy as np

GENRES = ("Folk", "Jazz", "Electronic", "Hip-hop", "Classical")
ARTISTS = {
    "Folk": ["Nordic Folk Trio", "The Hollow Pines", "Maren & the Wanderers", "Old Mill Road", "Fiddle Creek",
             "Lantern Hill", "Juniper Sisters", "The Drift Valley Band"],
    "Jazz": ["Blue Hour Quartet", "Sam Okafor Trio", "The Late Set", "Velvet Brass", "Mina Castell",
             "Basement Swing", "Harbor Lights Quintet", "Cool Street Ensemble"],
    "Electronic": ["Neon Circuit", "Pulsewave", "Glass Harbor", "Kite Machine", "Static Bloom",
                   "Midnight Modular", "Aurora Loop", "Echo Park Sound System"],
    "Hip-hop": ["MC Ridgeline", "Concrete Poets", "Lil Sable", "Block Theory", "Dee Marlowe",
                "The Corner Cipher", "Kasha Flow", "Northside Verse"],
    "Classical": ["Aurelia String Quartet", "Linden Chamber Orchestra", "Clara Voss (piano)", "Ensemble Meridian",
                  "Baroque Lantern", "Tomas Halvorsen (cello)", "Silver Birch Choir", "Morning Players"],
}
LISTENERS = [
    "Ada", "Bilal", "Carmen", "Dmitri", "Elif", "Femi", "Greta", "Hamid", "Isla", "Jae",
    "Kai", "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chiara", "Diego",
    "Esme", "Finn", "Gia", "Hugo", "Ines", "Jonah", "Keiko", "Luis", "Mira", "Noor",
    "Olu", "Pia", "Rafael", "Sana", "Theo", "Ula", "Vera", "Will", "Yara", "Zane",
]
# The four taste groups, each loving two genres.
GROUPS = (("Folk", "Classical"), ("Electronic", "Hip-hop"), ("Jazz", "Classical"), ("Hip-hop", "Jazz"))
MIN_ARTISTS = 3  # every listener has played at least this many artists


def main() -> None:
    rng = np.random.default_rng(20261201)
    items = [a for g in GENRES for a in ARTISTS[g]]
    item_genre = np.array([GENRES.index(g) for g in GENRES for _ in ARTISTS[g]])
    n, m = len(LISTENERS), len(items)
    group = np.arange(n) % len(GROUPS)
    rng.shuffle(group)
    loves = np.array([[GENRES[item_genre[j]] in GROUPS[group[i]] for j in range(m)] for i in range(n)])
    popularity = rng.lognormal(0.0, 0.5, m)  # some artists are played more by everyone who finds them
    activity = rng.lognormal(0.0, 0.6, n)  # some people listen far more than others
    found = rng.uniform(size=(n, m)) < np.where(loves, 0.55, 0.1)
    rate = activity[:, None] * popularity[None, :] * np.where(loves, 6.0, 0.8)
    counts = np.where(found, 1 + rng.poisson(rate), 0)
    for i in range(n):  # everyone has played a few artists of a genre the group loves
        while np.count_nonzero(counts[i]) < MIN_ARTISTS:
            j = rng.choice(np.flatnonzero(loves[i] & (counts[i] == 0)))
            counts[i, j] = 1 + rng.poisson(rate[i, j])
    assert np.all(counts.sum(axis=0) > 0), "an artist nobody played"
    R = [[int(c) if c else None for c in row] for row in counts]
    doc = {
        "title": "Listening log (50 listeners x 40 artists, play counts)",
        "note": "Generated once by tools/make_listening.py from four planted taste groups; each number is how "
                "often that listener played that artist, null means never (no interaction).",
        "implicit": True,
        "zeros_are_missing": True,
        "scale": [0, int(counts.max())],
        "users": LISTENERS,
        "items": items,
        "item_genres": [[GENRES[g]] for g in item_genre],
        "R": R,
    }
    shipped = Path(__file__).resolve().parent.parent / "resources" / "examples" / "listening.json"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else shipped
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}: {np.count_nonzero(counts)} listener-artist pairs, {int(counts.sum())} plays, "
          f"{np.count_nonzero(counts) / counts.size:.0%} of the cells played, largest count {int(counts.max())}")


if __name__ == "__main__":
    main()
