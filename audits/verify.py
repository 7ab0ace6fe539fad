"""Mode A: does a mechanism keep its differential-privacy promise?

:func:`verify_mechanism` plays the distinguishing game against a callable,
chooses the attack and its threshold on the validation runs, counts the
choice on the test runs and turns the counts into an epsilon lower bound with
confidence. A bound above the claimed epsilon is a violation detected; a bound
below it says only that no violation was detected at the power of this audit,
whose ceiling (the largest epsilon these runs could certify) is printed beside
every bound.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audits.attacks import Attack, default_attacks
from audits.canaries import Canary, make_canary
from audits.epsilon import EpsilonBound, empirical_epsilon
from audits.errors import parameter_error
from audits.game import FitSample, GameResult, WhiteBoxHook, run_game
from audits.selection import Rule, choose_rule, confusion

VIOLATION = "violation detected"
NO_VIOLATION = "no violation detected at this power"


@dataclass(frozen=True)
class AttackResult:
    """One attack's rule (chosen on validation) and its test counts.

    Attributes
    ----------
    attack : str
        Attack name.
    rule : Rule
        Threshold and direction chosen on the validation runs.
    bound : EpsilonBound
        Test-run bound, Bonferroni-corrected over all attacks of the audit, so
        that the largest row of the table is itself a valid bound.
    """

    attack: str
    rule: Rule
    bound: EpsilonBound

    def to_dict(self) -> dict:
        """JSON-serialisable fields."""
        return {"attack": self.attack, "rule": self.rule.to_dict(), "bound": self.bound.to_dict()}


@dataclass(frozen=True)
class MechanismAudit:
    """Result of :func:`verify_mechanism`.

    Attributes
    ----------
    claimed_epsilon, claimed_delta : float
        The guarantee under audit.
    relation : str
        Neighbouring relation of the claim.
    canary, canary_description : str
        The canary construction and what it targets.
    runs_per_world, validation_runs, test_runs : int
        Runs of the game per world and their split.
    selected : AttackResult
        The attack chosen on validation; its bound (no correction needed) is
        the audit's epsilon lower bound.
    attacks : tuple of AttackResult
        Every attack, bounds corrected for the number of attacks.
    """

    claimed_epsilon: float
    claimed_delta: float
    relation: str
    canary: str
    canary_description: str
    runs_per_world: int
    validation_runs: int
    test_runs: int
    selected: AttackResult
    attacks: tuple[AttackResult, ...]

    @property
    def epsilon_lower_bound(self) -> float:
        """The audit's epsilon lower bound (from the attack chosen on validation)."""
        return self.selected.bound.epsilon

    @property
    def ceiling(self) -> float:
        """The largest epsilon the test runs could certify."""
        return self.selected.bound.ceiling

    @property
    def gdp_mu_lower_bound(self) -> float:
        """Gaussian-DP mu lower bound of the chosen attack (a separate scale from epsilon)."""
        return self.selected.bound.gdp_mu

    @property
    def violation(self) -> bool:
        """Whether the lower bound exceeds the claimed epsilon."""
        return self.epsilon_lower_bound > self.claimed_epsilon

    @property
    def verdict(self) -> str:
        """``"violation detected"`` or ``"no violation detected at this power"``."""
        return VIOLATION if self.violation else NO_VIOLATION

    @property
    def confidence(self) -> float:
        """Confidence of the bounds, 1 - alpha."""
        return 1.0 - self.selected.bound.alpha

    def notes(self) -> list[str]:
        """Plain-language caveats that go with the verdict."""
        notes = []
        if self.ceiling <= self.claimed_epsilon:
            notes.append(
                f"with {self.test_runs} test runs per world no bound above {self.ceiling:.3f} "
                f"was possible, so a violation of epsilon={self.claimed_epsilon} could not be "
                "detected; run more (see audits.runs_needed)"
            )
        if not self.violation:
            notes.append(
                "a bound below the claim is not evidence that the claim holds: other canaries "
                "or attacks may find more"
            )
        return notes

    def to_dict(self) -> dict:
        """JSON-serialisable summary of the audit."""
        return {
            "mode": "A: mechanism verification",
            "claimed_epsilon": self.claimed_epsilon,
            "claimed_delta": self.claimed_delta,
            "relation": self.relation,
            "canary": self.canary,
            "canary_description": self.canary_description,
            "runs_per_world": self.runs_per_world,
            "validation_runs": self.validation_runs,
            "test_runs": self.test_runs,
            "confidence": self.confidence,
            "verdict": self.verdict,
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "ceiling": self.ceiling,
            "gdp_mu_lower_bound": self.gdp_mu_lower_bound,
            "selected": self.selected.to_dict(),
            "attacks": [a.to_dict() for a in self.attacks],
            "notes": self.notes(),
        }

    def summary(self) -> pd.DataFrame:
        """One row per attack, the chosen one first, with its ceiling beside every bound."""
        rows = []
        for label, result in [("chosen on validation", self.selected)] + [
            ("Bonferroni over attacks", a) for a in self.attacks
        ]:
            b = result.bound
            rows.append(
                {
                    "attack": result.attack,
                    "row": label,
                    "rule": f"score {'>=' if result.rule.direction > 0 else '<='} {result.rule.threshold:.6g}",
                    "validation_epsilon": result.rule.validation_epsilon,
                    "tp": b.tp,
                    "fn": b.fn,
                    "fp": b.fp,
                    "tn": b.tn,
                    "epsilon_lower_bound": b.epsilon,
                    "ceiling": b.ceiling,
                    "gdp_mu_lower_bound": b.gdp_mu,
                    "confidence": 1.0 - b.alpha,
                    "comparisons": b.comparisons,
                }
            )
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        lines = [
            f"claim: epsilon={self.claimed_epsilon}, delta={self.claimed_delta} ({self.relation})",
            f"canary: {self.canary} ({self.canary_description})",
            f"verdict: {self.verdict}",
            f"epsilon lower bound {self.epsilon_lower_bound:.3f} at {self.confidence:.0%} "
            f"(ceiling {self.ceiling:.3f} with {self.test_runs} test runs per world), "
            f"attack {self.selected.attack}",
            f"Gaussian-DP mu lower bound (separate scale): {self.gdp_mu_lower_bound:.3f}",
        ]
        return "\n".join(lines + [f"note: {n}" for n in self.notes()])


def _check_claim(epsilon: float, delta: float, alpha: float, validation_fraction: float) -> None:
    if not np.isfinite(epsilon) or epsilon < 0:
        raise parameter_error("epsilon", epsilon, "a finite non-negative number: the claimed epsilon")
    if not 0.0 <= delta < 1.0:
        raise parameter_error("delta", delta, "in [0, 1): the claimed delta")
    if not 0.0 < alpha < 1.0:
        raise parameter_error("alpha", alpha, "in (0, 1), e.g. 0.05 for 95% confidence")
    if not 0.0 < validation_fraction < 1.0:
        raise parameter_error("validation_fraction", validation_fraction, "in (0, 1), e.g. 0.3")


def evaluate_game(
    game: GameResult,
    epsilon: float,
    delta: float,
    attacks: Sequence[Attack],
    alpha: float = 0.05,
    validation_fraction: float = 0.3,
) -> MechanismAudit:
    """Choose rules on validation runs and bound epsilon on test runs of a played game.

    Parameters
    ----------
    game : GameResult
        Per-run features of a game.
    epsilon, delta : float
        The claim.
    attacks : sequence of Attack
        Attacks to score; ones the game did not run need its kept outputs.
    alpha : float, default 0.05
        One minus the confidence.
    validation_fraction : float, default 0.3
        Share of each world's runs (the lowest run indices) used to choose.

    Returns
    -------
    MechanismAudit
    """
    _check_claim(epsilon, delta, alpha, validation_fraction)
    runs = game.runs_per_world
    n_val = int(round(validation_fraction * runs))
    if n_val < 2 or runs - n_val < 1:
        raise parameter_error(
            "runs", runs, f"enough for at least 2 validation and 1 test run per world at validation_fraction={validation_fraction}"
        )
    if not attacks:
        raise parameter_error("attacks", list(attacks), "a non-empty list of attacks")
    table = game.features
    # Both worlds count the same run indices, so an uneven game is trimmed to the shorter world.
    in_game = table["run"] < runs
    validation = (in_game & (table["run"] < n_val)).to_numpy()
    test = (in_game & (table["run"] >= n_val)).to_numpy()
    labels = table["world"].to_numpy(dtype=int)
    chosen: list[tuple[Attack, Rule, tuple[int, int, int, int]]] = []
    for attack in attacks:
        features = game.attack_features(attack)
        val_scores = attack.fit_validation(features[validation].reset_index(drop=True), labels[validation])
        rule = choose_rule(val_scores, labels[validation], delta, alpha)
        counts = confusion(rule, attack.score_features(features[test].reset_index(drop=True)), labels[test])
        chosen.append((attack, rule, counts))
    k = len(chosen)
    results = tuple(
        AttackResult(a.name, rule, empirical_epsilon(*counts, delta=delta, alpha=alpha, comparisons=k))
        for a, rule, counts in chosen
    )
    best = max(range(k), key=lambda i: (chosen[i][1].validation_epsilon, chosen[i][1].validation_advantage))
    attack, rule, counts = chosen[best]
    selected = AttackResult(attack.name, rule, empirical_epsilon(*counts, delta=delta, alpha=alpha))
    return MechanismAudit(
        claimed_epsilon=float(epsilon),
        claimed_delta=float(delta),
        relation=game.relation,
        canary=game.canary.name,
        canary_description=game.canary.description,
        runs_per_world=runs,
        validation_runs=n_val,
        test_runs=runs - n_val,
        selected=selected,
        attacks=results,
    )


def verify_mechanism(
    fit_sample: FitSample,
    epsilon: float,
    delta: float,
    runs: int = 1000,
    canary: Canary | str = "disagreeing",
    data: pd.DataFrame | None = None,
    relation: str = "add_remove",
    attacks: Sequence[Attack] | None = None,
    white_box: WhiteBoxHook | None = None,
    alpha: float = 0.05,
    validation_fraction: float = 0.3,
    n_jobs: int = 1,
    seed: int = 0,
    results_path: str | os.PathLike | None = None,
    keep_outputs: bool = False,
    progress: bool | None = None,
    canary_options: Mapping[str, object] | None = None,
) -> MechanismAudit:
    """Audit a mechanism's (epsilon, delta) claim with a distinguishing game.

    Parameters
    ----------
    fit_sample : callable
        ``fit_sample(real_df) -> synthetic_df``: the whole pipeline under audit.
        A ``seed`` or ``random_state`` keyword, if it has one, receives each
        run's seed.
    epsilon, delta : float
        The claimed guarantee.
    runs : int, default 1000
        Runs per world (validation and test together).
    canary : Canary or str, default "disagreeing"
        The neighbouring datasets, or the name of a construction in
        :mod:`audits.canaries` built from ``data``.
    data : pandas.DataFrame, optional
        Background records for a named canary.
    relation : {"add_remove", "replace_one"}, default "add_remove"
        The neighbouring relation the claim uses.
    attacks : sequence of Attack, optional
        By default :func:`audits.attacks.default_attacks` (white-box ones too
        when ``white_box`` is given).
    white_box : callable, optional
        ``white_box(real_df) -> [NoisyMarginal, ...]``, the fitted model's
        noisy measurements, for white-box attacks.
    alpha : float, default 0.05
        One minus the confidence of the bound.
    validation_fraction : float, default 0.3
        Share of runs used to choose the attack and threshold.
    n_jobs : int, default 1
        Worker processes for the game. On Linux they are forked and inherit
        ``fit_sample`` (a closure works); elsewhere they are spawned and
        ``fit_sample`` must be picklable (a module-level function).
    seed : int, default 0
        Seed of the game (and of the shadow model).
    results_path : path, optional
        JSON-lines file: the game resumes from it and appends to it.
    keep_outputs : bool, default False
        Keep every synthetic table, so attacks can be added later.
    progress : bool, optional
        Progress bar; by default only on a terminal.
    canary_options : mapping, optional
        Options of the named canary construction.

    Returns
    -------
    MechanismAudit
        Verdict, epsilon lower bound with its ceiling, Gaussian-DP mu bound,
        per-attack table.
    """
    _check_claim(epsilon, delta, alpha, validation_fraction)
    if isinstance(canary, str):
        if data is None:
            raise parameter_error("data", None, f"a DataFrame to build the {canary!r} canary from")
        canary = make_canary(canary, data, **dict(canary_options or {}))
    elif not isinstance(canary, Canary):
        raise parameter_error("canary", type(canary).__name__, "a Canary or the name of a construction")
    chosen = list(attacks) if attacks is not None else default_attacks(white_box is not None, seed)
    game = run_game(
        fit_sample,
        canary,
        runs,
        chosen,
        relation=relation,
        white_box=white_box,
        n_jobs=n_jobs,
        seed=seed,
        results_path=results_path,
        keep_outputs=keep_outputs,
        progress=progress,
    )
    return evaluate_game(game, epsilon, delta, chosen, alpha, validation_fraction)
