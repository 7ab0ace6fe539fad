"""The life cycle every synthesizer shares: validate, discover, encode, measure, fit, sample.

A synthesizer subclass only decides WHICH marginals to measure and how to
spend its measurement budget (:meth:`Synthesizer._measure`). Everything else
lives here, in this order, so that privacy rules hold for all of them:

1. parameters and the input table are checked; every problem is raised
   before any privacy budget is spent;
2. the kinds of a CSV read into memory (``kind_from_data``) are decided with
   DP, then columns whose domain is not public are discovered with DP (all
   charged), on the engine that holds the table (pandas, DuckDB or Spark);
3. the table is encoded with the (public or DP) schema;
4. the subclass measures marginals through :class:`MeasurementSession`,
   which charges the accountant for every noisy answer and selection;
5. the graphical model is fitted to the noisy measurements (post-processing);
6. sampling draws from the model: any number of rows, any number of times,
   at no further privacy cost. The default number of rows is the model's
   total, a DP estimate of the real row count.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dpsynth._version import __version__
from dpsynth.domain import Domain
from dpsynth.encoding import TableEncoder
from dpsynth.encoding.discovery import discover_schema
from dpsynth.encoding.formats import DECIDED_DTYPES, KIND_SHARE, decide_kinds, vote_kinds
from dpsynth.encoding.profile import ColumnProfiler
from dpsynth.engines import (
    CountingEngine,
    DuckDBEngine,
    DuckDBProfiler,
    NumpyEngine,
    SparkEngine,
    SparkProfiler,
)
from dpsynth.engines.refusals import structure_problems
from dpsynth.engines.sql import DUCKDB, SPARK
from dpsynth.errors import (
    InputDataError,
    NotFittedError,
    ParameterError,
    Problem,
    SchemaError,
    parameter_error,
)
from dpsynth.pgm import GraphicalModel, Measurement, estimate, sample
from dpsynth.pgm.factor import CliqueVector
from dpsynth.privacy import mechanisms
from dpsynth.privacy.accountant import Accountant, PrivacyBudget, Spend
from dpsynth.schema import ColumnKind, Schema, infer_schema
from dpsynth.synthesizers.compression import CompressedCounts, DomainCompression
from dpsynth.synthesizers.streaming import DEFAULT_CHUNK_ROWS, write_samples

SAVE_FORMAT = 1
_MB = 1024 * 1024


class MeasurementSession:
    """What a synthesizer may do with the private data while fitting.

    Every method that returns something computed from the data adds calibrated
    noise and charges the accountant first; exact counts never leave it.

    Parameters
    ----------
    engine : CountingEngine
        Exact counts of the encoded (possibly compressed) table.
    accountant : Accountant
        The budget of this fit.
    """

    def __init__(self, engine: CountingEngine, accountant: Accountant):
        self.engine = engine
        self.accountant = accountant
        self.measurements: list[Measurement] = []

    @property
    def domain(self) -> Domain:
        return self.engine.domain

    def measure(self, cliques: Sequence[tuple[str, ...]], rho: float, *, step: str) -> list[Measurement]:
        """Measure each clique's counts with Gaussian noise, splitting ``rho`` evenly.

        Each marginal has L2 sensitivity 1 under add/remove-one-row, so with
        ``k`` cliques each gets ``sigma = sqrt(k / (2 rho))`` and the total zCDP
        cost is ``rho``.
        """
        if not cliques:
            return []
        sigma = math.sqrt(len(cliques) / (2.0 * rho))
        return [self.measure_one(c, sigma, step=step) for c in cliques]

    def measure_one(self, clique: tuple[str, ...], sigma: float, *, step: str) -> Measurement:
        """Measure one clique's counts with discrete Gaussian noise of scale ``sigma``."""
        (counts,) = self.engine.counts([clique])
        noisy = mechanisms.gaussian_counts(
            counts.ravel(), sigma, accountant=self.accountant, step=step, clique=list(clique)
        )
        measurement = Measurement(tuple(clique), noisy.reshape(counts.shape).astype(float), sigma)
        self.measurements.append(measurement)
        return measurement

    def select(
        self,
        candidates: Sequence[Any],
        scores: np.ndarray,
        *,
        epsilon: float,
        sensitivity: float,
        step: str,
    ) -> Any:
        """Choose one candidate with the exponential mechanism (charged as ``epsilon``).

        ``scores`` must be computed from the data with the given sensitivity;
        higher is better.
        """
        index = mechanisms.exponential_select(
            np.asarray(scores, dtype=float),
            epsilon,
            sensitivity=sensitivity,
            accountant=self.accountant,
            step=step,
        )
        return candidates[int(index)]

    def measure_one_way(
        self, sigma: float, *, compress: bool
    ) -> tuple[MeasurementSession, DomainCompression, list[Measurement]]:
        """Measure every one-way marginal with noise ``sigma``, then compress the domain.

        With ``compress``, codes whose noisy count is below ``3 sigma`` are
        merged (post-processing). Returns the session on the compressed
        domain, the compression, and the one-way measurements expressed on
        the compressed domain.
        """
        noisy = {
            a: self.measure_one((a,), sigma, step="measure one-way marginals").values
            for a in self.domain.attributes
        }
        compression = (
            DomainCompression.from_noisy_counts(self.domain, noisy, sigma)
            if compress
            else DomainCompression.identity(self.domain)
        )
        one_way = [compression.one_way_measurement(a, noisy[a], sigma) for a in self.domain.attributes]
        return self.compressed(compression), compression, one_way

    def compressed(self, compression: DomainCompression) -> MeasurementSession:
        """A session on the compressed domain, charging the same accountant."""
        return MeasurementSession(CompressedCounts(self.engine, compression), self.accountant)

    def exact_counts(self, clique: tuple[str, ...]) -> np.ndarray:
        """Exact counts, for computing selection scores only; never returned to users."""
        (counts,) = self.engine.counts([clique])
        return counts


class Synthesizer(ABC):
    """Base class of the marginal-based synthesizers.

    Parameters
    ----------
    epsilon : float
        Privacy budget epsilon (> 0).
    delta : float
        Privacy budget delta (0 < delta < 1); keep it far below 1 / rows.
    public : bool
        Acknowledge that the parts of the schema read from the data without DP
        (``source: data``, and kinds marked ``kind_from_data``) may be treated
        as public. Recorded in the report. Without it, the kinds of a table in
        memory marked ``kind_from_data`` (a CSV's) are decided with DP.
    discovery_fraction : float
        Share of the budget (in rho) spent on DP discovery of columns whose
        kinds, categories or bounds are not declared. Unused when the schema
        is complete.
    max_model_mb : float
        Refuse models whose junction-tree tables would exceed this size.
    random_state : int, numpy.random.Generator or None
        Seed of the NON-private randomness (sampling, decoding, tie-breaking).
        DP noise comes from OpenDP's cryptographically secure sampler and
        cannot be seeded.
    """

    method: ClassVar[str] = "base"

    def __init__(
        self,
        *,
        epsilon: float = 1.0,
        delta: float = 1e-9,
        public: bool = False,
        discovery_fraction: float = 0.1,
        max_model_mb: float = 256.0,
        random_state: int | np.random.Generator | None = None,
    ):
        self.epsilon = epsilon
        self.delta = delta
        self.public = public
        self.discovery_fraction = discovery_fraction
        self.max_model_mb = max_model_mb
        self.random_state = random_state

    # -- parameters ---------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (JSON-compatible except ``random_state`` generators)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def check_params(self) -> None:
        """Raise :class:`ParameterError` listing every bad constructor parameter."""
        problems = []
        if not _positive_finite(self.epsilon):
            problems.append(parameter_error("epsilon", self.epsilon, "a positive finite number"))
        if not (isinstance(self.delta, (int, float)) and 0 < self.delta < 1):
            problems.append(parameter_error("delta", self.delta, "in (0, 1), e.g. 1e-9"))
        if not (isinstance(self.discovery_fraction, (int, float)) and 0 < self.discovery_fraction < 1):
            problems.append(parameter_error("discovery_fraction", self.discovery_fraction, "in (0, 1)"))
        if not _positive_finite(self.max_model_mb):
            problems.append(parameter_error("max_model_mb", self.max_model_mb, "a positive number of megabytes"))
        problems.extend(self._check_method_params())
        if problems:
            raise ParameterError("; ".join(str(p) for p in problems))

    def _check_method_params(self) -> list[ParameterError]:
        """Problems of the subclass's own parameters (none by default)."""
        return []

    def _check_schema(self, schema: Schema) -> None:  # noqa: B027 (optional hook)
        """Refuse parameters that do not fit the table's columns, before any spend."""

    @property
    def max_model_bytes(self) -> int:
        return int(self.max_model_mb * _MB)

    # -- fitting ------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame | str | os.PathLike[str] | Any, schema: Schema | None = None) -> Synthesizer:
        """Fit the synthesizer to a raw table.

        Parameters
        ----------
        df : pandas.DataFrame, path, glob, DuckDB relation or Spark DataFrame
            The private table, raw (mixed types, missing values allowed). A
            CSV or Parquet path or glob, or a DuckDB relation, is counted by
            DuckDB without loading it into pandas; a Spark DataFrame by Spark.
            Columns whose categories or bounds are not declared are discovered
            with DP on the same engine.
        schema : Schema, optional
            What is public about each column. Without it, kinds are taken from
            the dtypes (a file's or engine's column types) and every domain is
            discovered with DP. Kinds marked ``kind_from_data`` (a CSV's) are
            decided with DP (for a DataFrame, CSV files counted by DuckDB or a
            Spark table), unless ``public=True``.

        Returns
        -------
        Synthesizer
            ``self``; ``decided_kinds_`` names the columns whose kinds DP
            decided (the table was conformed to them before counting).

        Raises
        ------
        ParameterError, InputDataError, SchemaError
            Before any privacy budget is spent.
        """
        self.check_params()
        self._fit_accountant = None
        data: pd.DataFrame | ColumnProfiler
        if isinstance(df, pd.DataFrame):
            data = df
            schema = self._prepare_schema(df, schema)
        else:
            data = _source_profiler(df)
            schema = self._prepare_source_schema(data, schema)
        self._check_schema(schema)
        _refuse_nullable_without_missing(schema)
        budget = PrivacyBudget.approx(float(self.epsilon), float(self.delta))
        accountant = Accountant(budget)
        # Kept before the first mechanism runs, so a fit that fails midway still says what
        # it spent (a release charges that to the ledger).
        self._fit_accountant = accountant
        rng = np.random.default_rng(self.random_state)

        if not isinstance(data, pd.DataFrame):
            self._check_declared(data, schema)
        schema, data = self._decide_kinds(data, schema, accountant)
        if schema.incomplete_columns:
            # KIND_SHARE of the discovery budget went to the kinds, if DP decided any.
            share = 1.0 - KIND_SHARE if self.decided_kinds_ else 1.0
            schema = self._discover(data, schema, accountant, share=share)
        encoder = TableEncoder(schema)
        if isinstance(data, pd.DataFrame):
            encoded = encoder.encode(data)
            engine: CountingEngine = NumpyEngine(encoded.columns, encoded.domain)
        else:
            # Discovery ran where the data lives, one aggregation per column; the
            # out-of-core engines encode there too and check every value against the
            # schema while building, before any measurement.
            engine = _source_engine(data, encoder)

        session = MeasurementSession(engine, accountant)
        model, compression = self._measure(session, rng)

        self.schema_ = schema
        self.encoder_ = encoder
        self.model_ = model
        self.compression_ = compression
        self.measurements_ = list(session.measurements)
        self.privacy_report_ = accountant.report()
        self.spent_ = accountant.spent
        return self

    def _decide_kinds(
        self, data: pd.DataFrame | ColumnProfiler, schema: Schema, accountant: Accountant
    ) -> tuple[Schema, pd.DataFrame | ColumnProfiler]:
        """Decide with DP the kinds marked ``kind_from_data`` (a CSV's), unless ``public``.

        They take :data:`KIND_SHARE` of the discovery budget, split per column;
        the table comes back read as the decided kinds (a DataFrame conformed,
        an engine's table typed where it lives). Sets ``decided_kinds_``.
        """
        voted = () if self.public else tuple(s.name for s in schema if s.kind_from_data)
        self.decided_kinds_: tuple[str, ...] = voted
        if not voted:
            return schema, data
        cost = KIND_SHARE * self._discovery_rho(accountant) / len(voted)
        if isinstance(data, pd.DataFrame):
            return vote_kinds(data, schema, accountant=accountant, cost_per_column=cost)
        # The values classed by the engine in one pass; then read as the decided kinds.
        profiler = data
        schema = decide_kinds(lambda: profiler.format_counts(voted), schema, accountant=accountant,
                              cost_per_column=cost)
        return schema, profiler.with_kinds(schema.select(voted))

    def _check_declared(self, profiler: ColumnProfiler, schema: Schema) -> None:
        """Refuse bad values of the declared columns of a table read where it lies, before any charge.

        The counting engine checks every value, but it is built once the kinds
        and domains left to DP are decided, which spends budget. When the schema
        declares some columns in full and leaves others to DP, one pass over the
        declared columns checks their values first (the pandas path checks the
        whole frame before anything anyway).
        """
        voted = () if self.public else tuple(s.name for s in schema if s.kind_from_data)
        later = set(voted) | set(schema.incomplete_columns)
        declared = [s.name for s in schema if s.name not in later]
        if declared and later:
            _source_engine(profiler, TableEncoder(schema.select(declared)), only=True)

    def _discovery_rho(self, accountant: Accountant) -> float:
        """The budget DP discovery may spend: ``discovery_fraction`` of rho."""
        return float(self.discovery_fraction) * accountant.budget.rho

    def _discover(
        self, data: pd.DataFrame | ColumnProfiler, schema: Schema, accountant: Accountant, *, share: float = 1.0
    ) -> Schema:
        """Complete the schema with DP: ``share`` of the discovery budget and its delta, split per column.

        The thresholded histograms of categorical columns need a delta of
        their own (the chance that a value held by one row is released); they
        share ``discovery_fraction`` of the budget's delta.
        """
        incomplete = schema.incomplete_columns
        categorical = [n for n in incomplete if schema[n].kind is ColumnKind.CATEGORICAL]
        result = discover_schema(
            data,
            schema,
            accountant=accountant,
            cost_per_column=share * self._discovery_rho(accountant) / len(incomplete),
            category_delta=float(self.discovery_fraction) * float(self.delta) / max(1, len(categorical)),
        )
        return result.schema

    def _prepare_source_schema(self, profiler: ColumnProfiler, schema: Schema | None) -> Schema:
        """The schema of a table that is not in memory, checked against the table's columns and types.

        Without a schema, kinds come from the column types (:meth:`ColumnProfiler.kinds`).
        Values are checked by the counting engine as it reads them; the columns
        and their types are checked here, before any budget is spent.
        """
        kinds = profiler.kinds()
        if schema is None:
            schema = kinds
        elif not isinstance(schema, Schema):
            raise parameter_error("schema", type(schema).__name__, "a dpsynth.schema.Schema or None")
        # DuckDB (for CSV files) and Spark decide kinds marked kind_from_data with DP.
        schema.require_public(self.public, kinds_by_dp=getattr(profiler, "decides_kinds", False))
        problems = structure_problems(list(schema.names), profiler.columns)
        problems += profiler.problems([spec for spec in schema if spec.name in profiler.columns])
        if problems:
            raise InputDataError(problems)
        # A type that says more than the kind (a time zone) is public structure, restored on
        # decoding; a CSV's types were read from its values (one offset makes a column of times
        # UTC), so a kind declared for one gets the dtype of the kind alone.
        specs = []
        for spec in schema:
            read = kinds[spec.name]
            if spec.dtype is None and read.kind_from_data and not spec.kind_from_data:
                spec = replace(spec, dtype=DECIDED_DTYPES[spec.kind])
            elif spec.dtype is None and read.kind is spec.kind:
                # As in memory: a type that cannot hold a missing value (int64, bool) says the
                # column has none, where its nullability was only assumed.
                nullable = spec.nullable and (read.nullable or not spec.nullable_assumed)
                spec = replace(spec, dtype=read.dtype, nullable=nullable,
                               nullable_assumed=spec.nullable_assumed and nullable)
            specs.append(spec)
        return Schema(tuple(specs))

    def _prepare_schema(self, df: pd.DataFrame, schema: Schema | None) -> Schema:
        if not isinstance(df, pd.DataFrame):
            raise parameter_error("df", type(df).__name__, "a pandas DataFrame")
        if schema is None:
            schema = infer_schema(df, kinds_only=True)
        elif not isinstance(schema, Schema):
            raise parameter_error("schema", type(schema).__name__, "a dpsynth.schema.Schema or None")
        # Kinds read from a CSV's values are decided with DP in memory, unless acknowledged.
        schema.require_public(self.public, kinds_by_dp=True)
        problems = schema.check_frame(df)
        if problems:
            raise InputDataError(problems)
        # The raw dtypes are public structure: record them so decoding restores them. A dtype
        # that cannot hold a missing value (numpy int64, bool) says the column has none, where
        # its nullability was only assumed (a CSV's kinds acknowledged as read).
        specs = []
        for spec in schema:
            if not spec.dtype:
                dtype = df[spec.name].dtype
                holds = not (isinstance(dtype, np.dtype) and dtype.kind in "biu")
                nullable = spec.nullable and (holds or not spec.nullable_assumed)
                # A column declared continuous is restored as real numbers, whatever the frame held
                # (as the DuckDB and Spark paths do): whole-number dtypes cannot hold narrow bins.
                restored = "float64" if spec.kind is ColumnKind.CONTINUOUS and pd.api.types.is_integer_dtype(dtype) \
                    else str(dtype)
                spec = replace(spec, dtype=restored, nullable=nullable, nullable_assumed=spec.nullable_assumed and nullable)
            specs.append(spec)
        return Schema(tuple(specs))

    @abstractmethod
    def _measure(
        self, session: MeasurementSession, rng: np.random.Generator
    ) -> tuple[GraphicalModel, DomainCompression]:
        """Measure marginals through ``session`` and fit the model."""

    def _estimate(
        self,
        domain: Domain,
        measurements: Sequence[Measurement],
        *,
        warm_start: GraphicalModel | None = None,
        max_iters: int = 1000,
    ) -> GraphicalModel:
        return estimate(
            domain,
            list(measurements),
            warm_start=warm_start,
            max_iters=max_iters,
            max_bytes=self.max_model_bytes,
        )

    # -- sampling -----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(df, schema) first"
            )

    @property
    def n_rows_(self) -> int:
        """A DP estimate of the real number of rows (the model's total, rounded)."""
        self._check_fitted()
        return max(1, int(round(self.model_.total)))

    def sample(
        self,
        n: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        *,
        random_state: int | np.random.Generator | None = None,
        path: str | os.PathLike[str] | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> pd.DataFrame | Path:
        """Generate synthetic rows. Costs no privacy budget.

        Parameters
        ----------
        n : int, optional
            Number of rows; default the DP estimate of the real row count.
        conditions : mapping of column to raw value, optional
            Fix the value of some columns (e.g. to generate more rows of a
            rare class); the other columns follow the model's conditional
            distribution.
        random_state : int, Generator or None
            Seed for this draw; defaults to the synthesizer's ``random_state``.
        path : path, optional
            Stream the rows to this CSV or Parquet file (by its suffix)
            instead of returning them: ``chunk_rows`` rows are drawn, decoded
            and written at a time, so memory follows the chunk, not ``n``.
            The file appears only once complete.
        chunk_rows : int
            Rows per chunk when writing to ``path``.

        Returns
        -------
        pandas.DataFrame or pathlib.Path
            The rows, with the same columns, order and dtypes as the fitted
            table; or, with ``path``, the path of the file written.
        """
        self._check_fitted()
        if n is None:
            n = self.n_rows_
        if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0):
            raise parameter_error("n", n, "a non-negative integer number of rows")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        coded_conditions = self._code_conditions(conditions or {})
        if path is not None:
            return write_samples(
                self, int(n), path, chunk_rows=chunk_rows, coded_conditions=coded_conditions, rng=rng
            )["path"]
        codes = sample(self.model_, int(n), rng=rng, conditions=coded_conditions or None) if n else np.zeros(
            (0, len(self.model_.domain)), dtype=np.int64
        )
        codes = self.compression_.decompress_codes(codes, rng)
        return self.encoder_.decode(codes, rng=rng)

    def _code_conditions(self, conditions: Mapping[str, Any]) -> dict[str, int]:
        coded = {}
        for column, value in conditions.items():
            if column not in self.schema_:
                raise parameter_error("conditions", column, f"a column among {list(self.schema_.names)}")
            code = self.encoder_.code_of(column, value)
            coded[column] = self.compression_.compress_code(column, code)
        return coded

    # -- reporting ----------------------------------------------------------------------
    @property
    def spent_so_far(self) -> Spend | None:
        """What the latest :meth:`fit` spent, also if it failed after its first mechanism.

        Returns
        -------
        Spend or None
            The accountant's spend of the latest fit (finished or not); None if
            no mechanism has run in it (it failed in its checks, or before its
            first measurement).
        """
        accountant = getattr(self, "_fit_accountant", None)
        return accountant.spent if accountant is not None and accountant.steps else None

    def privacy_report(self) -> dict[str, Any]:
        """The guarantee and the itemised spend, in epsilon, delta and rho."""
        self._check_fitted()
        return self.privacy_report_

    # -- persistence --------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the fitted synthesizer (no private data: schema, noisy measurements, model).

        The file is a zip of JSON and ``.npy`` arrays; loading never unpickles.
        """
        self._check_fitted()
        meta = {
            "format": SAVE_FORMAT,
            "dpsynth": __version__,
            "class": type(self).__name__,
            "params": {k: v for k, v in self.get_params().items() if k != "random_state"},
            "random_state": self.random_state if isinstance(self.random_state, (int, type(None))) else None,
            "schema": self.schema_.to_dict(),
            "domain": self.model_.domain.to_dict(),
            "total": self.model_.total,
            "compression": self.compression_.to_dict(),
            "privacy": self.privacy_report_,
            "potentials": [list(c) for c in self.model_.potentials.cliques],
            "measurements": [{"clique": list(m.clique), "sigma": m.sigma} for m in self.measurements_],
        }
        from dpsynth.io import atomic_path

        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta))
            for i, clique in enumerate(self.model_.potentials.cliques):
                _write_array(zf, f"potential_{i}.npy", self.model_.potentials[clique].values)
            for i, m in enumerate(self.measurements_):
                _write_array(zf, f"measurement_{i}.npy", np.asarray(m.values))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Synthesizer:
        """Load a synthesizer written by :meth:`save`."""
        from dpsynth.synthesizers import SYNTHESIZERS

        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
            if meta.get("format") != SAVE_FORMAT:
                raise ParameterError(f"{os.fspath(path)!r} has save format {meta.get('format')}, expected {SAVE_FORMAT}")
            klass = SYNTHESIZERS[meta["class"]]
            self = klass(**meta["params"], random_state=meta["random_state"])
            schema = Schema.from_dict(meta["schema"])
            domain = Domain.from_dict(meta["domain"])
            arrays = {
                tuple(c): _read_array(zf, f"potential_{i}.npy") for i, c in enumerate(meta["potentials"])
            }
            measurements = [
                Measurement(tuple(m["clique"]), _read_array(zf, f"measurement_{i}.npy"), m["sigma"])
                for i, m in enumerate(meta["measurements"])
            ]
        self.schema_ = schema
        self.encoder_ = TableEncoder(schema)
        self.model_ = GraphicalModel(domain, CliqueVector.from_arrays(arrays), meta["total"])
        self.compression_ = DomainCompression.from_dict(self.encoder_.domain, meta["compression"])
        self.measurements_ = measurements
        self.privacy_report_ = meta["privacy"]
        self.spent_ = Spend(**meta["privacy"]["spent"])
        return self


def _write_array(zf: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with zf.open(name, "w") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def _read_array(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    with zf.open(name) as fh:
        return np.load(fh, allow_pickle=False)


def _positive_finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0



def _refuse_nullable_without_missing(schema: Schema) -> None:
    """Refuse a nullable column whose dtype holds no missing value, before discovery spends.

    The encoder refuses it too, but it is built once DP has completed the schema.
    """
    problems = []
    for spec in schema:
        if not (spec.nullable and spec.dtype):
            continue
        try:
            dtype = pd.api.types.pandas_dtype(spec.dtype)
        except TypeError:
            continue  # an unknown dtype is the encoder's to name
        if isinstance(dtype, np.dtype) and dtype.kind in "biu":
            problems.append(Problem(
                spec.name, f"dtype {spec.dtype!r} cannot hold a missing value, but the column is nullable",
                "declare a dtype that holds one (e.g. Int64, float64, boolean, string, object), "
                "or set nullable: false",
            ))
    if problems:
        raise SchemaError(problems)


def _source_profiler(source: Any) -> ColumnProfiler:
    """The profiler of a table that is not a pandas DataFrame, on the engine that reads it."""
    if type(source).__module__.startswith("pyspark"):
        return SparkProfiler(source)
    if isinstance(source, (str, os.PathLike)) or type(source).__module__.startswith("duckdb"):
        return DuckDBProfiler(source)
    raise parameter_error(
        "df", type(source).__name__, "a pandas DataFrame, a CSV/Parquet path or glob, a DuckDB "
        "relation or a Spark DataFrame"
    )


def _source_engine(profiler: ColumnProfiler, encoder: TableEncoder, *, only: bool = False) -> CountingEngine:
    """The counting engine over the table ``profiler`` read (a CSV is not sniffed again).

    With ``only``, over the encoder's columns alone (the others are not refused as undeclared).
    """
    names = list(encoder.schema.names)
    if isinstance(profiler, DuckDBProfiler):
        relation = profiler.relation
        if only:
            relation = relation.project(", ".join(DUCKDB.identifier(n) for n in names))
        return DuckDBEngine(relation, encoder)
    frame = profiler.frame.selectExpr(*(SPARK.identifier(n) for n in names)) if only else profiler.frame
    return SparkEngine(frame, encoder)
