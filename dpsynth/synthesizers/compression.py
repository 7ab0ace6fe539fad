"""Domain compression of rare codes, from noisy one-way counts (MST's trick).

Codes whose NOISY count falls below a threshold are merged into one code per
attribute, which shrinks every marginal that involves the attribute and so
the noise per useful cell. Only noisy counts decide what is merged, so the
compression is post-processing and costs no privacy. Decompression draws an
original code for each merged code, in proportion to the noisy counts of the
merged codes (uniform when they carry no signal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dpsynth.domain import Domain
from dpsynth.engines import CountingEngine
from dpsynth.pgm import Measurement


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
        Probability of each merged code when decompressing.
    """

    size: int
    kept: np.ndarray
    merged: np.ndarray
    merged_weights: np.ndarray

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
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> AttributeCompression:
        return cls(
            int(raw["size"]),  # type: ignore[arg-type]
            np.asarray(raw["kept"], dtype=np.int64),
            np.asarray(raw["merged"], dtype=np.int64),
            np.asarray(raw["merged_weights"], dtype=float),
        )


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
        """Compressed code of one original code (for conditional sampling)."""
        return int(self.attributes[attribute].forward[code])

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
