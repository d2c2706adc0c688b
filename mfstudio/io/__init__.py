"""Files in and out, without Qt: rating files (CSV/TSV matrix or triples, .npz), MovieLens
downloads (folder or .zip), session files (.mfstudio), lesson files (.mfslesson), result exports,
and atomic writes."""

from mfstudio.io.atomic import atomic_write, write_files
from mfstudio.io.errors import FileFormatError
from mfstudio.io.export import (
    BIAS_FILES,
    HELD_OUT_FILE,
    MANIFEST,
    RESULT_FILES,
    check_export_folder,
    export_biases,
    export_history,
    export_P,
    export_Q,
    export_R_hat,
    export_ratings,
    export_recommendations,
    export_results,
    export_runs,
    result_files,
    runs_csv,
    session_recommendations,
    verify_export,
)
from mfstudio.io.lesson_file import (
    LESSON_SUFFIX,
    lesson_from_bytes,
    lesson_from_session,
    lesson_to_bytes,
    load_lesson,
    save_lesson,
)
from mfstudio.io.load import FORMATS, LoadResult, load
from mfstudio.io.npz import read_npz
from mfstudio.io.session_file import load_session, session_from_bytes
from mfstudio.io.session_write import FORMAT_VERSION, save_session, session_to_bytes

FILE_FILTERS: list[str] = [
    "All supported (*.mfstudio *.mfslesson *.csv *.tsv *.txt *.data *.dat *.base *.test *.npz *.json *.zip)",
    "MF Studio sessions (*.mfstudio)",
    "MF Studio lessons (*.mfslesson)",
    "Rating tables (*.csv *.tsv *.txt *.data *.dat)",
    "MovieLens (*.zip u.data *.base *.test ratings.dat ratings.csv)",
    "NumPy arrays (*.npz)",
    "All files (*)",
]
SESSION_FILTER = "MF Studio sessions (*.mfstudio)"
LESSON_FILTER = "MF Studio lessons (*.mfslesson)"
CSV_FILTER = "CSV files (*.csv)"

__all__ = [
    "FileFormatError", "LoadResult", "load", "FORMATS", "save_session", "load_session", "session_to_bytes",
    "session_from_bytes", "FORMAT_VERSION", "export_results", "result_files", "RESULT_FILES", "export_P",
    "export_Q", "export_R_hat", "export_biases", "BIAS_FILES", "HELD_OUT_FILE", "session_recommendations",
    "export_history", "export_recommendations", "export_ratings",
    "export_runs", "runs_csv", "atomic_write", "write_files", "MANIFEST", "check_export_folder",
    "verify_export", "read_npz", "FILE_FILTERS", "SESSION_FILTER", "CSV_FILTER", "LESSON_FILTER", "LESSON_SUFFIX",
    "load_lesson", "save_lesson", "lesson_to_bytes", "lesson_from_bytes", "lesson_from_session",
]
