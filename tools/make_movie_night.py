"""Generate resources/examples/movie-night.json once, from a planted low-rank structure.

Run: python tools/make_movie_night.py  (fixed seed: the output is the same every time)
"""

import json
from pathlib import Path

import numpy as np

PEOPLE = ["Ana", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca"]
FILMS = [
    "The Long Night", "Starfall", "Laugh Track", "Paper Hearts", "Iron Tide", "Quiet Harbour",
    "Neon Alley", "Grandma's Garden", "Deep Orbit", "Summer of '99", "The Heist Club",
    "Winter Letters", "Robot Rebellion", "Pasta & Love", "Shadow Protocol",
]
# Each film's genres, read off its planted mix of the two tastes (below): the latent map colours by them.
GENRES = [
    ["Thriller"], ["Sci-fi"], ["Comedy"], ["Romance"], ["Action"], ["Drama"], ["Thriller"],
    ["Drama"], ["Sci-fi"], ["Comedy", "Drama"], ["Action", "Comedy"],
    ["Romance", "Drama"], ["Sci-fi", "Action"], ["Romance", "Comedy"], ["Action", "Thriller"],
]


def main() -> None:
    rng = np.random.default_rng(20261127)
    # two tastes: action/sci-fi vs romance/drama, plus a per-person generosity
    taste = rng.dirichlet([0.6, 0.6], len(PEOPLE))
    genre = np.array([
        [0.9, 0.2], [1.0, 0.1], [0.4, 0.5], [0.1, 1.0], [1.0, 0.0], [0.2, 0.9], [0.8, 0.3],
        [0.0, 0.9], [1.0, 0.1], [0.3, 0.8], [0.8, 0.4], [0.1, 1.0], [0.9, 0.0], [0.1, 0.9], [1.0, 0.2],
    ]).T
    generosity = rng.normal(0, 0.3, (len(PEOPLE), 1))
    full = 1.2 + 3.8 * taste @ genre + generosity + rng.normal(0, 0.25, (len(PEOPLE), len(FILMS)))
    full = np.clip(np.round(full * 2) / 2, 1, 5)
    # realistic gaps: popular films seen more; some people watch little
    seen_p = np.clip(rng.uniform(0.3, 0.9, (len(PEOPLE), 1)) * rng.uniform(0.5, 1.1, (1, len(FILMS))), 0.1, 0.95)
    seen = rng.uniform(size=full.shape) < seen_p
    for i in range(len(PEOPLE)):  # everyone has seen at least three films
        if seen[i].sum() < 3:
            seen[i, rng.choice(len(FILMS), 3, replace=False)] = True
    R = [[float(full[i, j]) if seen[i, j] else None for j in range(len(FILMS))] for i in range(len(PEOPLE))]
    doc = {
        "title": "Movie night (12 people x 15 films)",
        "note": "Generated once by tools/make_movie_night.py from two planted tastes; null means not seen.",
        "zeros_are_missing": True,
        "scale": [1, 5],
        "users": PEOPLE,
        "items": FILMS,
        "item_genres": GENRES,
        "R": R,
    }
    out = Path(__file__).resolve().parent.parent / "resources" / "examples" / "movie-night.json"
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}: {sum(x is not None for r in R for x in r)} ratings")


if __name__ == "__main__":
    main()
