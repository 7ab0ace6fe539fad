"""Synthetic tables hold missing and "other" values only where the real table (very likely) had them.

OpenDP's noise cannot be seeded, so the statistical assertions allow for the
stated failure probability of the rule (a truly empty code survives the
``3 sigma`` threshold with probability ``1 - Phi(3) = 0.13%``).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import load_adult
from dpsynth.errors import ParameterError
from dpsynth.schema import ColumnSpec, Schema
from dpsynth.synthesizers import AIM, MST, Independent, Synthesizer
from dpsynth.synthesizers.compression import EMPTY_THRESHOLD, pooled_one_way


@pytest.fixture(scope="module")
def adult():
    return load_adult("train")


@pytest.fixture(scope="module")
def adult_mst(adult):
    """One MST fit on raw Adult without a schema (epsilon 1), shared by the module."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values outside the discovered domain are announced
        synth = MST(epsilon=1.0, random_state=0).fit(adult)
    return synth, synth.sample()


def true_counts(synth: Synthesizer, df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Exact per-code counts of the real table under the fitted encoder."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values mapped to "other" are announced
        encoded = synth.encoder_.encode(df)
    return {a: np.bincount(encoded[a], minlength=n) for a, n in synth.encoder_.domain.to_dict().items()}


def one_way_sigma(synth: Synthesizer) -> dict[str, float]:
    return {a: s for a, (_, s) in pooled_one_way(synth.encoder_.domain, synth.measurements_).items()}


def undeclared(synth: Synthesizer) -> dict[str, tuple[int, ...]]:
    return synth.encoder_.undeclared_codes()


def test_empty_undeclared_codes_are_excluded_and_full_ones_kept(adult, adult_mst):
    synth, _ = adult_mst
    truth, sigma = true_counts(synth, adult), one_way_sigma(synth)
    excluded = synth.compression_.excluded_codes
    pooled = pooled_one_way(synth.encoder_.domain, synth.measurements_)
    empty_survivors = []
    for column, codes in undeclared(synth).items():
        for code in codes:
            gone = code in excluded.get(column, ())
            noisy, s = pooled[column]
            # the rule itself: a code stays exactly when its noisy count reaches 3 sigma
            assert gone == (noisy[code] < EMPTY_THRESHOLD * s), (column, code)
            if truth[column][code] == 0 and not gone:
                empty_survivors.append((column, code))
            if truth[column][code] >= 8 * sigma[column]:
                # excluded with probability Phi(3 - 8) < 3e-7
                assert not gone, (column, code, truth[column][code])
    # Adult has about 10 empty undeclared codes: P(two or more survive) < 45 * 0.00135^2 ~ 1e-4
    assert len(empty_survivors) <= 1, empty_survivors
    # the missing codes of workclass, occupation and native-country hold hundreds of rows
    assert {"workclass", "occupation", "native-country"}.isdisjoint(
        c for c, codes in synth.excluded_codes_.items() if "<missing>" in codes
    )


def test_excluded_codes_never_appear_in_the_output(adult, adult_mst):
    synth, out = adult_mst
    assert synth.excluded_codes_, "Adult has empty missing and other codes"
    for column, labels in synth.excluded_codes_.items():
        if "<missing>" in labels:
            assert not out[column].isna().any(), column
        if "<other>" in labels:
            assert not (out[column].astype(object) == "<other>").any(), column
    # at most one empty code survives (see above), so at most one column gains missing values
    spurious = [c for c in adult if adult[c].notna().all() and out[c].isna().any()]
    assert len(spurious) <= 1, spurious


def test_columns_with_missing_values_keep_their_missing_rate(adult, adult_mst):
    synth, out = adult_mst
    sigma = one_way_sigma(synth)
    n = len(adult)
    for column in ("workclass", "occupation", "native-country"):
        p = adult[column].isna().mean()
        # noise of the one-way count (6 sigma) plus the sampling error of the rate (4 standard errors)
        tolerance = 6 * sigma[column] / n + 4 * np.sqrt(p * (1 - p) / n)
        assert out[column].isna().mean() == pytest.approx(p, abs=tolerance), column


def test_output_dtypes_equal_the_input_dtypes(adult, adult_mst):
    _, out = adult_mst
    assert list(out.columns) == list(adult.columns)
    assert out.dtypes.to_dict() == adult.dtypes.to_dict()


def test_exclusion_is_reported_as_free_post_processing(adult_mst):
    synth, _ = adult_mst
    (step,) = synth.privacy_report()["post_processing"]
    assert step["epsilon"] == step["delta"] == step["rho"] == 0.0
    assert step["excluded"] == {c: list(labels) for c, labels in synth.excluded_codes_.items()}


def test_save_and_load_keep_the_exclusion(adult_mst, tmp_path):
    synth, _ = adult_mst
    path = tmp_path / "mst.zip"
    synth.save(path)
    loaded = MST.load(path)
    assert loaded.excluded_codes_ == synth.excluded_codes_
    assert loaded.privacy_report()["post_processing"] == synth.privacy_report()["post_processing"]
    out = loaded.sample(5000, random_state=1)
    for column, labels in loaded.excluded_codes_.items():
        if "<missing>" in labels:
            assert not out[column].isna().any(), column


def test_conditioning_on_an_excluded_value_is_refused(adult_mst):
    synth, _ = adult_mst
    column = next(c for c, labels in synth.excluded_codes_.items() if "<missing>" in labels)
    with pytest.raises(ParameterError, match="excluded"):
        synth.sample(10, conditions={column: None})


def _check_exclusion(synth: Synthesizer, out: pd.DataFrame) -> None:
    """The rule holds on every undeclared code and the output never holds an excluded one."""
    pooled = pooled_one_way(synth.encoder_.domain, synth.measurements_)
    excluded = synth.compression_.excluded_codes
    for column, codes in synth.encoder_.undeclared_codes().items():
        noisy, s = pooled[column]
        assert set(excluded.get(column, ())) == {c for c in codes if noisy[c] < EMPTY_THRESHOLD * s}
    for column, labels in synth.excluded_codes_.items():
        if "<missing>" in labels:
            assert not out[column].isna().any(), column


@pytest.mark.parametrize(
    "make", [lambda: Independent(epsilon=1.0, random_state=0),
             lambda: AIM(epsilon=1.0, max_rounds=8, max_iters=20, random_state=0)],
    ids=["independent", "aim"],
)
def test_every_synthesizer_excludes_empty_codes_without_a_schema(correlated, make):
    df, _ = correlated
    synth = make().fit(df)
    out = synth.sample(2000)
    _check_exclusion(synth, out)
    assert synth.compression_.excluded_codes, "column a has an empty missing code at least"


def test_declared_codes_are_never_excluded(correlated):
    df, schema = correlated
    # a declares missing values and an "other" code, though the data has neither
    declared = Schema(tuple(
        ColumnSpec("a", "categorical", categories=("x", "y", "z"), nullable=True, on_unknown="other")
        if spec.name == "a" else spec
        for spec in schema
    ))
    synth = Independent(epsilon=1.0, random_state=0).fit(df, declared)
    assert synth.encoder_.undeclared_codes() == {"a": (3,)}  # only the other code
    assert "<missing>" not in synth.excluded_codes_.get("a", ())
    assert "<missing>" not in synth.excluded_codes_.get("city", ())
    for column in ("b", "c", "age"):
        assert column not in synth.excluded_codes_
    _check_exclusion(synth, synth.sample(1000))


def test_every_kind_of_column_keeps_its_dtype_and_loses_its_empty_missing_code():
    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({
        "f": rng.normal(50, 10, n),
        "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "b": pd.Series(rng.random(n) < 0.3, dtype="boolean"),
        "s": pd.Series(rng.choice(["u", "v", "w"], n), dtype="string"),
        "o": pd.Series(rng.choice(["p", "q"], n), dtype=object),
        "i": pd.Series(rng.integers(0, 5, n), dtype="Int64"),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values outside the discovered bounds are announced
        synth = Independent(epsilon=1.0, random_state=0).fit(df)
    out = synth.sample()
    assert out.dtypes.to_dict() == df.dtypes.to_dict()
    _check_exclusion(synth, out)
    # 6 empty missing codes and 2 empty other codes: P(two or more survive) < 28 * 0.00135^2 ~ 5e-5
    survivors = [c for c in df if "<missing>" not in synth.excluded_codes_.get(c, ())]
    assert len(survivors) <= 1, survivors
