"""Shadow-model attack on summary-statistic features (Stadler, Oprisanu and Troncoso, 2022).

The attacker runs the mechanism itself on datasets with and without the
target ("shadow" runs), describes each synthetic table by summary statistics
(row count; mean, spread and extremes of numeric columns; correlations; the
share of every known category) and trains a classifier to tell the two apart.
In a distinguishing game the validation runs are the shadow runs; on plain
tables :meth:`ShadowModel.train` makes them from a reference table.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from audits._encoding import as_category_strings, is_numeric
from audits.attacks.base import BlackBoxAttack
from audits.errors import AuditParameterError, parameter_error


def summary_features(
    synthetic: pd.DataFrame, known: pd.DataFrame, columns: list[str]
) -> dict[str, float]:
    """Summary statistics of a synthetic table, with keys fixed by ``known``.

    Parameters
    ----------
    synthetic : pandas.DataFrame
        The table to describe.
    known : pandas.DataFrame
        Data the attacker knows; its categories name the share features, so
        every table described against the same ``known`` gets the same keys.
    columns : list of str
        Columns to describe.

    Returns
    -------
    dict of str to float
        ``rows``, per numeric column ``mean/std/median/min/max[col]``, per pair of
        numeric columns ``corr[a,b]``, per category ``share[col=value]`` and
        ``share[col=<other>]``.
    """
    out: dict[str, float] = {"rows": float(len(synthetic))}
    numeric = [c for c in columns if is_numeric(known[c])]
    for col in numeric:
        values = synthetic[col].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        stats = (np.mean, np.std, np.median, np.min, np.max)
        for name, stat in zip(("mean", "std", "median", "min", "max"), stats, strict=True):
            out[f"{name}[{col}]"] = float(stat(values)) if len(values) else 0.0
    for a, b in combinations(numeric, 2):
        if len(synthetic) > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                corr = np.corrcoef(synthetic[a].to_numpy(dtype=float), synthetic[b].to_numpy(dtype=float))[0, 1]
        else:
            corr = 0.0
        out[f"corr[{a},{b}]"] = float(corr)
    for col in columns:
        if col in numeric:
            continue
        strings = as_category_strings(synthetic[col])
        categories = np.unique(as_category_strings(known[col]))
        rows = max(len(strings), 1)
        for cat in categories:
            out[f"share[{col}={cat}]"] = float((strings == cat).sum() / rows)
        out[f"share[{col}=<other>]"] = float((~np.isin(strings, categories)).sum() / rows)
    return out


class ShadowModel(BlackBoxAttack):
    """Random-forest classifier on summary statistics of the synthetic table.

    Parameters
    ----------
    n_estimators : int, default 50
        Trees in the forest.
    seed : int, default 0
        Seed of the forest and of the cross-validation folds.
    """

    name = "shadow_model"

    def __init__(self, n_estimators: int = 50, seed: int = 0):
        self.n_estimators = n_estimators
        self.seed = seed
        self._model: RandomForestClassifier | None = None
        self._columns: list[str] | None = None
        self._target: pd.DataFrame | None = None
        self._reference: pd.DataFrame | None = None

    def features(
        self, target: pd.DataFrame, synthetic: pd.DataFrame, reference: pd.DataFrame | None
    ) -> dict[str, float]:
        known = target if reference is None else pd.concat([reference, target], ignore_index=True)
        return summary_features(synthetic, known, list(target.columns))

    def _new_model(self) -> RandomForestClassifier:
        return RandomForestClassifier(
            n_estimators=self.n_estimators, min_samples_leaf=2, random_state=self.seed, n_jobs=1
        )

    def fit_validation(self, features: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
        """Fit the forest on all validation runs; return out-of-fold validation scores."""
        x = features.fillna(0.0).to_numpy(dtype=float)
        labels = np.asarray(labels, dtype=int)
        self._columns = list(features.columns)
        smallest = int(min((labels == 0).sum(), (labels == 1).sum()))
        if smallest < 2:
            raise parameter_error(
                "validation runs per world", smallest, "at least 2 to train the shadow model"
            )
        folds = StratifiedKFold(n_splits=min(3, smallest), shuffle=True, random_state=self.seed)
        scores = cross_val_predict(self._new_model(), x, labels, cv=folds, method="predict_proba")[:, 1]
        self._model = self._new_model().fit(x, labels)
        return scores

    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        if self._model is None or self._columns is None:
            raise AuditParameterError(
                "shadow_model is not trained: call ShadowModel.train(...) first, "
                "or use it inside verify_mechanism, which trains it on validation runs"
            )
        x = features.reindex(columns=self._columns).fillna(0.0).to_numpy(dtype=float)
        return self._model.predict_proba(x)[:, 1]

    def train(
        self,
        fit_sample: Callable[[pd.DataFrame], pd.DataFrame],
        reference_df: pd.DataFrame,
        target_row: pd.DataFrame,
        n_shadow: int = 100,
        sample_size: int | None = None,
    ) -> ShadowModel:
        """Train on shadow runs of ``fit_sample`` over subsets of a reference table.

        Half the shadow inputs hold the target row, half do not; the rest of
        each input is a random subset of ``reference_df``.

        Parameters
        ----------
        fit_sample : callable
            The mechanism: ``fit_sample(real_df) -> synthetic_df``.
        reference_df : pandas.DataFrame
            Population data the attacker holds (without the target).
        target_row : pandas.DataFrame
            The one record this model will judge.
        n_shadow : int, default 100
            Shadow runs (an even number of at least 4).
        sample_size : int, optional
            Rows per shadow input; half of ``reference_df`` by default.

        Returns
        -------
        ShadowModel
            ``self``, trained for ``target_row``.
        """
        if len(target_row) != 1:
            raise parameter_error("len(target_row)", len(target_row), "1: a shadow model judges one target")
        if n_shadow < 4 or n_shadow % 2:
            raise parameter_error("n_shadow", n_shadow, "an even number of at least 4")
        size = sample_size if sample_size is not None else max(1, len(reference_df) // 2)
        if not 1 <= size <= len(reference_df):
            raise parameter_error("sample_size", sample_size, f"between 1 and {len(reference_df)}")
        rng = np.random.default_rng(self.seed)
        rows, labels = [], []
        for i in range(n_shadow):
            member = i % 2
            picked = reference_df.iloc[rng.choice(len(reference_df), size=size, replace=False)]
            data = pd.concat([picked, target_row], ignore_index=True) if member else picked
            synthetic = fit_sample(data.reset_index(drop=True))
            rows.append(self.features(target_row, synthetic, reference_df))
            labels.append(member)
        self.fit_validation(pd.DataFrame(rows), np.array(labels))
        self._target = target_row.reset_index(drop=True)
        self._reference = reference_df
        return self

    def score(
        self,
        target_rows: pd.DataFrame,
        synthetic_df: pd.DataFrame,
        reference_df: pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Membership score of the trained target against one synthetic table.

        Without ``reference_df`` the reference given to :meth:`train` is used, so
        the features are those the forest was trained on.
        """
        if self._target is not None and not target_rows.reset_index(drop=True).equals(self._target):
            raise AuditParameterError(
                "target_rows differ from the row this shadow model was trained for; "
                "train one ShadowModel per target"
            )
        known = reference_df if reference_df is not None else self._reference
        return super().score(target_rows, synthetic_df, known)
