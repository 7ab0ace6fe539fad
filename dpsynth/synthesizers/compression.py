"""Domain compression of rare codes, from noisy one-way counts (MST's trick).

Codes whose NOISY count falls below a threshold are merged into one code per
attribute, which shrinks every marginal that involves the attribute and so
the noise per useful cell. Only noisy counts decide what is merged, so the
compression is post-processing and costs no privacy. Decompression draws an
original code for each merged code, in proportion to the noisy counts of the
merged codes (uniform when they carry no signal).

The same noisy counts decide which codes the user never declared are left
out of the fitted model altogether (:func:`exclude_empty_codes`): a missing
code the schema did not ask for, or an "other" code, whose noisy count shows
no sign of any row. The synthetic data then never holds a missing value or
an "other" value where the real data very likely had none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dpsynth.domain import Domain
from dpsynth.engines import CountingEngine
from dpsynth.errors import parameter_error
from dpsynth.pgm import GraphicalModel, Measurement
from dpsynth.schema import Schema

#: codes whose noisy count is below this many noise standard deviations count as empty
EMPTY_THRESHOLD = 3.0


def _no_codes() -> np.ndarray:
    return np.array([], dtype=np.int64)


@dataclass(frozen=True)
class AttributeCompression:
    """How one attribute's codes map to compressed codes.

    Attributes
    ----------
    size : int
        Number of original codes.
    kept : numpy.ndarray
        Original codes kept as they are; compressed code ``i`` is ``kept[i]``.
    merged : numpy.ndarray
        Original codes merged into the last compressed code (empty: no merge).
    merged_weights : numpy.ndarray
        Probability of each merged code when decompressing (zero for excluded codes).
    excluded : numpy.ndarray
        Original codes the fitted model never produces (see :func:`exclude_empty_codes`).
    """

    size: int
    kept: np.ndarray
    merged: np.ndarray
    merged_weights: np.ndarray
    excluded: np.ndarray = field(default_factory=_no_codes)

    @property
    def compressed_size(self) -> int:
        return len(self.kept) + (1 if len(self.merged) else 0)

    @property
    def forward(self) -> np.ndarray:
        """Lookup table: original code -> compressed code."""
        table = np.full(self.size, len(self.kept), dtype=np.int64)
        table[self.kept] = np.arange(len(self.kept))
        return table

    def to_dict(self) -> dict[str, list[float] | list[int] | int]:
        return {
            "size": self.size,
            "kept": self.kept.tolist(),
            "merged": self.merged.tolist(),
            "merged_weights": self.merged_weights.tolist(),
            "excluded": self.excluded.tolist(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> AttributeCompression:
        return cls(
            int(raw["size"]),  # type: ignore[arg-type]
            np.asarray(raw["kept"], dtype=np.int64),
            np.asarray(raw["merged"], dtype=np.int64),
            np.asarray(raw["merged_weights"], dtype=float),
            # saved before codes could be excluded: none were
            np.asarray(raw.get("excluded", []), dtype=np.int64),
        )

    def exclude(self, codes: Sequence[int]) -> tuple[AttributeCompression, list[int]]:
        """This compression with ``codes`` (original) never produced.

        Returns the new compression and the compressed codes the model must
        never produce: a kept code, or the merged code once every code merged
        into it is excluded. Otherwise an excluded merged code only loses its
        decompression weight, the others sharing it as before (uniformly
        when none of them has a positive noisy count).
        """
        excluded = np.union1d(self.excluded, np.asarray(codes, dtype=np.int64))
        forward = self.forward
        in_model = sorted({int(forward[c]) for c in excluded if c in self.kept})
        weights = self.merged_weights.copy()
        if len(self.merged):
            possible = ~np.isin(self.merged, excluded)
            weights[~possible] = 0.0
            if not possible.any():
                in_model.append(len(self.kept))
            elif weights.sum() > 0:
                weights /= weights.sum()
            else:
                weights = possible / possible.sum()
        return AttributeCompression(self.size, self.kept, self.merged, weights, excluded), in_model


class DomainCompression:
    """Compression of every attribute of a domain.

    Parameters
    ----------
    domain : Domain
        The original (encoded) domain.
    attributes : mapping of str to AttributeCompression
        One entry per attribute of ``domain``.
    """

    def __init__(self, domain: Domain, attributes: Mapping[str, AttributeCompression]):
        self.original = domain
        self.attributes = dict(attributes)
        self.domain = Domain(
            domain.attributes, tuple(self.attributes[a].compressed_size for a in domain.attributes)
        )

    @classmethod
    def from_noisy_counts(
        cls, domain: Domain, noisy: Mapping[str, np.ndarray], sigma: float, threshold: float = 3.0
    ) -> DomainCompression:
        """Merge the codes whose noisy count is below ``threshold * sigma``.

        Parameters
        ----------
        domain : Domain
            The original domain.
        noisy : mapping of str to numpy.ndarray
            Noisy one-way counts of each attribute.
        sigma : float
            Standard deviation of the noise on those counts.
        threshold : float
            Codes with noisy count below ``threshold * sigma`` are merged. No
            merge happens when fewer than two codes would be merged.
        """
        out = {}
        for a in domain.attributes:
            y = np.asarray(noisy[a], dtype=float)
            rare = y < threshold * sigma
            if rare.sum() < 2:
                rare[:] = False
            kept = np.flatnonzero(~rare)
            merged = np.flatnonzero(rare)
            weights = np.clip(y[merged], 0.0, None)
            if len(merged):
                weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(merged), 1.0 / len(merged))
            out[a] = AttributeCompression(domain[a], kept, merged, weights)
        return cls(domain, out)

    def compress_codes(self, codes: np.ndarray) -> np.ndarray:
        """Map an ``(n, d)`` array of original codes to compressed codes."""
        out = np.empty_like(codes, dtype=np.int64)
        for i, a in enumerate(self.original.attributes):
            out[:, i] = self.attributes[a].forward[codes[:, i]]
        return out

    def compress_code(self, attribute: str, code: int) -> int:
        """Compressed code of one original code (for conditional sampling).

        Raises
        ------
        ParameterError
            If the code was excluded from the model: no synthetic row holds it.
        """
        comp = self.attributes[attribute]
        if code in comp.excluded:
            raise parameter_error(
                f"condition on {attribute!r}", f"code {code}",
                f"a value the synthetic data can hold (this one was excluded: its noisy count was below "
                f"{EMPTY_THRESHOLD:g} sigma, so no synthetic row holds it)",
            )
        return int(comp.forward[code])

    @property
    def excluded_codes(self) -> dict[str, tuple[int, ...]]:
        """Original codes the model never produces, per attribute (attributes with none left out)."""
        return {a: tuple(int(c) for c in comp.excluded) for a, comp in self.attributes.items() if len(comp.excluded)}

    def decompress_codes(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map compressed codes back to original codes, drawing within merged codes."""
        out = np.empty_like(codes, dtype=np.int64)
        for i, a in enumerate(self.original.attributes):
            comp = self.attributes[a]
            col = codes[:, i]
            if len(comp.merged) == 0:
                out[:, i] = comp.kept[col]
                continue
            lookup = np.append(comp.kept, -1)
            mapped = lookup[col]
            merged_rows = mapped < 0
            if merged_rows.any():
                mapped[merged_rows] = rng.choice(comp.merged, size=int(merged_rows.sum()), p=comp.merged_weights)
            out[:, i] = mapped
        return out

    def one_way_measurement(self, attribute: str, noisy: np.ndarray, sigma: float) -> Measurement:
        """The noisy one-way counts re-expressed on the compressed domain.

        Kept codes keep their noisy count. The merged code's noisy count is the
        sum of the merged noisy counts, whose noise has variance ``k sigma^2``;
        dividing that row by ``sqrt(k)`` (in both the value and the query)
        keeps one noise scale ``sigma`` for the whole measurement.
        """
        comp = self.attributes[attribute]
        y = np.asarray(noisy, dtype=float)
        size = comp.compressed_size
        if len(comp.merged) == 0:
            return Measurement((attribute,), y, sigma)
        scale = 1.0 / np.sqrt(len(comp.merged))
        values = np.append(y[comp.kept], y[comp.merged].sum() * scale)
        query = np.eye(size)
        query[-1, -1] = scale
        return Measurement((attribute,), values, sigma, query=query)

    def to_dict(self) -> dict[str, dict]:
        return {a: c.to_dict() for a, c in self.attributes.items()}

    @classmethod
    def from_dict(cls, domain: Domain, raw: Mapping[str, Mapping[str, object]]) -> DomainCompression:
        return cls(domain, {a: AttributeCompression.from_dict(raw[a]) for a in domain.attributes})

    @classmethod
    def identity(cls, domain: Domain) -> DomainCompression:
        """No compression at all."""
        return cls(
            domain,
            {
                a: AttributeCompression(domain[a], np.arange(domain[a]), np.array([], dtype=np.int64), np.array([]))
                for a in domain.attributes
            },
        )


def pooled_one_way(
    domain: Domain, measurements: Sequence[Measurement]
) -> dict[str, tuple[np.ndarray, float]]:
    """Noisy one-way counts of each attribute and their noise scale, pooled over measurements.

    Every plain measurement of one attribute's full one-way marginal on
    ``domain`` takes part, weighted by its inverse variance (the minimum
    variance unbiased combination of independent Gaussian measurements);
    attributes without one are left out.

    Returns
    -------
    dict of str to (numpy.ndarray, float)
        Attribute -> (pooled noisy counts, their noise standard deviation).
    """
    sums: dict[str, np.ndarray] = {}
    precision: dict[str, float] = {}
    for m in measurements:
        if len(m.clique) != 1 or m.query is not None or m.clique[0] not in domain.attributes:
            continue
        (a,) = m.clique
        values = np.asarray(m.values, dtype=float)
        if values.shape != (domain[a],):
            continue
        sums[a] = sums.get(a, 0.0) + values / m.sigma**2
        precision[a] = precision.get(a, 0.0) + 1.0 / m.sigma**2
    return {a: (sums[a] / precision[a], float(precision[a] ** -0.5)) for a in sums}


def empty_codes(
    noisy: np.ndarray, sigma: float, candidates: Sequence[int], threshold: float = EMPTY_THRESHOLD
) -> list[int]:
    """The candidate codes whose noisy count is below ``threshold * sigma``.

    A code with no row has a noisy count of pure noise, about ``N(0, sigma^2)``
    (the discrete Gaussian's variance is at most ``sigma^2``), so with the
    default ``threshold`` of 3 it survives with probability about
    ``1 - Phi(3) = 0.13%``; with 10 such codes in a table, the chance that
    any of them survives is 1.3%. A code holding ``c`` rows is excluded with
    probability about ``Phi(3 - c / sigma)``: under 2.3% once ``c >= 5 sigma``.
    A larger threshold would drop more real rows; a smaller one lets empty
    codes through (``1 - Phi(2) = 2.3%`` each). It is also the threshold
    MST's compression uses to call a code rare.

    At least one code of the attribute stays: if every code is a candidate
    and empty, the one with the largest noisy count is kept.

    Parameters
    ----------
    noisy : numpy.ndarray
        Noisy counts of every code of the attribute.
    sigma : float
        Standard deviation of their noise.
    candidates : sequence of int
        The codes that may be excluded (the user did not declare them).
    threshold : float
        Multiple of ``sigma`` below which a count is taken as empty.

    Returns
    -------
    list of int
        Sorted codes to exclude.
    """
    y = np.asarray(noisy, dtype=float)
    empty = sorted(int(c) for c in set(candidates) if y[c] < threshold * sigma)
    if len(empty) == len(y):
        empty.remove(int(np.argmax(y)))
    return empty


def exclude_empty_codes(
    model: GraphicalModel,
    compression: DomainCompression,
    measurements: Sequence[Measurement],
    candidates: Mapping[str, Sequence[int]],
    *,
    threshold: float = EMPTY_THRESHOLD,
) -> tuple[GraphicalModel, DomainCompression]:
    """Leave out of a fitted model the candidate codes whose noisy one-way count is empty.

    Post-processing of the noisy one-way measurements (no privacy cost): see
    :func:`empty_codes` for the rule. The model is conditioned on the
    excluded codes not occurring (:meth:`GraphicalModel.exclude`), so the
    other columns keep a consistent joint distribution and the total stays.

    Parameters
    ----------
    model : GraphicalModel
        The fitted model, on ``compression.domain``.
    compression : DomainCompression
        The compression the model was fitted on.
    measurements : sequence of Measurement
        Measurements on the original domain; the one-way ones are pooled
        (:func:`pooled_one_way`). Attributes without one keep every code.
    candidates : mapping of str to sequence of int
        Original codes the user did not declare, per attribute.
    threshold : float
        Multiple of the one-way noise scale below which a count is empty.

    Returns
    -------
    (GraphicalModel, DomainCompression)
        The model that never produces an excluded code, and the compression
        recording them.
    """
    one_way = pooled_one_way(compression.original, measurements)
    attributes = dict(compression.attributes)
    in_model: dict[str, list[int]] = {}
    for a, codes in candidates.items():
        if a not in one_way or not len(codes):
            continue
        noisy, sigma = one_way[a]
        empty = empty_codes(noisy, sigma, codes, threshold)
        if empty:
            attributes[a], in_model[a] = attributes[a].exclude(empty)
    if not in_model:
        return model, compression
    return model.exclude(in_model), DomainCompression(compression.original, attributes)


class EmptyCodeExclusion:
    """Synthesizer mixin: the fitted model leaves out empty codes the user never declared.

    After the synthesizer's own fit, the undeclared codes of each column
    (:meth:`TableEncoder.undeclared_codes`: "other" codes, and missing codes
    whose nullability was assumed from the dtype, not declared) whose
    pooled noisy one-way count is below ``3 sigma`` are excluded
    (:func:`exclude_empty_codes`). Post-processing: no privacy cost. The
    exclusion is kept in ``compression_`` (saved with the synthesizer) and
    listed under ``"post_processing"`` in :meth:`privacy_report`.
    """

    def fit(self, df: Any, schema: Schema | None = None) -> Any:
        """Fit as :meth:`Synthesizer.fit`, then exclude the empty undeclared codes."""
        super().fit(df, schema)  # type: ignore[misc]
        candidates = self.encoder_.undeclared_codes()
        self.model_, self.compression_ = exclude_empty_codes(
            self.model_, self.compression_, self.measurements_, candidates
        )
        step = {
            "step": "exclude undeclared codes whose noisy one-way count is below "
                    f"{EMPTY_THRESHOLD:g} sigma",
            # post-processing of released noisy counts: free in every unit
            "epsilon": 0.0,
            "delta": 0.0,
            "rho": 0.0,
            "excluded": {column: list(labels) for column, labels in self.excluded_codes_.items()},
        }
        self.privacy_report_ = {**self.privacy_report_, "post_processing": [step]}
        return self

    @property
    def excluded_codes_(self) -> dict[str, tuple[str, ...]]:
        """Labels of the codes the fitted model never produces, per column (e.g. ``"<missing>"``)."""
        labels = self.encoder_.code_labels
        return {
            column: tuple(labels(column)[c] for c in codes)
            for column, codes in self.compression_.excluded_codes.items()
        }


class CompressedCounts:
    """A counting engine on the compressed domain, built over any other engine.

    Counts are taken on the original codes by the wrapped engine and summed
    over the merged codes, so every engine (numpy, DuckDB, Spark) supports
    compression without knowing about it.

    Parameters
    ----------
    engine : CountingEngine
        Counts on the original domain.
    compression : DomainCompression
        The compression to apply.
    """

    def __init__(self, engine: CountingEngine, compression: DomainCompression):
        self.engine = engine
        self.compression = compression
        self.domain = compression.domain
        self._aggregators = {
            a: np.eye(c.compressed_size, dtype=np.int64)[c.forward] for a, c in compression.attributes.items()
        }

    def row_count(self) -> int:
        """Exact number of rows (private)."""
        return self.engine.row_count()

    def counts(self, cliques: Sequence[tuple[str, ...]]) -> list[np.ndarray]:
        """Exact counts of each clique on the compressed domain."""
        out = []
        for clique, table in zip(cliques, self.engine.counts(cliques), strict=True):
            for axis, a in enumerate(clique):
                aggregated = np.tensordot(table, self._aggregators[a], axes=([axis], [0]))
                table = np.moveaxis(aggregated, -1, axis)
            out.append(table)
        return out
