"""MovieLens downloads as they come: tiny files in each real layout (the data itself may not be
shipped), as a folder, a .zip (nested or flat) and a ratings file alone, plus bad input."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from contextlib import nullcontext
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mfstudio.io as mio
from mfstudio.io import movielens as ml
from mfstudio.io import movielens_parse as mlp
from tests.io.test_fuzz import FUZZ, check

GENRES = mlp.GENRES_100K


def u_item_line(mid: int, title: str, genres: tuple[str, ...]) -> str:
    flags = "|".join("1" if g in genres else "0" for g in GENRES)
    return f"{mid}|{title}|01-Jan-1995||http://us.imdb.com/M/title-exact?x|{flags}"


U_DATA = "".join(f"{u}\t{i}\t{r}\t88125{u}{i}\n" for u, i, r in [
    (196, 242, 3), (10, 1, 4), (2, 246, 5), (1, 268, 1), (10, 2, 2), (2, 267, 3), (196, 1, 5)])
U_ITEM = "\n".join([
    u_item_line(1, "Toy Story (1995)", ("Animation", "Children's", "Comedy")),
    u_item_line(2, "Café au lait (1993)", ("Comedy",)),
    u_item_line(242, "Kolya (1996)", ("Comedy",)),
    u_item_line(246, "Chasing Amy (1997)", ("Drama", "Romance")),
    "267|unknown||||1|" + "|".join(["0"] * 18),
    u_item_line(268, "Chasing Amy (1997)", ("Comedy", "Drama", "Romance")),
]) + "\n"
U_GENRE = "".join(f"{g}|{k}\n" for k, g in enumerate(GENRES)) + "\n"


def ml100k(root: Path, name: str = "ml-100k") -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "u.data").write_text(U_DATA)
    (d / "u.item").write_bytes(U_ITEM.encode("latin-1"))  # as GroupLens ships it: latin-1
    (d / "u.genre").write_text(U_GENRE)
    (d / "README").write_text("SUMMARY & USAGE LICENSE\n=============================================\n")
    return d


RATINGS_DAT = "1::1193::5::978300760\n1::661::3::978302109\n10::1193::4::978301968\n2::3408::4::978300275\n"
MOVIES_DAT = ("661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
              "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
              "3408::Erin Brockovich (2000)::Drama\n"
              "3409::Café Society (1995)::Drama\n")


def ml1m(root: Path, name: str = "ml-1m", encoding: str = "latin-1") -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "ratings.dat").write_text(RATINGS_DAT)
    (d / "movies.dat").write_bytes(MOVIES_DAT.encode(encoding))
    (d / "users.dat").write_text("1::F::1::10::48067\n")
    return d


RATINGS_CSV = ("userId, movieId, rating, timestamp\r\n"  # a header with stray spaces; CRLF as re-saved on Windows
               "1,1,4.0,964982703\r\n1,11,3.5,964981247\r\n2,1,5.0,964982224\r\n2,144,1.5,964983815\r\n"
               "10,193609,4.0,1537109082\r\n")
MOVIES_CSV = ('movieId,title,genres\n'
              '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n'
              '11,"American President, The (1995)",Comedy|Drama|Romance\n'
              '144,"Brothers McMullen, The (1995)",(no genres listed)\n'
              '193609,"Andrew Dice Clay: Dice Rules (1991)",Comedy\n')


def ml_latest(root: Path, name: str = "ml-latest-small") -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "ratings.csv").write_bytes(RATINGS_CSV.encode())
    (d / "movies.csv").write_text(MOVIES_CSV, encoding="utf-8")
    (d / "links.csv").write_text("movieId,imdbId,tmdbId\n1,0114709,862\n")
    return d


def zip_folder(folder: Path, target: Path, nested: bool = True) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        if nested:
            zf.writestr(f"{folder.name}/", "")
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{folder.name}/{f.name}" if nested else f.name)
    return target


def cell(r, user: str, item: str) -> float:
    return r.to_dense()[r.users.index(user), r.items.index(item)]


# -- the three layouts ---------------------------------------------------------------------------
def test_ml_100k_folder(tmp_path):
    res = mio.load(ml100k(tmp_path))
    r = res.session.ratings
    assert res.fmt == "movielens"
    assert r.users == ("1", "2", "10", "196")  # numeric ids in numeric order
    assert r.items == ("Toy Story (1995)", "Café au lait (1993)", "Kolya (1996)", "Chasing Amy (1997) (movie 246)",
                       "unknown", "Chasing Amy (1997) (movie 268)")  # by movie id; the shared title gets the ids
    assert r.item_genres == (("Animation", "Children's", "Comedy"), ("Comedy",), ("Comedy",), ("Drama", "Romance"),
                             ("unknown",), ("Comedy", "Drama", "Romance"))
    assert r.nnz == 7 and r.scale == (1.0, 5.0)
    assert cell(r, "196", "Kolya (1996)") == 3 and cell(r, "10", "Toy Story (1995)") == 4
    assert res.notices == ["Read MovieLens 100K: 7 ratings of 6 films by 4 users, with titles and 19 genres."]


def test_u_genre_names_the_flags(tmp_path):
    d = ml100k(tmp_path)
    (d / "u.genre").write_text("".join(f"G{k}|{k}\n" for k in range(19)))
    r = mio.load(d).session.ratings
    assert r.item_genres[0] == ("G3", "G4", "G5")


def test_ml_1m_folder_latin1_titles_and_genres(tmp_path):
    res = mio.load(ml1m(tmp_path))
    r = res.session.ratings
    assert r.users == ("1", "2", "10")
    assert r.items == ("James and the Giant Peach (1996)", "One Flew Over the Cuckoo's Nest (1975)",
                       "Erin Brockovich (2000)")
    assert r.item_genres == (("Animation", "Children's", "Musical"), ("Drama",), ("Drama",))
    assert cell(r, "10", "One Flew Over the Cuckoo's Nest (1975)") == 4
    assert res.notices == ["Read MovieLens 1M: 4 ratings of 3 films by 3 users, with titles and 4 genres."]


def test_ml_10m_layout_utf8_titles_and_half_stars(tmp_path):
    d = ml1m(tmp_path, "ml-10M100K", encoding="utf-8")
    (d / "ratings.dat").write_text(RATINGS_DAT.replace("::5::", "::4.5::") + "3::3409::0.5::978300275\n")
    res = mio.load(d)
    r = res.session.ratings
    assert "Café Society (1995)" in r.items and r.scale == (0.5, 5.0)
    assert cell(r, "1", "One Flew Over the Cuckoo's Nest (1975)") == 4.5
    assert res.notices[0].startswith("Read MovieLens 10M: 5 ratings of 4 films by 4 users")


def test_current_layout_quoted_titles_header_with_spaces_and_no_genres(tmp_path):
    res = mio.load(ml_latest(tmp_path))
    r = res.session.ratings
    assert r.users == ("1", "2", "10")
    assert r.items == ("Toy Story (1995)", "American President, The (1995)", "Brothers McMullen, The (1995)",
                       "Andrew Dice Clay: Dice Rules (1991)")
    assert r.item_genres[2] == () and r.item_genres[1] == ("Comedy", "Drama", "Romance")
    assert r.scale == (0.5, 5.0) and cell(r, "2", "Brothers McMullen, The (1995)") == 1.5
    assert res.notices == ["Read MovieLens latest-small: 5 ratings of 4 films by 3 users, with titles and 7 genres."]


def test_half_star_scale_even_when_no_half_star_is_given(tmp_path):
    d = ml_latest(tmp_path)
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n2,11,3.0,2\n")
    assert mio.load(d).session.ratings.scale == (0.5, 5.0)
    assert mio.load(d, scale=(1, 5)).session.ratings.scale == (1.0, 5.0)


# -- containers: zip and a lone ratings file ---------------------------------------------------------
@pytest.mark.parametrize("nested", [True, False])
@pytest.mark.parametrize("make", [ml100k, ml1m, ml_latest])
def test_a_zip_reads_like_its_folder_and_nothing_is_extracted(tmp_path, make, nested):
    folder = make(tmp_path / "src")
    (tmp_path / "out").mkdir()
    z = zip_folder(folder, tmp_path / "out" / f"{folder.name}.zip", nested)
    res = mio.load(z)
    assert res.fmt == "movielens"
    assert res.session.ratings == mio.load(folder).session.ratings
    assert res.notices == mio.load(folder).notices
    assert os.listdir(z.parent) == [z.name]


def test_a_zip_under_another_name_is_still_no_npz(tmp_path):
    z = zip_folder(ml100k(tmp_path), tmp_path / "download")  # no suffix at all
    assert mio.load(z).session.ratings.items[0] == "Toy Story (1995)"


def test_a_folder_holding_the_unpacked_folder(tmp_path):
    ml1m(tmp_path / "Downloads")
    assert mio.load(tmp_path / "Downloads").session.ratings.n_items == 3


@pytest.mark.parametrize("make, name", [(ml100k, "u.data"), (ml1m, "ratings.dat"), (ml_latest, "ratings.csv")])
def test_a_ratings_file_alone_finds_the_titles_beside_it(tmp_path, make, name):
    folder = make(tmp_path)
    res = mio.load(folder / name)
    assert res.fmt == "movielens" and res.session.ratings == mio.load(folder).session.ratings


@pytest.mark.parametrize("make, name, movies", [(ml100k, "u.data", "u.item"), (ml1m, "ratings.dat", "movies.dat"),
                                                (ml_latest, "ratings.csv", "movies.csv")])
def test_a_ratings_file_alone_without_titles_uses_the_ids(tmp_path, make, name, movies):
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / name).write_bytes((make(tmp_path) / name).read_bytes())
    res = mio.load(alone / name)
    r = res.session.ratings
    assert res.fmt == "movielens" and r.item_genres is None
    assert all(lab.isdigit() for lab in r.items) and list(map(int, r.items)) == sorted(map(int, r.items))
    assert f"there is no {movies} beside {name}, so films are labelled by their ids" in res.notices[0]


def test_ml_100k_splits_open_alone_with_titles(tmp_path):
    d = ml100k(tmp_path)
    (d / "u1.base").write_text(U_DATA.splitlines()[0] + "\n" + U_DATA.splitlines()[2] + "\n")
    r = mio.load(d / "u1.base").session.ratings
    assert r.items == ("Kolya (1996)", "Chasing Amy (1997)")  # only the rated films: their titles are unique here


def test_a_ratings_csv_that_is_not_movielens_is_read_as_triples(tmp_path):
    p = tmp_path / "ratings.csv"
    p.write_text("user,item,rating\nann,Up,4\nbob,Up,5\n")
    res = mio.load(p)
    assert res.fmt == "triples" and res.session.ratings.items == ("Up",)


def test_films_missing_from_the_titles_file_are_named_by_id(tmp_path):
    d = ml1m(tmp_path)
    (d / "movies.dat").write_text("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\nnot a line\n")
    res = mio.load(d)
    r = res.session.ratings
    assert r.items == ("Movie 661", "One Flew Over the Cuckoo's Nest (1975)", "Movie 3408")
    assert any("2 rated film(s) have no title in movies.dat" in n for n in res.notices)
    assert any("1 line(s) of movies.dat could not be read (the first is line 2)" in n for n in res.notices)


def test_duplicate_ratings_last_one_wins(tmp_path):
    d = ml1m(tmp_path)
    (d / "ratings.dat").write_text(RATINGS_DAT + "1::1193::2::978300761\n")
    res = mio.load(d)
    assert cell(res.session.ratings, "1", "One Flew Over the Cuckoo's Nest (1975)") == 2
    assert "1 duplicate rating(s): the last one of each was kept." in res.notices


# -- bad input: each gets a sentence ---------------------------------------------------------------
def test_a_folder_that_is_not_movielens_says_what_it_looked_for(tmp_path):
    d = tmp_path / "ml-foo"
    d.mkdir()
    (d / "notes.txt").write_text("hello\n")
    with pytest.raises(mio.FileFormatError) as info:
        mio.load(d)
    assert str(info.value) == ("ml-foo has no MovieLens ratings file (looked for u.data, ratings.dat, ratings.csv); "
                               "open a rating file instead or choose the MovieLens folder.")


def test_a_zip_that_is_not_movielens_says_what_it_looked_for(tmp_path):
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a/cat.jpg", b"\xff\xd8")
    with pytest.raises(mio.FileFormatError, match=r"photos.zip holds no MovieLens ratings file \(looked for u.data, "):
        mio.load(z)
    z.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(mio.FileFormatError, match="photos.zip is not a valid .zip file"):
        mio.load(z)


def test_an_empty_ratings_file(tmp_path):
    d = ml1m(tmp_path)
    (d / "ratings.dat").write_text("\n\n")
    with pytest.raises(mio.FileFormatError, match="ratings.dat in ml-1m holds no ratings"):
        mio.load(d)


def test_no_limit_on_users_times_films(tmp_path, monkeypatch):
    # 3,000 users x 3,000 films read in blocks of about 80 lines: no cell limit, only memory
    d = tmp_path / "ml-25m"
    d.mkdir()
    lines = "".join(f"{k},{k},4.0,1\n" for k in range(1, 3001))
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + lines)
    monkeypatch.setattr(mlp, "BLOCK_BYTES", 1000)
    r = mio.load(d).session.ratings
    assert r.shape == (3000, 3000) and r.nnz == 3000 and r.users[-1] == "3000"


def test_ratings_that_do_not_fit_in_memory_are_refused_with_a_sentence(tmp_path, monkeypatch):
    from mfstudio.core import memory

    monkeypatch.setattr(memory, "CHECK_ABOVE", 0)
    monkeypatch.setattr(memory, "available_bytes", lambda: 100)
    with pytest.raises(mio.FileFormatError, match=r"Ratings of 3 users x 3 items \(4 ratings\) need about "):
        mio.load(ml1m(tmp_path))


def test_huge_ids_are_read(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text("".join(f"{k * 10**12}::{k}::4::1\n" for k in range(1, 4)))
    assert mio.load(d).session.ratings.users == ("1000000000000", "2000000000000", "3000000000000")


def test_zip_members_pointing_outside_are_refused(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml-100k/u.data", U_DATA)
        zf.writestr("../../u.item", U_ITEM)
    with pytest.raises(mio.FileFormatError, match=r"evil.zip holds a file named '../../u.item', which points outside"):
        mio.load(z)


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    z = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-100k/u.data", U_DATA + "0" * 2_000_000)  # 2 MB that pack to a few kB
    assert z.stat().st_size < 20_000
    monkeypatch.setattr(ml, "MAX_FILE_BYTES", 1_000_000)
    with pytest.raises(mio.FileFormatError,
                       match=r"ml-100k.zip/ml-100k/u.data unpacks to 1.9 MiB, more than MF Studio reads \(977 KiB\)"):
        mio.load(z)


def test_a_member_that_unpacks_to_more_than_it_declares_is_called_damaged(tmp_path):
    z = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-1m/ratings.dat", RATINGS_DAT * 1000)
    data = bytearray(z.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # the central directory entry: declared sizes at offsets 20 (packed) and 24
    struct.pack_into("<I", data, cd + 24, 100)
    z.write_bytes(bytes(data))
    with pytest.raises(mio.FileFormatError, match="ml-1m.zip is damaged"):
        mio.load(z)


def test_an_encrypted_member_gets_a_sentence(tmp_path):
    z = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ml-1m/ratings.dat", RATINGS_DAT)
    data = bytearray(z.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the flag bits of the local and central headers
        pos = data.find(sig) + at
        struct.pack_into("<H", data, pos, struct.unpack_from("<H", data, pos)[0] | 0x1)
    z.write_bytes(bytes(data))
    with pytest.raises(mio.FileFormatError, match="ml-1m.zip/ml-1m/ratings.dat is encrypted"):
        mio.load(z)


@pytest.mark.parametrize("make, name, ratings", [(ml100k, "u.item", "u.data"), (ml1m, "movies.dat", "ratings.dat"),
                                                 (ml_latest, "movies.csv", "ratings.csv"),
                                                 (ml_latest, "links.csv", "ratings.csv")])
def test_the_titles_file_opened_by_mistake_points_to_the_ratings(tmp_path, make, name, ratings):
    d = make(tmp_path)
    with pytest.raises(mio.FileFormatError) as info:
        mio.load(d / name)
    assert str(info.value) == (f"{name} is part of a MovieLens download but holds no ratings; "
                               f"open its folder (or {ratings}) instead.")
    (d / ratings).unlink()
    refused = pytest.raises(mio.FileFormatError, match="does not look like ratings")
    with refused if name != "links.csv" else nullcontext():
        mio.load(d / name)  # alone it is judged by its content (links.csv is a matrix of numbers)


def test_the_movielens_readme_is_not_ratings(tmp_path):
    with pytest.raises(mio.FileFormatError, match="^README does not look like ratings"):
        mio.load(ml100k(tmp_path) / "README")


def test_forcing_movielens_on_another_file(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("1,2,3\n")
    with pytest.raises(mio.FileFormatError, match="mine.csv is not a MovieLens ratings file"):
        mio.load(p, fmt="movielens")


@FUZZ
@given(data=st.binary(max_size=300),
       name=st.sampled_from(["u.data", "ratings.dat", "ratings.csv", "u.item", "movies.csv"]))
def test_garbage_in_a_movielens_folder_or_zip(tmp_path_factory, data, name):
    d = tmp_path_factory.mktemp("ml") / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text(RATINGS_DAT)
    (d / "u.data").write_text(U_DATA)
    (d / name).write_bytes(data)
    check(d)
    check(d / "u.data")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"ml-1m/{name}", data)
    (d.parent / "x.zip").write_bytes(buf.getvalue())
    check(d.parent / "x.zip")


def test_describe_names_the_ratings_file_without_reading_it(tmp_path):
    assert ml.describe(ml100k(tmp_path)) == "ml-100k/u.data"
    assert ml.describe(zip_folder(ml1m(tmp_path), tmp_path / "ml-1m.zip")) == "ml-1m.zip/ml-1m/ratings.dat"
    (tmp_path / "empty").mkdir()
    with pytest.raises(mio.FileFormatError, match="empty has no MovieLens ratings file"):
        ml.describe(tmp_path / "empty")
