"""Fairness: fidelity and downstream figures per subgroup, and rare classes.

Entry point: :func:`evaluate_slices`. For every value of every column named in
``by`` (e.g. ``sex``, ``race``), it compares the real and synthetic rows of
that subgroup: their share of the table, the mean total-variation distance
(TVD) of the 1- and 2-way marginals of the other columns within the subgroup
and, with a target and a real holdout, the downstream scores of the models of
:func:`dpsynth.release.utility.fit_downstream` on the holdout rows of the
subgroup. It then applies two stated rules.

Subgroup rule
    A subgroup is *judged* when it has at least ``min_size`` real rows (and,
    for the downstream figures, ``min_size`` holdout rows); smaller ones are
    reported but never flagged, because the sampling error of their figures
    is as large as the effect sought. Fidelity is judged on the EXCESS mean
    2-way TVD: the subgroup's mean 2-way TVD minus the one that sampling
    alone gives (the TVD between the real subgroup and a seeded bootstrap
    resample of it as large as the synthetic subgroup), since a small
    subgroup has a large TVD even under a perfect synthesizer. A judged
    subgroup is flagged ``fidelity`` when its excess exceeds ``ratio`` times
    the overall excess (over the same columns, counted as 0 when negative)
    AND exceeds it by more than ``floor``; it is flagged ``downstream`` when
    its accuracy gap
    (accuracy of the model trained on real minus that of the model trained on
    synthetic) exceeds ``ratio`` times the overall gap (counted as 0 when
    negative) AND exceeds ``floor``; it is flagged ``share`` when the relative
    error of its share of the table exceeds ``rare_tolerance``.

Rare-class rule
    Every value of a categorical or boolean column whose real frequency is
    below ``rare_threshold`` is checked: the relative frequency error
    ``|f_synthetic - f_real| / f_real`` above ``rare_tolerance`` flags it
    (a class that vanished has error 1), provided it has at least
    ``rare_min_count`` real rows. Below that count the class is listed, not
    judged: with ``n f`` expected rows, sampling alone moves the frequency by
    about ``1 / sqrt(n f)`` relatively.

Every figure here is computed from the REAL data: NOT covered by the
differential-privacy guarantee and not for release.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import parameter_error
from dpsynth.release.utility import (
    NOT_COVERED_NOTICE,
    ColumnBins,
    DownstreamPredictions,
    ModelScores,
    check_frames,
    encode_codes,
    fit_downstream,
    joint_tvd,
    json_number,
    schema_bins,
)
from dpsynth.schema import ColumnKind, Schema


@dataclass(frozen=True)
class SliceRule:
    """The thresholds of the subgroup and rare-class rules (see the module docstring)."""

    ratio: float = 2.0
    floor: float = 0.02
    min_size: int = 100
    rare_threshold: float = 0.05
    rare_tolerance: float = 0.5
    rare_min_count: int = 20

    def __post_init__(self) -> None:
        checks = (
            ("ratio", self.ratio, self.ratio >= 1, "a number >= 1"),
            ("floor", self.floor, self.floor >= 0, "a non-negative number"),
            ("min_size", self.min_size, self.min_size >= 1, "a positive integer"),
            ("rare_threshold", self.rare_threshold, 0 < self.rare_threshold <= 1, "in (0, 1]"),
            ("rare_tolerance", self.rare_tolerance, self.rare_tolerance > 0, "a positive number"),
            ("rare_min_count", self.rare_min_count, self.rare_min_count >= 1, "a positive integer"),
        )
        for name, value, ok, requirement in checks:
            if not ok:
                raise parameter_error(name, value, requirement)

    def describe(self) -> str:
        """The rules in one paragraph, for the report."""
        return (
            f"A subgroup with at least {self.min_size} real rows is flagged when its excess mean "
            f"2-way TVD (beyond what sampling alone gives) is more than {self.ratio:g}x the overall "
            f"excess and more than {self.floor:g} above it (fidelity), when its accuracy gap (train on real minus train on synthetic) is "
            f"more than {self.ratio:g}x the overall gap and above {self.floor:g} (downstream), or "
            f"when its share of the table is off by more than {self.rare_tolerance:.0%} "
            f"relatively (share). A class rarer than {self.rare_threshold:.0%} with at least "
            f"{self.rare_min_count} real rows is flagged when its frequency is off by more than "
            f"{self.rare_tolerance:.0%} relatively."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict, with the rules in words under ``text``."""
        return {**self.__dict__, "text": self.describe()}


@dataclass(frozen=True)
class SliceResult:
    """The figures of one subgroup ``column == value``."""

    column: str
    value: str
    n_real: int
    n_synthetic: int
    share_real: float
    share_synthetic: float
    tvd_1way: float | None
    tvd_2way: float | None
    tvd_2way_sampling: float | None
    judged: bool
    flags: tuple[str, ...]
    n_holdout: int | None = None
    scores: Mapping[str, ModelScores] | None = None

    @property
    def excess_2way(self) -> float | None:
        """Mean 2-way TVD beyond what sampling alone gives."""
        if self.tvd_2way is None or self.tvd_2way_sampling is None:
            return None
        return self.tvd_2way - self.tvd_2way_sampling

    @property
    def accuracy_gap(self) -> float | None:
        """Accuracy of the model trained on real minus the one trained on synthetic."""
        if not self.scores:
            return None
        real, synth = self.scores["train_real"].accuracy, self.scores["train_synthetic"].accuracy
        return None if real is None or synth is None else real - synth

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {
            "column": self.column,
            "value": self.value,
            "n_real": self.n_real,
            "n_synthetic": self.n_synthetic,
            "share_real": self.share_real,
            "share_synthetic": self.share_synthetic,
            "tvd_1way": json_number(self.tvd_1way),
            "tvd_2way": json_number(self.tvd_2way),
            "tvd_2way_sampling": json_number(self.tvd_2way_sampling),
            "excess_2way": json_number(self.excess_2way),
            "n_holdout": self.n_holdout,
            "scores": None if self.scores is None else {k: s.to_dict() for k, s in self.scores.items()},
            "accuracy_gap": json_number(self.accuracy_gap),
            "judged": self.judged,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class RareClass:
    """A rare value of a categorical column and how well its frequency survived."""

    column: str
    value: str
    real_count: int
    real_frequency: float
    synthetic_frequency: float
    relative_error: float
    judged: bool
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SliceReport:
    """Everything :func:`evaluate_slices` measured. Not covered by DP; not for release."""

    by: tuple[str, ...]
    rule: SliceRule
    overall: Mapping[str, Mapping[str, float | None]]
    slices: tuple[SliceResult, ...]
    rare_classes: tuple[RareClass, ...]
    covered_by_dp: bool = field(default=False, init=False)
    notice: str = field(default=NOT_COVERED_NOTICE, init=False)

    @property
    def flagged(self) -> tuple[SliceResult, ...]:
        """Subgroups with at least one flag."""
        return tuple(s for s in self.slices if s.flags)

    @property
    def flagged_rare_classes(self) -> tuple[RareClass, ...]:
        """Rare classes whose frequency was not preserved."""
        return tuple(r for r in self.rare_classes if r.flagged)

    def table(self) -> pd.DataFrame:
        """One row per subgroup: sizes, shares, errors, accuracy gap and flags."""
        rows = []
        for s in self.slices:
            d = s.to_dict()
            d.pop("scores")
            d["flags"] = ", ".join(s.flags)
            rows.append(d)
        return pd.DataFrame(rows)

    def rare_table(self) -> pd.DataFrame:
        """One row per rare class, the worst relative error first."""
        out = pd.DataFrame([r.to_dict() for r in self.rare_classes])
        if out.empty:
            return out
        return out.sort_values("relative_error", ascending=False, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict, the ``fairness`` section of the release record."""
        return {
            "covered_by_dp": self.covered_by_dp,
            "notice": self.notice,
            "by": list(self.by),
            "rule": self.rule.to_dict(),
            "overall": {k: dict(v) for k, v in self.overall.items()},
            "slices": [s.to_dict() for s in self.slices],
            "rare_classes": [r.to_dict() for r in self.rare_classes],
            "flagged_slices": len(self.flagged),
            "flagged_rare_classes": len(self.flagged_rare_classes),
        }


def _mean_tvds(
    real: Mapping[str, np.ndarray],
    synthetic: Mapping[str, np.ndarray],
    bins: Mapping[str, ColumnBins],
    columns: Sequence[str],
) -> tuple[float | None, float | None]:
    """Mean 1-way and 2-way TVD over ``columns``; None when a side is empty."""
    if not len(next(iter(real.values()))) or not len(next(iter(synthetic.values()))):
        return None, None

    def tvd(cols: tuple[str, ...]) -> float:
        return joint_tvd([real[c] for c in cols], [synthetic[c] for c in cols], [bins[c].size for c in cols])

    one = [tvd((c,)) for c in columns]
    two = [tvd(p) for p in itertools.combinations(columns, 2)]
    return (
        float(np.mean(one)) if one else None,
        float(np.mean(two)) if two else None,
    )


def _bootstrap(
    codes: Mapping[str, np.ndarray], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` rows drawn with replacement from a code table (empty if it has no row)."""
    size = len(next(iter(codes.values())))
    idx = rng.integers(0, size, n) if size else np.zeros(0, dtype=int)
    return {c: v[idx] for c, v in codes.items()}


def _relative_error(real: float, synthetic: float) -> float:
    return float(abs(synthetic - real) / real)


def rare_classes(
    real_codes: Mapping[str, np.ndarray],
    synthetic_codes: Mapping[str, np.ndarray],
    bins: Mapping[str, ColumnBins],
    rule: SliceRule,
) -> list[RareClass]:
    """Rare values of the categorical and boolean columns and their frequency errors."""
    out = []
    for name, b in bins.items():
        if b.spec.kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            continue
        rc = np.bincount(real_codes[name], minlength=b.size)
        sf = np.bincount(synthetic_codes[name], minlength=b.size) / len(synthetic_codes[name])
        rf = rc / len(real_codes[name])
        for code in np.flatnonzero((rc > 0) & (rf < rule.rare_threshold)):
            err = _relative_error(rf[code], sf[code])
            judged = bool(rc[code] >= rule.rare_min_count)
            out.append(
                RareClass(
                    column=name,
                    value=b.labels[code],
                    real_count=int(rc[code]),
                    real_frequency=float(rf[code]),
                    synthetic_frequency=float(sf[code]),
                    relative_error=float(err),
                    judged=judged,
                    flagged=bool(judged and err > rule.rare_tolerance),
                )
            )
    return out


def evaluate_slices(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    by: Sequence[str],
    *,
    holdout: pd.DataFrame | None = None,
    target: str | None = None,
    epsilon: float | None = None,
    rule: SliceRule | None = None,
    seed: int = 0,
    predictions: DownstreamPredictions | None = None,
) -> SliceReport:
    """Fidelity and downstream figures per subgroup, with flags, and rare classes.

    The result is computed from the real data: it is NOT covered by the
    differential-privacy guarantee and is not for release.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The real training table and the synthetic table.
    schema : Schema
        The release's schema (public bounds or bins for numeric columns).
    by : sequence of str
        Columns whose values define the subgroups (e.g. ``["sex", "race"]``);
        numeric columns are cut on their public bins.
    holdout : pandas.DataFrame, optional
        Real rows not used for training, for the downstream figures.
    target : str, optional
        Column predicted by the downstream models.
    epsilon : float, optional
        Budget of the DP baseline model (the release's epsilon).
    rule : SliceRule, optional
        Thresholds of the flags; :class:`SliceRule` defaults if None.
    seed : int
        Seed of the sampling-noise bootstrap and of the downstream models.
    predictions : DownstreamPredictions, optional
        Reuse the models already fitted by
        :func:`~dpsynth.release.utility.fit_downstream` (on this ``holdout``)
        instead of fitting them again.

    Returns
    -------
    SliceReport
    """
    rule = rule or SliceRule()
    by = tuple(by)
    if not by:
        raise parameter_error("by", list(by), "a non-empty list of schema columns")
    unknown = [c for c in by if c not in schema]
    if unknown:
        raise parameter_error("by", list(by), f"schema columns; unknown: {unknown}")
    if target is not None and holdout is None:
        raise parameter_error("holdout", None, "a real holdout table when a target is given")
    check_frames(schema, {"real": real, "synthetic": synthetic, "holdout": holdout})
    bins = schema_bins(schema, [real, synthetic] + ([holdout] if holdout is not None else []))
    rc, sc = encode_codes(real, bins), encode_codes(synthetic, bins)
    if predictions is None and target is not None and holdout is not None:
        predictions = fit_downstream(
            real, synthetic, holdout, schema, target, epsilon=epsilon, seed=seed, bins=bins
        )
    holdout_codes = None
    if predictions is not None:
        if holdout is None:
            raise parameter_error("holdout", None, "the holdout table the predictions were made on")
        holdout_codes = encode_codes(holdout.iloc[predictions.rows], {c: bins[c] for c in by})

    overall_scores = predictions.scores() if predictions is not None else None
    overall_gap = _gap(overall_scores) if overall_scores is not None else None
    rng = np.random.default_rng(seed)
    overall: dict[str, dict[str, float | None]] = {}
    slices = []
    for column in by:
        others = [c for c in schema.names if c != column]
        one, two = _mean_tvds(rc, sc, bins, others)
        _, sampling = _mean_tvds(rc, _bootstrap(rc, len(synthetic), rng), bins, others)
        excess = None if two is None or sampling is None else two - sampling
        overall[column] = {
            "tvd_1way": one,
            "tvd_2way": two,
            "tvd_2way_sampling": sampling,
            "excess_2way": excess,
            "accuracy_gap": overall_gap,
        }
        for code in np.flatnonzero(
            (np.bincount(rc[column], minlength=bins[column].size) > 0)
            | (np.bincount(sc[column], minlength=bins[column].size) > 0)
        ):
            slices.append(
                _one_slice(
                    column, int(code), rc, sc, bins, others, rule, excess, overall_gap,
                    predictions, holdout_codes, rng,
                )
            )
    return SliceReport(
        by=by,
        rule=rule,
        overall=overall,
        slices=tuple(slices),
        rare_classes=tuple(rare_classes(rc, sc, bins, rule)),
    )


def _gap(scores: Mapping[str, ModelScores]) -> float | None:
    real, synth = scores["train_real"].accuracy, scores["train_synthetic"].accuracy
    return None if real is None or synth is None else real - synth


def _one_slice(
    column: str,
    code: int,
    rc: Mapping[str, np.ndarray],
    sc: Mapping[str, np.ndarray],
    bins: Mapping[str, ColumnBins],
    others: Sequence[str],
    rule: SliceRule,
    overall_excess: float | None,
    overall_gap: float | None,
    predictions: DownstreamPredictions | None,
    holdout_codes: Mapping[str, np.ndarray] | None,
    rng: np.random.Generator,
) -> SliceResult:
    in_real, in_synth = rc[column] == code, sc[column] == code
    n_real, n_synth = int(in_real.sum()), int(in_synth.sum())
    share_real, share_synth = n_real / len(in_real), n_synth / len(in_synth)
    real_part = {c: rc[c][in_real] for c in others}
    one, two = _mean_tvds(real_part, {c: sc[c][in_synth] for c in others}, bins, others)
    _, sampling = _mean_tvds(real_part, _bootstrap(real_part, n_synth, rng), bins, others)
    excess = None if two is None or sampling is None else two - sampling
    judged = n_real >= rule.min_size
    flags = []
    if judged and share_real > 0 and _relative_error(share_real, share_synth) > rule.rare_tolerance:
        flags.append("share")
    if (
        judged
        and excess is not None
        and overall_excess is not None
        and excess > rule.ratio * max(overall_excess, 0.0)
        and excess - max(overall_excess, 0.0) > rule.floor
    ):
        flags.append("fidelity")
    n_holdout, scores = None, None
    if predictions is not None and holdout_codes is not None:
        mask = holdout_codes[column] == code
        n_holdout = int(mask.sum())
        scores = predictions.scores(mask)
        gap = _gap(scores)
        if (
            judged
            and n_holdout >= rule.min_size
            and gap is not None
            and overall_gap is not None
            and gap > rule.ratio * max(overall_gap, 0.0)
            and gap > rule.floor
        ):
            flags.append("downstream")
    return SliceResult(
        column=column,
        value=bins[column].labels[code],
        n_real=n_real,
        n_synthetic=n_synth,
        share_real=share_real,
        share_synthetic=share_synth,
        tvd_1way=one,
        tvd_2way=two,
        tvd_2way_sampling=sampling,
        judged=judged,
        flags=tuple(flags),
        n_holdout=n_holdout,
        scores=scores,
    )
