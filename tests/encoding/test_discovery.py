"""DP discovery of categories and bounds: what is found, what is not, what it costs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import TableEncoder
from dpsynth.encoding.bounds import default_bucket_edges
from dpsynth.encoding.discovery import (
    DEFAULT_NUMERIC_RANGE,
    DiscoveryWarning,
    default_datetime_candidates,
    default_numeric_candidates,
    discover_schema,
    discovery_plan,
)
from dpsynth.errors import BudgetExceededError, InputDataError, ParameterError, PrivacyError
from dpsynth.privacy.accountant import Accountant, PrivacyBudget
from dpsynth.schema import ColumnKind, ColumnSpec, Schema

CATEGORY_DELTA = 1e-7


def _city_table(n: int = 2000) -> pd.DataFrame:
    five = n // 20
    values = ["big"] * (n - five - 1) + ["five"] * five + ["lonely"]
    return pd.DataFrame({"city": values})


def _city_schema() -> Schema:
    return Schema((ColumnSpec("city", "categorical"),))


@pytest.mark.parametrize("run", range(5))
def test_one_row_category_is_hidden_and_five_percent_category_found_at_epsilon_one(run):
    budget = PrivacyBudget.approx(1.0, 1e-6)
    acc = Accountant(budget)
    # the whole budget on this column, less the delta its threshold uses
    cost = budget.rho_cap(CATEGORY_DELTA) * (1 - 1e-6)
    result = discover_schema(
        _city_table(),
        _city_schema(),
        accountant=acc,
        cost_per_column=cost,
        category_delta=CATEGORY_DELTA,
    )
    spec = result.schema["city"]
    # sigma ~ 4.55 and the threshold is 25: "five" (100 rows) is missed with probability < 1e-50;
    # "lonely" is released with probability at most delta = 1e-7
    assert spec.categories == ("big", "five")
    assert (spec.source, spec.on_unknown) == ("dp", "other")
    assert acc.spent.epsilon <= 1.0 and acc.spent.step_delta <= CATEGORY_DELTA
    (charge,) = result.charges
    assert charge.params["column"] == "city" and charge.params["discovered"] == "categories"
    assert charge.delta <= CATEGORY_DELTA


def test_plan_is_priced_before_any_data_is_read():
    class Unreadable(pd.DataFrame):
        def __getitem__(self, key):
            raise AssertionError("the data was read")

    schema = Schema((ColumnSpec("city", "categorical"), ColumnSpec("age", "integer", lower=0)))
    plan = discovery_plan(schema, cost_per_column=0.5)
    assert [(c.params["column"], c.params["discovered"]) for c in plan] == [
        ("city", "categories"),
        ("age", "bounds"),
    ]
    acc = Accountant(PrivacyBudget.approx(1.0, 1e-6))
    with pytest.raises(BudgetExceededError, match="plan does not fit"):
        discover_schema(
            Unreadable({"city": ["a"], "age": [1]}), schema, accountant=acc, cost_per_column=0.5
        )
    assert acc.steps == ()


def test_charges_are_the_plan():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"city": rng.choice(["x", "y"], 500), "income": rng.normal(5e4, 1e4, 500)})
    schema = Schema((ColumnSpec("city", "categorical"), ColumnSpec("income", "continuous", bins=8)))
    plan = discovery_plan(schema, cost_per_column=0.2)
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    result = discover_schema(df, schema, accountant=acc, cost_per_column=0.2)
    assert [c.to_dict() for c in result.charges] == [c.to_dict() for c in plan]
    assert result.charges == acc.steps
    assert acc.spent.rho == pytest.approx(0.4)


def test_integer_bounds_land_near_the_quantiles():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"age": rng.integers(17, 91, 5000)})
    schema = Schema((ColumnSpec("age", "integer"),))
    acc = Accountant(PrivacyBudget.zcdp(2.0))
    spec = discover_schema(df, schema, accountant=acc, cost_per_column=2.0).schema["age"]
    # True 5% / 95% quantiles are about 20.6 and 86.4, inside the public buckets [20, 25) and
    # [80, 90). At sigma 0.5 the noise is negligible and the ages are uniform, so the
    # interpolation inside the bucket is off by the integers' step and the rounding only.
    assert abs(spec.lower - 20.6) <= 1.5 and abs(spec.upper - 86.4) <= 1.5
    assert isinstance(spec.lower, int) and spec.bins == 16
    assert (spec.source, spec.on_unknown) == ("dp", "clip")


@pytest.mark.parametrize(
    ("dtype", "values", "limits"),
    [("int8", (110, 128), (-128, 127)), ("uint8", (0, 256), (0, 255)), ("Int8", (-128, -100), (-128, 127))],
)
def test_bounds_stay_within_what_the_columns_integer_dtype_holds(dtype, values, limits):
    # values up to the dtype's end: the public grid's next edge (150, 300) or the one below (-150)
    # would give bins the dtype cannot decode, refused only after discovery had spent its budget
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": pd.array(rng.integers(*values, 20000), dtype=dtype)})
    schema = Schema((ColumnSpec("x", "integer", dtype=dtype),))
    acc = Accountant(PrivacyBudget.zcdp(2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiscoveryWarning)  # the dtype's end is no grid's end to warn of
        result = discover_schema(df, schema, accountant=acc, cost_per_column=2.0)
    spec = result.schema["x"]
    assert limits[0] <= spec.lower < spec.upper <= limits[1]
    # the dtype's end inside the public grid is a bucket edge, so the range reaches it
    assert values[0] - 15 <= spec.lower and spec.upper >= values[1] - 15
    TableEncoder(result.schema)  # the encoder accepts the released range in the dtype


def test_a_dtype_that_holds_the_whole_grid_leaves_it_alone():
    df = pd.DataFrame({"x": np.arange(1000, dtype=np.int64)})
    cells = {}
    for dtype in ("int64", "int32", None, "float32"):
        schema = Schema((ColumnSpec("x", "integer", dtype=dtype),))
        acc = Accountant(PrivacyBudget.zcdp(1.0))
        cells[dtype] = discover_schema(df, schema, accountant=acc, cost_per_column=1.0).charges[0].params["cells"]
    assert len(set(cells.values())) == 1, cells


def test_datetime_bounds_and_quantile_bins_with_public_candidates():
    rng = np.random.default_rng(3)
    days = rng.integers(0, 3 * 365, 5000)
    df = pd.DataFrame({"t": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")})
    schema = Schema((ColumnSpec("t", "datetime", bins=4),))
    grid = pd.date_range("2015-01-01", "2025-01-01", freq="MS")
    acc = Accountant(PrivacyBudget.zcdp(20.0))
    spec = discover_schema(
        df, schema, accountant=acc, cost_per_column=20.0, candidates={"t": grid}, quantile_bins=True
    ).schema["t"]
    edges = [pd.Timestamp(e) for e in spec.bin_edges]
    # 5%, 27.5%, 50%, 72.5%, 95% of three uniform years, each within two months
    expected = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        [0.05 * 1095, 0.275 * 1095, 0.5 * 1095, 0.725 * 1095, 0.95 * 1095], unit="D"
    )
    assert len(edges) == 5
    for edge, target in zip(edges, expected, strict=True):
        assert abs(edge - target) < pd.Timedelta(days=62)
    # one bounds histogram (on the monthly grid as bucket edges) and three inner quantiles
    assert [s.params["discovered"] for s in acc.steps] == ["bounds", "edge 1", "edge 2", "edge 3"]
    assert spec.bins is None


def test_a_declared_bound_narrows_the_grid_and_is_kept():
    df = pd.DataFrame({"amount": np.linspace(0, 1000, 2000)})
    schema = Schema((ColumnSpec("amount", "continuous", lower=0.0),))
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    result = discover_schema(df, schema, accountant=acc, cost_per_column=1.0)
    spec = result.schema["amount"]
    assert spec.lower == 0.0 and 900 <= spec.upper <= 1000
    # the buckets are the public edges above the declared bound, and one open bucket below them
    assert result.charges[0].params["cells"] == int(
        np.sum(default_bucket_edges(ColumnKind.CONTINUOUS) > 0)
    ) + 1


def test_pure_mode_finds_bounds_but_not_categories():
    df = pd.DataFrame({"x": np.arange(1000.0), "c": ["a"] * 1000})
    acc = Accountant(PrivacyBudget.pure(2.0))
    numeric = Schema((ColumnSpec("x", "continuous"),))
    spec = discover_schema(df, numeric, accountant=acc, cost_per_column=2.0).schema["x"]
    assert spec.lower < spec.upper
    assert acc.spent.epsilon == pytest.approx(2.0)
    with pytest.raises(PrivacyError, match="column 'c'.*pure-DP"):
        discover_schema(
            df,
            Schema((ColumnSpec("c", "categorical"),)),
            accountant=Accountant(PrivacyBudget.pure(2.0)),
            cost_per_column=1.0,
        )


def test_complete_schema_costs_nothing_and_discovered_schema_encodes():
    from dpsynth.encoding import OutOfDomainWarning, TableEncoder

    df = _city_table(400).assign(flag=True)
    complete = Schema(
        (
            ColumnSpec("city", "categorical", categories=("big", "five", "lonely")),
            ColumnSpec("flag", "boolean"),
        )
    )
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    assert discover_schema(df, complete, accountant=acc, cost_per_column=0.5).charges == ()
    assert acc.steps == ()
    partial = Schema((ColumnSpec("city", "categorical"), ColumnSpec("flag", "boolean")))
    found = discover_schema(df, partial, accountant=acc, cost_per_column=0.5).schema
    with pytest.warns(OutOfDomainWarning, match="1 value"):  # "lonely" goes to "other"
        encoded = TableEncoder(found).encode(df)
    assert len(encoded["city"]) == 400


def test_bad_options_are_refused_with_their_name():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    schema = Schema((ColumnSpec("x", "continuous"),))
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    with pytest.raises(ParameterError, match=r"^cost_per_column \("):
        discover_schema(df, schema, accountant=acc, cost_per_column=0.0)
    with pytest.raises(ParameterError, match=r"^bound_quantiles \("):
        discover_schema(df, schema, accountant=acc, cost_per_column=0.1, bound_quantiles=(0.9, 0.1))
    with pytest.raises(ParameterError, match=r"^candidates\['x'\] \("):
        discover_schema(df, schema, accountant=acc, cost_per_column=0.1, candidates={"x": [1.0]})
    with pytest.raises(InputDataError, match="column 'y'"):
        discover_schema(
            df, Schema((ColumnSpec("y", "continuous"),)), accountant=acc, cost_per_column=0.1
        )
    with pytest.raises(InputDataError, match="column 'x'"):
        discover_schema(
            pd.DataFrame({"x": ["a", "b"]}), schema, accountant=acc, cost_per_column=0.1
        )
    assert acc.steps == ()


def test_default_grids_are_public_constants():
    grid = default_numeric_candidates(ColumnKind.CONTINUOUS)
    assert grid[0] == DEFAULT_NUMERIC_RANGE[0] and grid[-1] == DEFAULT_NUMERIC_RANGE[1]
    assert 0.0 in grid and np.all(np.diff(grid) > 0)
    ints = default_numeric_candidates(ColumnKind.INTEGER)
    assert np.all(ints == np.round(ints)) and np.all(np.diff(ints) > 0)
    months = default_datetime_candidates()
    assert months[0] == pd.Timestamp("1900-01-01") and months[-1] == pd.Timestamp("2100-12-01")


def test_integer_categories_come_back_as_numbers_in_order():
    df = pd.DataFrame({"code": np.repeat([10, 9, 100], 300)})
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    schema = Schema((ColumnSpec("code", "categorical"),))
    spec = discover_schema(df, schema, accountant=acc, cost_per_column=0.5).schema["code"]
    assert spec.categories == (9, 10, 100)
    assert all(type(c) is int for c in spec.categories)


def test_a_released_category_does_not_tell_which_type_of_value_the_table_held():
    # 1 and "1" share a key; which one the first row holds must not reach the schema
    schema = Schema((ColumnSpec("c", "categorical"),))
    found = []
    for values in ([1] + ["1"] * 600 + ["x"] * 600, ["1"] * 601 + ["x"] * 600):
        df = pd.DataFrame({"c": pd.Series(values, dtype=object)})
        acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
        found.append(discover_schema(df, schema, accountant=acc, cost_per_column=0.5).schema["c"].categories)
    assert found[0] == found[1] == ("1", "x")


def test_a_category_dtype_gives_categories_of_its_categories_type():
    df = pd.DataFrame({"c": pd.Series(np.repeat([3, 1], 500)).astype("category")})
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    spec = discover_schema(df, Schema((ColumnSpec("c", "categorical"),)), accountant=acc, cost_per_column=0.5)
    assert spec.schema["c"].categories == (1, 3)
    assert all(type(c) is int for c in spec.schema["c"].categories)


def test_integer_candidates_are_rounded_to_whole_numbers():
    df = pd.DataFrame({"n": np.arange(1000)})
    acc = Accountant(PrivacyBudget.zcdp(4.0))
    grid = np.linspace(-0.4, 1200.4, 400)
    spec = discover_schema(
        df,
        Schema((ColumnSpec("n", "integer"),)),
        accountant=acc,
        cost_per_column=4.0,
        candidates={"n": grid},
    ).schema["n"]
    assert isinstance(spec.lower, int) and isinstance(spec.upper, int)
    assert 20 <= spec.lower <= 80 and 920 <= spec.upper <= 980


def test_discovery_on_duckdb_finds_a_valid_schema_and_charges_what_pandas_charges(tmp_path):
    from dpsynth.encoding import TableEncoder
    from dpsynth.engines import DuckDBProfiler

    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame({
        "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        "age": rng.integers(18, 90, n),
        "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n)),
        "when": pd.to_datetime(rng.integers(1.5e9, 1.7e9, n), unit="s"),
    })
    df.to_parquet(tmp_path / "t.parquet")
    schema = Schema(tuple(ColumnSpec(c, k, nullable=c == "score") for c, k in (
        ("city", "categorical"), ("age", "integer"), ("score", "continuous"), ("when", "datetime")
    )))
    options = {"cost_per_column": 0.5, "category_delta": 1e-8, "quantile_bins": True}
    on_pandas, on_duckdb = (Accountant(PrivacyBudget.zcdp(3.0, 1e-6)) for _ in range(2))
    expected = discover_schema(df, schema, accountant=on_pandas, **options)
    result = discover_schema(DuckDBProfiler(tmp_path / "t.parquet"), schema, accountant=on_duckdb, **options)
    assert on_duckdb.steps == on_pandas.steps and on_duckdb.spent == on_pandas.spent
    assert [c.to_dict() for c in result.charges] == [c.to_dict() for c in expected.charges]
    found = result.schema
    assert not found.incomplete_columns and all(s.source == "dp" for s in found)
    assert found["city"].categories == ("Lima", "Oslo", "Rome")
    assert 18 <= found["age"].lower < found["age"].upper <= 90
    TableEncoder(found).encode(df)  # the discovered schema encodes the table


def test_a_table_that_cannot_be_read_is_refused_before_any_charge():
    df = pd.DataFrame({"city": ["a", "b"] * 100, "n": ["1"] * 199 + ["many"]})
    schema = Schema((ColumnSpec("city", "categorical"), ColumnSpec("n", "integer")))
    acc = Accountant(PrivacyBudget.zcdp(1.0, 1e-6))
    with pytest.raises(InputDataError, match="column 'n': the values cannot be read as integer"):
        discover_schema(df, schema, accountant=acc, cost_per_column=0.1)
    assert acc.steps == ()


def test_a_small_table_gets_bounds_inside_its_data_at_a_small_budget():
    # 3,000 ages at the rho one column gets from MST at epsilon 1 (10% for discovery, nine
    # columns). A DP quantile over the wide default grid lands anywhere below the data
    # (lower bounds of minus millions); a bound read from the noisy histogram lies in a
    # bucket holding data unless noise alone crosses the threshold (chance 1e-4).
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"age": rng.integers(18, 90, 3000)})
    schema = Schema((ColumnSpec("age", "integer"),))
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    spec = discover_schema(df, schema, accountant=acc, cost_per_column=1.66e-4).schema["age"]
    assert 15 <= spec.lower < spec.upper <= 100


def test_a_table_too_small_for_its_budget_is_refused_with_the_fix():
    df = pd.DataFrame({"age": np.arange(18, 68)})
    schema = Schema((ColumnSpec("age", "integer"),))
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    with pytest.raises(PrivacyError, match="column 'age': no bucket .* declare its lower and upper"):
        discover_schema(df, schema, accountant=acc, cost_per_column=1.66e-4)


def _dates_and_times(n: int, off_midnight: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    hours = np.zeros(n, dtype=int)
    hours[:off_midnight] = rng.integers(1, 24, off_midnight)
    return pd.DataFrame({"t": days + pd.to_timedelta(hours, unit="h")})


@pytest.mark.parametrize("mode", ["zcdp", "pure"])
def test_whether_a_datetime_column_holds_dates_is_discovered_with_a_charged_step(mode):
    from dpsynth.encoding.discovery import RESOLUTION_SHARE

    schema = Schema((ColumnSpec("t", "datetime", resolution="auto", nullable=True),))
    assert schema.incomplete_columns == ("t",)
    found = {}
    for name, off in (("dates", 0), ("times", 2500)):
        budget = PrivacyBudget.zcdp(1.0) if mode == "zcdp" else PrivacyBudget.pure(1.0)
        acc = Accountant(budget)
        spec = discover_schema(_dates_and_times(5000, off), schema, accountant=acc, cost_per_column=0.5).schema["t"]
        # the cut is what noise alone passes with probability 1e-6: 2500 clears it, 0 does not
        found[name] = spec.resolution
        assert [s.params["discovered"] for s in acc.steps] == ["resolution", "bounds"]
        # the column's budget, split between its resolution and its range
        unit = "rho" if mode == "zcdp" else "epsilon"
        spent = [getattr(s, unit) for s in acc.steps]
        assert spent[0] == pytest.approx(RESOLUTION_SHARE * 0.5) and sum(spent) == pytest.approx(0.5)
    # noise sd 2 (zCDP) or Laplace scale 8 on counts of 0 and 2500 values off midnight
    assert found == {"dates": "D", "times": None}


def test_a_declared_range_leaves_the_resolution_the_whole_budget_and_few_times_read_as_dates():
    schema = Schema((ColumnSpec("t", "datetime", lower="2020-01-01", upper="2023-01-01", resolution="auto"),))
    plan = discovery_plan(schema, cost_per_column=0.5)
    assert [c.params["discovered"] for c in plan] == ["resolution"] and plan[0].rho == pytest.approx(0.5)
    # 20 of 5000 values off midnight (0.4%, under OFF_MIDNIGHT_SHARE): a column of dates with typos
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    spec = discover_schema(_dates_and_times(5000, 20), schema, accountant=acc, cost_per_column=0.5).schema["t"]
    assert spec.resolution == "D" and spec.source == "public" and spec.is_complete


def test_an_all_midnight_column_is_taken_for_dates_at_the_stated_rate():
    # at a tiny budget the noise decides: sd 50, so "times" needs a noisy count >= 238
    # from a true 0 (1e-6 per run); over 300 runs two misses have probability 5e-8
    from dpsynth.encoding.discovery import _noisy_resolution, _plan
    from dpsynth.encoding.formats import FALSE_FORMAT_RATE
    from dpsynth.privacy.mechanisms import Neighbouring

    schema = Schema((ColumnSpec("t", "datetime", lower="2020-01-01", upper="2023-01-01", resolution="auto"),))
    step = _plan(schema, mode="zcdp", cost_per_column=1 / (2 * 50**2), category_delta=1e-9, candidates={},
                 bound_quantiles=(0.05, 0.95), quantile_bins=False, relation=Neighbouring.ADD_REMOVE)[0]
    assert step.histogram.gaussian and step.histogram.noise == pytest.approx(50)
    acc = Accountant(PrivacyBudget.zcdp(1.0))
    assert step.histogram.cut(FALSE_FORMAT_RATE) == pytest.approx(237.7, abs=0.1)
    found = [_noisy_resolution(step, np.array([1000, 0]), accountant=acc) for _ in range(300)]
    assert found.count(None) <= 1
    # and a column of times at the same budget is told apart
    found = [_noisy_resolution(step, np.array([0, 1000]), accountant=acc) for _ in range(50)]
    assert found.count(None) == 50


def test_duckdb_counts_midnights_as_pandas_does(tmp_path):
    from dpsynth.encoding.profile import PandasProfiler
    from dpsynth.engines import DuckDBProfiler

    df = _dates_and_times(400, 37)
    df.loc[[5, 50], "t"] = pd.NaT
    df.loc[7, "t"] = pd.Timestamp("1969-12-31 00:00:00.000001")  # before the epoch, a microsecond off
    df.loc[8, "t"] = pd.Timestamp("1969-12-30")
    df.to_parquet(tmp_path / "t.parquet")
    expected = PandasProfiler(df).midnight_counts("t")
    assert expected.sum() == 398
    np.testing.assert_array_equal(DuckDBProfiler(tmp_path / "t.parquet").midnight_counts("t"), expected)


def test_a_column_of_unique_ids_releases_no_category_and_says_so_with_the_fix():
    from dpsynth.encoding.discovery import DiscoveryWarning

    budget = PrivacyBudget.approx(1.0, 1e-6)
    acc = Accountant(budget)
    ids = pd.DataFrame({"patient_id": [f"P{i:05d}" for i in range(2000)]})
    with pytest.warns(DiscoveryWarning, match=(
        r"column 'patient_id': DP discovery released no category \(none is held by enough rows "
        r"to pass the noisy threshold of about 2\d rows\).*fix: declare its categories")):
        result = discover_schema(
            ids, Schema((ColumnSpec("patient_id", "categorical"),)), accountant=acc,
            cost_per_column=budget.rho_cap(CATEGORY_DELTA) * (1 - 1e-6), category_delta=CATEGORY_DELTA,
        )
    # each id is held by one row: releasing any would break the guarantee
    assert result.schema["patient_id"].categories == ()


def test_discovery_that_releases_categories_warns_nothing(recwarn):
    budget = PrivacyBudget.approx(1.0, 1e-6)
    discover_schema(_city_table(), _city_schema(), accountant=Accountant(budget),
                    cost_per_column=budget.rho_cap(CATEGORY_DELTA) * (1 - 1e-6), category_delta=CATEGORY_DELTA)
    assert not [w for w in recwarn if "DP discovery released" in str(w.message)]


def test_an_empty_candidate_list_for_a_narrow_integer_column_is_a_parameter_error():
    df = pd.DataFrame({"x": np.arange(100, dtype=np.int8)})
    schema = Schema((ColumnSpec("x", "integer", dtype="int8"),))
    with pytest.raises(ParameterError, match=r"candidates\['x'\]"):
        discover_schema(df, schema, accountant=Accountant(PrivacyBudget.zcdp(1.0)), cost_per_column=1.0,
                        candidates={"x": []})


def test_values_past_the_public_grid_are_warned_about():
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"big": rng.uniform(1e10, 1e11, 5000), "fine": rng.uniform(0, 1000, 5000)})
    schema = Schema((ColumnSpec("big", "continuous"), ColumnSpec("fine", "continuous")))
    with pytest.warns(DiscoveryWarning, match=r"column 'big': about 100% above 1e\+09.*candidates=") as caught:
        result = discover_schema(df, schema, accountant=Accountant(PrivacyBudget.zcdp(2.0)), cost_per_column=1.0)
    assert not any("'fine'" in str(w.message) for w in caught)
    assert result.schema["big"].upper == 1e9  # the grid's end: the values beyond are clipped
