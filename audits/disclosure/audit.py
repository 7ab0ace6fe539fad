"""``run_release_audit``: attack one synthetic table and report how much it discloses.

Mode B of the audits ("how risky is this particular release?"), as opposed to
verifying a mechanism's differential-privacy claim. Four attacks, each
compared with the same attack on holdout records the release never saw
(control) and with a naive baseline:

- membership inference (:mod:`audits.disclosure.membership`);
- attribute inference (:mod:`audits.disclosure.attribute`);
- singling out (:mod:`audits.disclosure.singling_out`);
- linkability (:mod:`audits.disclosure.linkability`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audits.disclosure.attribute import AttributeInferenceResult, attribute_inference
from audits.disclosure.encoding import GowerEncoder, is_numeric
from audits.disclosure.linkability import LinkabilityResult, linkability
from audits.disclosure.membership import MembershipResult, membership_inference
from audits.disclosure.singling_out import SinglingOutResult, singling_out
from audits.disclosure.stats import RiskEstimate, check_confidence
from audits.errors import parameter_error

ATTACKS = ("membership", "attribute_inference", "singling_out", "linkability")
ATTRIBUTE_METHODS = ("nearest", "model")

#: Fewest targets of each kind: the advantage needs two per half.
MIN_TARGETS = 4

_SUMMARY_COLUMNS = [
    "attack",
    "target",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "attack_rate",
    "control_rate",
    "baseline_rate",
    "trials",
    "beats_baseline",
]


@dataclass(frozen=True)
class ReleaseAuditResult:
    """Everything one release audit measured.

    Attributes
    ----------
    settings : dict
        The audit's parameters and sizes (JSON-ready).
    target_rows : dict
        ``{"train": [...], "holdout": [...]}``: positions (as in ``iloc``) of the
        attacked records in the tables given, in the order of every per-target
        list (membership, CAP, linkability).
    membership : MembershipResult or None
        None when not run.
    attribute_inference : tuple of AttributeInferenceResult
        One per secret column.
    singling_out : SinglingOutResult or None
        None when not run or when no predicate unique in the release was found.
    linkability : LinkabilityResult or None
        None when not run.
    notes : tuple of str
        Why an attack that was asked for has no result.
    """

    settings: dict
    target_rows: dict = field(default_factory=dict)
    membership: MembershipResult | None = None
    attribute_inference: tuple[AttributeInferenceResult, ...] = ()
    singling_out: SinglingOutResult | None = None
    linkability: LinkabilityResult | None = None
    notes: tuple[str, ...] = field(default=())

    def _estimates(self) -> list[tuple[str, str, RiskEstimate]]:
        out = [("attribute_inference", a.secret, a.estimate) for a in self.attribute_inference]
        if self.singling_out is not None:
            out.append(
                (
                    "singling_out",
                    f"{self.singling_out.n_columns} columns",
                    self.singling_out.estimate,
                )
            )
        if self.linkability is not None:
            target = " | ".join(
                ",".join(cols) for cols in (self.linkability.columns_a, self.linkability.columns_b)
            )
            out.append(("linkability", target, self.linkability.estimate))
        return out

    @property
    def warnings(self) -> list[str]:
        """One sentence per attack that does not beat its baseline."""
        out = []
        if self.membership is not None:
            for score in self.membership.scores:
                if not score.beats_baseline:
                    out.append(
                        f"membership ({score.name}): AUC {score.auc:.3f} with interval "
                        f"[{score.auc_ci[0]:.3f}, {score.auc_ci[1]:.3f}] does not beat a coin flip "
                        "(0.5); this score detects nothing on this release, which is no evidence "
                        "that nothing leaks"
                    )
        for attack, target, estimate in self._estimates():
            message = estimate.warning(f"{attack} ({target})")
            if message is not None:
                out.append(message)
        return out

    def to_dict(self) -> dict:
        """JSON-ready dictionary of the whole result."""
        return {
            "settings": self.settings,
            "target_rows": self.target_rows,
            "membership": None if self.membership is None else self.membership.to_dict(),
            "attribute_inference": [a.to_dict() for a in self.attribute_inference],
            "singling_out": None if self.singling_out is None else self.singling_out.to_dict(),
            "linkability": None if self.linkability is None else self.linkability.to_dict(),
            "notes": list(self.notes),
            "warnings": self.warnings,
        }

    def to_json(self, **kwargs) -> str:
        """The result as strict JSON (no NaN); ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def cap_table(self) -> pd.DataFrame:
        """Correct attribution probability of every attacked record, for every secret.

        Returns
        -------
        pandas.DataFrame
            Columns ``secret, table ("train" or "holdout"), row (position in
            that table), cap``; sort by ``cap`` to find the most exposed records.
        """
        frames = [
            pd.DataFrame(
                {"secret": a.secret, "table": table, "row": self.target_rows[table], "cap": caps}
            )
            for a in self.attribute_inference
            for table, caps in (("train", a.cap_train), ("holdout", a.cap_control))
        ]
        if not frames:
            return pd.DataFrame(columns=["secret", "table", "row", "cap"])
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """One row per reported figure.

        Membership rows report the AUC (baseline 0.5) and the advantage
        (attack rate = TPR, control rate = FPR, baseline 0). The other attacks
        report their control-adjusted risk with the attack, control and
        baseline success rates.

        Returns
        -------
        pandas.DataFrame
            Columns ``attack, target, metric, value, ci_low, ci_high,
            attack_rate, control_rate, baseline_rate, trials, beats_baseline``.
        """
        rows = []
        if self.membership is not None:
            for s in self.membership.scores:
                rows.append(
                    ["membership", s.name, "auc", s.auc, *s.auc_ci]
                    + [np.nan, np.nan, 0.5, self.membership.n_members, s.beats_baseline]
                )
                adv = s.advantage
                rows.append(
                    ["membership", s.name, "advantage", adv.advantage, *adv.ci]
                    + [adv.tpr.rate, adv.fpr.rate, 0.0, adv.tpr.trials, s.beats_baseline]
                )
        for attack, target, e in self._estimates():
            rows.append(
                [attack, target, "risk", e.risk, *e.risk_ci]
                + [
                    e.attack.rate,
                    e.control.rate,
                    e.baseline.rate,
                    e.attack.trials,
                    e.beats_baseline,
                ]
            )
        return pd.DataFrame(rows, columns=_SUMMARY_COLUMNS)


def _check_frames(train: object, holdout: object, synthetic: object) -> list[str]:
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise parameter_error(name, type(frame).__name__, "a pandas DataFrame")
    columns = list(train.columns)
    if not columns:
        raise parameter_error("train columns", columns, "non-empty: give a table with columns")
    if len(set(columns)) != len(columns):
        raise parameter_error("train columns", columns, "unique: rename the duplicated columns")
    for name, frame in (("holdout", holdout), ("synthetic", synthetic)):
        missing = [c for c in columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in columns]
        if missing or extra:
            raise parameter_error(
                f"{name} columns",
                {"missing": missing, "unexpected": extra},
                "the same as train's: give every table the same columns",
            )
    for name, frame, least in (
        ("train", train, MIN_TARGETS),
        ("holdout", holdout, MIN_TARGETS),
        ("synthetic", synthetic, 1),
    ):
        if len(frame) < least:
            raise parameter_error(f"len({name})", len(frame), f"at least {least}")
    return columns


def _check_subset(name: str, value: Sequence[str] | None, columns: list[str]) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    value = list(value)
    unknown = [c for c in value if c not in columns]
    if unknown or not value:
        raise parameter_error(name, value, f"a non-empty list of columns among {columns}")
    return value


def _check_positive(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise parameter_error(name, value, f"an integer >= {least}")
    return int(value)


def _link_columns(
    link_columns: tuple[Sequence[str], Sequence[str]] | None, columns: list[str]
) -> tuple[list[str], list[str]]:
    if link_columns is None:
        if len(columns) < 2:
            raise parameter_error(
                "columns",
                columns,
                "at least two for linkability: leave 'linkability' out of attacks",
            )
        half = len(columns) // 2
        return columns[:half], columns[half:]
    if len(link_columns) != 2:
        raise parameter_error("link_columns", link_columns, "a pair (columns_a, columns_b)")
    a = _check_subset("link_columns[0]", link_columns[0], columns)
    b = _check_subset("link_columns[1]", link_columns[1], columns)
    if set(a) & set(b):
        raise parameter_error(
            "link_columns", link_columns, "two disjoint column sets: remove the shared columns"
        )
    return a, b


def run_release_audit(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    secret_columns: Sequence[str] | None = None,
    known_columns: Sequence[str] | None = None,
    attribute_method: str = "nearest",
    link_columns: tuple[Sequence[str], Sequence[str]] | None = None,
    n_attacks: int = 500,
    predicate_columns: int = 3,
    link_neighbors: int = 1,
    numeric_tolerance: float = 0.05,
    confidence: float = 0.95,
    ci_method: str = "exact",
    attacks: Sequence[str] = ATTACKS,
    seed: int | None = 0,
) -> ReleaseAuditResult:
    """Measure how much one synthetic table discloses about its training records.

    Parameters
    ----------
    train : pandas.DataFrame
        The real records the synthetic table was generated from.
    holdout : pandas.DataFrame
        Real records from the same population that the generator never saw,
        ideally as many as ``train``; same columns.
    synthetic : pandas.DataFrame
        The release; same columns.
    secret_columns : sequence of str, optional
        Columns the attribute-inference attacker guesses, one at a time.
        Default: every column.
    known_columns : sequence of str, optional
        Columns the attribute-inference attacker knows (the secret is left out
        of them). Default: every other column.
    attribute_method : {"nearest", "model"}, default "nearest"
        Attribute inference by a vote of the closest synthetic records, or by
        a random forest trained on the synthetic table.
    link_columns : pair of sequences of str, optional
        The two disjoint column sets of the linkability attack. Default: the
        first half of the columns and the rest.
    n_attacks : int, default 500
        Targets of each kind (training and holdout records) for membership,
        attribute inference and linkability, at most the size of the smaller
        real table; predicates for singling out.
    predicate_columns : int, default 3
        Columns per singling-out predicate.
    link_neighbors : int, default 1
        Closest B-records that count as a correct link.
    numeric_tolerance : float, default 0.05
        A numeric secret is guessed right within this fraction of its range in
        the synthetic table.
    confidence : float, default 0.95
        Confidence of every interval.
    ci_method : {"exact", "wilson"}, default "exact"
        Binomial interval: Clopper-Pearson or Wilson.
    attacks : sequence of str, default all
        Which of ``"membership"``, ``"attribute_inference"``,
        ``"singling_out"``, ``"linkability"`` to run.
    seed : int or None, default 0
        Seeds every random choice (targets, splits, predicates, baselines).

    Returns
    -------
    ReleaseAuditResult
        Typed, JSON-serialisable (``to_dict``, ``to_json``), with ``summary()``.

    Raises
    ------
    AuditParameterError
        When a table or parameter is unusable; the message names it and says
        what it must be.
    """
    columns = _check_frames(train, holdout, synthetic)
    check_confidence(confidence, ci_method)
    n_attacks = _check_positive("n_attacks", n_attacks, MIN_TARGETS)
    predicate_columns = _check_positive("predicate_columns", predicate_columns, 1)
    link_neighbors = _check_positive("link_neighbors", link_neighbors, 1)
    if not (isinstance(numeric_tolerance, (int, float)) and numeric_tolerance >= 0):
        raise parameter_error("numeric_tolerance", numeric_tolerance, "a number >= 0, e.g. 0.05")
    if attribute_method not in ATTRIBUTE_METHODS:
        raise parameter_error("attribute_method", attribute_method, f"one of {ATTRIBUTE_METHODS}")
    attacks = [attacks] if isinstance(attacks, str) else list(attacks)
    if not attacks or any(a not in ATTACKS for a in attacks):
        raise parameter_error("attacks", attacks, f"a non-empty list drawn from {ATTACKS}")
    secrets = _check_subset("secret_columns", secret_columns, columns) or columns
    known = _check_subset("known_columns", known_columns, columns)
    for secret in secrets if "attribute_inference" in attacks else []:
        if not [c for c in (known or columns) if c != secret]:
            raise parameter_error(
                "known_columns", known, f"to hold a column other than the secret {secret!r}"
            )
    columns_a, columns_b = (
        _link_columns(link_columns, columns) if "linkability" in attacks else ([], [])
    )

    n_targets = min(n_attacks, len(train), len(holdout))
    if "linkability" in attacks and link_neighbors >= n_targets:
        raise parameter_error("link_neighbors", link_neighbors, f"below the {n_targets} targets")
    numeric = [c for c in columns if all(is_numeric(f[c]) for f in (train, holdout, synthetic))]
    train, holdout, synthetic = (
        f[columns].reset_index(drop=True) for f in (train, holdout, synthetic)
    )
    # One stream per attack, so running fewer attacks does not change the others' draws.
    pick, split, predicates, links, models = np.random.default_rng(seed).spawn(5)
    member_rows = pick.choice(len(train), n_targets, replace=False)
    non_member_rows = pick.choice(len(holdout), n_targets, replace=False)
    members, non_members = train.iloc[member_rows], holdout.iloc[non_member_rows]

    settings = {
        "columns": columns,
        "numeric_columns": numeric,
        "n_train": len(train),
        "n_holdout": len(holdout),
        "n_synthetic": len(synthetic),
        "n_targets": n_targets,
        "n_attacks": n_attacks,
        "attacks": attacks,
        "confidence": confidence,
        "ci_method": ci_method,
        "numeric_tolerance": float(numeric_tolerance),
        "seed": seed,
    }
    found: dict = {
        "settings": settings,
        "target_rows": {
            "train": [int(r) for r in member_rows],
            "holdout": [int(r) for r in non_member_rows],
        },
    }
    notes = []
    if "membership" in attacks:
        encoder = GowerEncoder(synthetic, columns, numeric)
        found["membership"] = membership_inference(
            encoder.transform(members),
            encoder.transform(non_members),
            non_member_rows,
            encoder.transform(synthetic),
            encoder.transform(holdout),
            rng=split,
            confidence=confidence,
            ci_method=ci_method,
        )
    if "attribute_inference" in attacks:
        settings["secret_columns"] = secrets
        settings["known_columns"] = known
        settings["attribute_method"] = attribute_method
        found["attribute_inference"] = tuple(
            attribute_inference(
                members,
                non_members,
                synthetic,
                secret=secret,
                known=[c for c in (known or columns) if c != secret],
                numeric=numeric,
                relative_tolerance=float(numeric_tolerance),
                confidence=confidence,
                ci_method=ci_method,
                method=attribute_method,
                random_state=int(models.integers(2**31 - 1)),
            )
            for secret in secrets
        )
    if "singling_out" in attacks:
        settings["predicate_columns"] = predicate_columns
        result = singling_out(
            train,
            holdout,
            synthetic,
            numeric=numeric,
            n_predicates=n_attacks,
            n_columns=predicate_columns,
            rng=predicates,
            confidence=confidence,
            ci_method=ci_method,
        )
        if result is None:
            notes.append(
                f"singling_out: no predicate over {predicate_columns} columns holds for exactly "
                "one synthetic record; try more predicate_columns"
            )
        found["singling_out"] = result
    if "linkability" in attacks:
        settings["link_columns"] = [columns_a, columns_b]
        settings["link_neighbors"] = link_neighbors
        found["linkability"] = linkability(
            members,
            non_members,
            synthetic,
            columns_a=columns_a,
            columns_b=columns_b,
            numeric=numeric,
            n_neighbors=link_neighbors,
            rng=links,
            confidence=confidence,
            ci_method=ci_method,
        )
    return ReleaseAuditResult(notes=tuple(notes), **found)


__all__ = [
    "ATTACKS",
    "ATTRIBUTE_METHODS",
    "ReleaseAuditResult",
    "run_release_audit",
]
