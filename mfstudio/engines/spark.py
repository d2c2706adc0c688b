r"""The ``spark`` engine: train on Apache Spark MLlib's ALS (``pyspark.ml.recommendation.ALS``), locally or on a
cluster, and bring the factors back as MF Studio's :class:`~mfstudio.core.solvers.Factors`.

pyspark is imported lazily (``pip install 'mfstudio[spark]'`` plus a Java runtime); nothing here needs Qt.

How the parameters map (:func:`map_params`), checked against Spark's ``ALS.scala`` (``computeFactors`` adds
``numExplicits * regParam`` to the diagonal of each row's normal equations, ``CholeskySolver`` solving
(AᵀA + λI) x = Aᵀb):

* explicit (``als``, ``sgd``, ``nmf``): MF Studio's e charges β/2 (‖P_i‖² + ‖Q_:j‖²) per observed entry, so user
  i's ridge weight is (β/2)·n_i; Spark's ALS-WR uses regParam·n_u. The two objectives are the same function when
  **regParam = β/2**. ``nmf`` adds ``nonnegative = True`` (Spark's NNLS solver, the same constraint P, Q ≥ 0).
  Spark solves every row exactly (Cholesky), as ``cg_steps = exact``; it has no tolerance (all maxIter steps run)
  and starts from random unit vectors, not Q ~ U[0, 1), so its path differs while its objective does not.
* implicit (``implicit-als``: c = 1 + confidence·r on observed cells, Σ c (p − x)² + β (‖P‖² + ‖Q‖²), β the same
  for every row): ``implicitPrefs = True`` and ``alpha = confidence`` (Spark's c = 1 + alpha·|r|, preference 1
  where r > 0: the same convention for positive counts). Spark still scales λ by each row's count of positive
  entries (regParam·n_u), so no regParam gives every row MF Studio's β; the closest is the one giving the same
  total ridge weight over all users and items, **regParam = β (n_users + n_items) / (2 · positives)**, and the
  mapping says so in its notes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mfstudio.core.errors import MFStudioError
from mfstudio.core.ratings import Observed

ENGINE = "spark"
DEFAULT_MASTER = "local[*]"
SPARK_SOLVERS = ("als", "nmf", "sgd", "implicit-als")  # the solvers whose objective Spark's ALS minimises
INSTALL = ("--engine spark needs pyspark and a Java runtime: run pip install 'mfstudio[spark]' and install Java "
           "17 or later (for example apt-get install default-jre-headless), then try again.")
SPARK_SCHEMES = ("hdfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "dbfs", "viewfs", "file")
# MF Studio's parameters a Spark run uses (map_params); the others (tol, cg_steps, sgd's alpha) do not apply to it
USED_PARAMS = ("K", "steps", "beta", "seed")
IMPLICIT_USED_PARAMS = (*USED_PARAMS, "confidence")
# Spark's own settings for a quiet, light local run; --spark-conf overrides any of them
QUIET_CONF = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false", "spark.log.level": "ERROR"}
# in one process, 200 shuffle partitions (Spark's default, sized for clusters) are mostly task overhead
LOCAL_CONF = {"spark.sql.shuffle.partitions": "4"}


class EngineError(MFStudioError):
    """The Spark engine cannot run as asked (missing pyspark or Java, a bad setting, Spark failed); one sentence."""


@dataclass(frozen=True)
class SparkMapping:
    """MF Studio's parameters as Spark ALS's: ``spark`` are ``ALS(**spark)``'s arguments (besides the column
    names), ``notes`` say in a sentence each what does not carry over exactly."""

    solver: str
    spark: dict[str, Any]
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """One line stating the mapped parameters, then the notes."""
        shown = ", ".join(f"{k} = {_shown(v)}" for k, v in self.spark.items())
        return [f"Spark ALS parameters from {self.solver}: {shown}.", *self.notes]


def _shown(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def map_params(solver: str, params: Mapping[str, Any], *, n_users: int, n_items: int,
               n_positive: int) -> SparkMapping:
    """Spark ALS's parameters for ``solver`` run with ``params`` (K, steps, beta, seed; confidence for
    implicit-als) on data of ``n_users`` x ``n_items`` with ``n_positive`` training entries above 0 (the ones
    Spark's implicit λ counts). See the module docstring for the derivation."""
    if solver not in SPARK_SOLVERS:
        if solver == "biased-sgd":
            raise EngineError("Spark's ALS has no user and item biases, so biased-sgd cannot run on --engine spark; "
                              "use --solver als (the same objective without biases).")
        raise EngineError(f"--engine spark runs {', '.join(SPARK_SOLVERS)}, not {solver!r}; choose one of them.")
    beta = float(params["beta"])
    spark: dict[str, Any] = {"rank": int(params["K"]), "maxIter": int(params["steps"])}
    notes: list[str] = []
    if solver == "implicit-als":
        positives = max(int(n_positive), 1)
        reg = beta * (n_users + n_items) / (2 * positives)
        if params.get("confidence") is None:
            raise EngineError("implicit-als needs its confidence (c = 1 + confidence × count) to map to Spark's "
                              "alpha; set --confidence.")
        spark.update(regParam=reg, implicitPrefs=True, alpha=float(params["confidence"]), nonnegative=False)
        notes.append(f"implicit-als charges every user and item the same β = {beta:g}; Spark charges regParam × "
                     "the row's count of interactions, so regParam = β (users + items) / (2 × interactions) = "
                     f"{reg:.6g} gives the same total, a busy user more and a rare one less than implicit-als.")
    else:
        spark.update(regParam=beta / 2, implicitPrefs=False, nonnegative=solver == "nmf")
        if solver == "sgd":
            notes.append("Spark minimises sgd's objective e by alternating least squares, so the learning rate "
                         "(alpha) is not used.")
    spark.update(seed=int(params["seed"]), coldStartStrategy="drop")
    how = "by nonnegative least squares (NNLS)" if solver == "nmf" else "exactly (Cholesky)"
    notes.append(f"Spark solves each user and item {how}, runs all maxIter steps (no tolerance) and "
                 "starts from its own random unit vectors, so its path differs from MF Studio's.")
    return SparkMapping(solver, spark, tuple(notes))


def used_params(solver: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``params`` a Spark run of ``solver`` uses: what its result and run.json's "parameters" state."""
    keys = IMPLICIT_USED_PARAMS if solver == "implicit-als" else USED_PARAMS
    return {k: params[k] for k in keys if k in params}


def parse_conf(pairs: Sequence[str] | None) -> dict[str, str]:
    """``--spark-conf KEY=VALUE`` pairs as a dict; a pair without ``=`` is refused."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise EngineError(f"--spark-conf takes KEY=VALUE (for example spark.executor.memory=4g), not {pair!r}.")
        out[key.strip()] = value.strip()
    return out


def java_command() -> str | None:
    """The ``java`` Spark will launch: $JAVA_HOME/bin/java, else the one on PATH (None: none)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_available() -> None:
    """Raise :class:`EngineError` with :data:`INSTALL` unless pyspark imports and a Java runtime is found."""
    if importlib.util.find_spec("pyspark") is None or java_command() is None:
        raise EngineError(INSTALL)


def is_local(master: str) -> bool:
    """True for Spark's in-process masters (``local``, ``local[N]``, ``local[*]``, ``local[N,F]``)."""
    return master == "local" or master.startswith("local[")


def spark_reads(path: str) -> bool:
    """True when DATA is for Spark to read itself: a URI of a file system Spark knows (hdfs://, s3a://, ...) or a
    parquet file or folder, which MF Studio's readers do not read."""
    scheme, sep, _ = path.partition("://")
    if sep and scheme.lower() in SPARK_SCHEMES:
        return True
    p = Path(path)
    return p.suffix.lower() == ".parquet" or (p.is_dir() and any(p.glob("*.parquet")))


@contextlib.contextmanager
def spark_session(master: str = DEFAULT_MASTER, conf: Mapping[str, str] | None = None,
                  app_name: str = "MF Studio") -> Iterator[Any]:
    """A SparkSession on ``master`` with ``conf``, quiet (errors only) unless ``conf`` says otherwise; on leaving,
    the session is stopped and so is the Java process this started, so nothing is left running."""
    check_available()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    settings = {**QUIET_CONF, **(LOCAL_CONF if is_local(master) else {}), **(conf or {})}
    tmp = tempfile.mkdtemp(prefix="mfstudio-spark-")
    started_jvm = SparkContext._gateway is None
    builder = SparkSession.builder.master(master).appName(app_name)
    for k, v in settings.items():
        builder = builder.config(k, v)
    log = Path(tmp) / "spark.log"
    try:
        with _stderr_to(log if started_jvm else None):  # the Java process's own messages go to a log, not the user
            spark = builder.getOrCreate()
    except Exception as exc:  # Py4J/Java errors and a JVM that would not start: one sentence
        _stop_jvm(started_jvm)
        why = _log_error(log) or _first_line(exc)
        shutil.rmtree(tmp, ignore_errors=True)
        raise EngineError(f"Spark did not start on {master} ({why}); check --spark-master, --spark-conf and the "
                          "Java runtime.") from None
    try:
        if is_local(master):  # a long lineage of many steps needs checkpoints; a cluster sets its own folder
            spark.sparkContext.setCheckpointDir(str(Path(tmp) / "checkpoints"))
        yield spark
    finally:
        try:
            spark.stop()
        finally:
            _stop_jvm(started_jvm)
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _stderr_to(path: Path | None) -> Iterator[None]:
    """File descriptor 2 (what a started process inherits) pointed at ``path`` meanwhile (None: unchanged)."""
    if path is None:
        yield
        return

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "wb") as f:
            os.dup2(f.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _log_error(log: Path) -> str:
    """The first line of the Java log that names an error or exception ("" if none)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((ln.strip().rstrip(".") for ln in lines if "Exception" in ln or "Error" in ln), "")


def _stop_jvm(started: bool) -> None:
    """End the Java gateway process if this module started it (pyspark keeps it until Python exits)."""
    if not started:
        return
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    with contextlib.suppress(Exception):
        gateway.shutdown()
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.stdin.close()
        with contextlib.suppress(Exception):
            proc.terminate()
            proc.wait(timeout=20)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    SparkContext._gateway = None
    SparkContext._jvm = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")


def spark_version(spark: Any) -> str:
    """The version of the Spark a session runs."""
    return str(spark.version)


@dataclass
class SparkFit:
    """What a Spark ALS run gave: factors in MF Studio's layout (P users x K, Q K x items; a user or item Spark
    never saw gets zeros, as in ``als``), Spark's own validation RMSE (over the held-out ratings whose user and
    item it knows: coldStartStrategy "drop"), and times."""

    P: np.ndarray
    Q: np.ndarray
    val_rmse: float  # RegressionEvaluator(metricName="rmse") on the held-out ratings kept (NaN: none)
    val_scored: int  # held-out ratings Spark scored (the others were dropped: cold user or item)
    fit_s: float  # ALS.fit: maxIter steps (and Spark's preparation of the blocks)
    send_s: float  # handing the ratings to Spark
    spark_version: str
    extra: dict[str, Any] = field(default_factory=dict)


def _frame(spark: Any, o: Observed, folder: Path, name: str, local: bool) -> Any:
    """``o`` as a DataFrame (user, item, rating): through a CSV file in ``folder`` on a local master (fast), else
    sent from this process (a cluster's executors cannot read this machine's files)."""
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    schema = StructType([StructField("user", IntegerType(), False), StructField("item", IntegerType(), False),
                         StructField("rating", FloatType(), False)])
    if local:
        path = folder / f"{name}.csv"
        table = np.empty(len(o), dtype=[("u", np.int64), ("i", np.int64), ("r", np.float64)])
        table["u"], table["i"], table["r"] = o.rows, o.cols, o.vals
        np.savetxt(path, table, fmt=("%d", "%d", "%.17g"), delimiter=",")
        return spark.read.schema(schema).csv(str(path))
    rows = list(zip(o.rows.tolist(), o.cols.tolist(), o.vals.astype(float).tolist()))
    return spark.createDataFrame(rows, schema)


def _factor_matrix(df: Any, n: int, K: int) -> np.ndarray:
    """A factors DataFrame (id, features) as an n x K array; ids Spark has no factor for stay zero."""
    out = np.zeros((n, K))
    for row in df.toLocalIterator():
        out[int(row["id"])] = row["features"]
    return out


def fit_als(spark: Any, train: Observed, val: Observed, shape: tuple[int, int], mapping: SparkMapping) -> SparkFit:
    """Train Spark ALS with ``mapping`` on ``train`` (indices as ids) and score ``val`` with Spark's evaluator."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.recommendation import ALS

    local = is_local(spark.sparkContext.master)
    with tempfile.TemporaryDirectory(prefix="mfstudio-spark-data-") as tmp:
        t0 = time.perf_counter()
        train_df = _frame(spark, train, Path(tmp), "train", local).cache()
        train_df.count()
        t1 = time.perf_counter()
        blocks = max(1, int(spark.sparkContext.defaultParallelism)) if local else 10  # Spark's default: 10
        als = ALS(userCol="user", itemCol="item", ratingCol="rating", numUserBlocks=blocks, numItemBlocks=blocks,
                  **mapping.spark)
        try:
            model = als.fit(train_df)
            P = _factor_matrix(model.userFactors, shape[0], mapping.spark["rank"])
            Q = _factor_matrix(model.itemFactors, shape[1], mapping.spark["rank"]).T.copy()
        except Exception as exc:
            raise EngineError(f"Spark's ALS failed: {_first_line(exc)}.") from None
        t2 = time.perf_counter()
        val_rmse, scored = float("nan"), 0
        if len(val):
            predictions = model.transform(_frame(spark, val, Path(tmp), "val", local)).cache()
            scored = int(predictions.count())
            if scored:
                evaluator = RegressionEvaluator(metricName="rmse", labelCol="rating", predictionCol="prediction")
                val_rmse = float(evaluator.evaluate(predictions))
            predictions.unpersist()
        train_df.unpersist()
    return SparkFit(P, Q, val_rmse, scored, t2 - t1, t1 - t0, spark_version(spark), {"blocks": blocks})


USER_NAMES = ("user", "userid", "user_id", "userId")
ITEM_NAMES = ("item", "itemid", "item_id", "movieid", "movie_id", "movieId")
RATING_NAMES = ("rating", "ratings", "score", "value", "count")


def read_triples(spark: Any, path: str) -> tuple[list[Any], list[Any], np.ndarray]:
    """The (user, item, rating) columns of a parquet or CSV file (with a header) that Spark reads itself, collected
    here: columns named user/userId, item/movieId, rating (any case), else the first three."""
    reader = spark.read
    try:
        if path.lower().rstrip("/").endswith(".parquet") or not path.lower().endswith((".csv", ".tsv", ".txt")):
            try:
                df = reader.parquet(path)
            except Exception:
                df = reader.option("header", True).option("inferSchema", True).csv(path)
        else:
            sep = "\t" if path.lower().endswith(".tsv") else ","
            df = reader.option("header", True).option("inferSchema", True).option("sep", sep).csv(path)
        names = {c.lower(): c for c in df.columns}
        pick = [next((names[n.lower()] for n in group if n.lower() in names), None)
                for group in (USER_NAMES, ITEM_NAMES, RATING_NAMES)]
        if None in pick:
            if len(df.columns) < 3:
                raise EngineError(f"{path} has {len(df.columns)} columns; Spark data needs user, item and rating "
                                  "columns (named so, or the first three).")
            pick = df.columns[:3]
        users: list[Any] = []
        items: list[Any] = []
        vals: list[float] = []
        for r in df.select(*pick).na.drop().toLocalIterator():  # a partition at a time, never a list of Rows
            users.append(r[0])
            items.append(r[1])
            vals.append(r[2])
        values = np.array(vals, dtype=np.float64)
    except EngineError:
        raise
    except (TypeError, ValueError):
        raise EngineError(f"{path}: every rating (the third column) must be a number.") from None
    except Exception as exc:
        raise EngineError(f"Spark could not read {path}: {_first_line(exc)}.") from None
    return users, items, values
