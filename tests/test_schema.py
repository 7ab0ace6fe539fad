import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import InputDataError, NonPublicSchemaError, SchemaError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema, category_key, infer_kind, infer_schema


def problems_of(spec_kwargs):
    with pytest.raises(SchemaError) as err:
        ColumnSpec(**spec_kwargs)
    return [str(p) for p in err.value.problems]


# -- ColumnSpec -----------------------------------------------------------------------------
def test_defaults_per_kind():
    assert ColumnSpec("c", "categorical").on_unknown == "error"
    assert ColumnSpec("x", "continuous").on_unknown == "clip"
    assert ColumnSpec("b", "boolean").kind is ColumnKind.BOOLEAN
    assert ColumnKind.INTEGER.is_numeric and not ColumnKind.DATETIME.is_numeric


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"name": "a", "kind": "text"}, "kind 'text' is unknown"),
        ({"name": "", "kind": "integer"}, "is not a non-empty string"),
        ({"name": "a", "kind": "integer", "source": "guess"}, "source 'guess' is unknown"),
        ({"name": "a", "kind": "categorical", "on_unknown": "clip"}, "not allowed for a categorical"),
        ({"name": "a", "kind": "boolean", "on_unknown": "other"}, "not allowed for a boolean"),
        ({"name": "a", "kind": "categorical", "categories": []}, "the category list is empty"),
        ({"name": "a", "kind": "categorical", "categories": ["x", None]}, "contains a missing value"),
        ({"name": "a", "kind": "categorical", "categories": ["x", float("nan")]}, "contains a missing value"),
        ({"name": "a", "kind": "categorical", "categories": ["x", "x"]}, "'x' is listed twice"),
        ({"name": "a", "kind": "categorical", "categories": [1, "1"]}, "'1' matches the same values as 1"),
        ({"name": "a", "kind": "categorical", "categories": [[1]]}, "has type list"),
        ({"name": "a", "kind": "integer", "categories": ["x"]}, "cannot have categories"),
        ({"name": "a", "kind": "boolean", "lower": 0}, "cannot have bounds or bins"),
        ({"name": "a", "kind": "integer", "bins": 0}, "bins (0) is not a positive integer"),
        ({"name": "a", "kind": "integer", "bins": True}, "bins (True) is not a positive integer"),
        ({"name": "a", "kind": "integer", "bins": 2.5}, "bins (2.5) is not a positive integer"),
        ({"name": "a", "kind": "integer", "lower": True}, "is a boolean, not a number"),
        ({"name": "a", "kind": "continuous", "lower": 1.0, "upper": 1.0}, "is not below upper"),
        ({"name": "a", "kind": "continuous", "upper": float("inf")}, "upper bound (inf) is not finite"),
        ({"name": "a", "kind": "integer", "lower": 0.5}, "is not a whole number"),
        ({"name": "a", "kind": "datetime", "lower": "someday"}, "ISO strings"),
        ({"name": "a", "kind": "continuous", "bin_edges": [1]}, "fewer than 2 edges"),
        ({"name": "a", "kind": "continuous", "bin_edges": [0, 2, 1]}, "not strictly increasing"),
        ({"name": "a", "kind": "continuous", "bin_edges": [0, float("inf")]}, "non-finite edge"),
        ({"name": "a", "kind": "integer", "nullable": "yes"}, "nullable ('yes') is not a boolean"),
    ],
)
def test_bad_specs_are_refused_naming_column_and_fix(kwargs, text):
    messages = problems_of(kwargs)
    assert any(text in m for m in messages), messages
    assert all("fix:" in m for m in messages)


def test_completeness():
    assert not ColumnSpec("c", "categorical").is_complete
    assert ColumnSpec("c", "categorical", categories=("a",)).is_complete
    assert ColumnSpec("b", "boolean").is_complete
    assert not ColumnSpec("x", "continuous", lower=0.0).is_complete
    assert ColumnSpec("x", "continuous", lower=0.0, upper=1.0).is_complete
    assert ColumnSpec("x", "continuous", bin_edges=(0, 1)).is_complete


def test_datetime_bounds_given_as_timestamps_are_stored_as_iso_text():
    spec = ColumnSpec("t", "datetime", lower=pd.Timestamp("2020-01-01"), upper=np.datetime64("2021-01-01"))
    assert spec.lower == "2020-01-01T00:00:00" and spec.upper == "2021-01-01T00:00:00"
    assert spec.numeric_bound(spec.lower) == pd.Timestamp("2020-01-01").value


# -- category_key ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1, "1", True),
        (1, 1.0, True),
        (np.int8(1), "1", True),
        (1.5, "1.5", True),
        ("1.0", 1, False),
        (" 1", 1, False),
        (True, 1, False),
        (True, "True", True),
        ("", "", True),
    ],
)
def test_category_key(a, b, same):
    assert (category_key(a) == category_key(b)) is same


# -- Schema ---------------------------------------------------------------------------------
def full_schema():
    return Schema((
        ColumnSpec("c", "categorical", categories=("a", "b"), nullable=True, on_unknown="other", dtype="str"),
        ColumnSpec("n", "integer", lower=0, upper=10, bins=4, dtype="int64"),
        ColumnSpec("x", "continuous", bin_edges=(0.0, 0.5, 1.0), dtype="float64"),
        ColumnSpec("t", "datetime", lower="2020-01-01", upper="2021-01-01", bins=12),
        ColumnSpec("b", "boolean", nullable=True, dtype="boolean", source="dp"),
    ))


def test_json_round_trip(tmp_path):
    schema = full_schema()
    path = tmp_path / "schema.json"
    text = schema.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text) == schema.to_dict()
    assert Schema.from_json(path) == schema == Schema.from_json(text)


def test_schema_access_and_selection():
    schema = full_schema()
    assert schema.names == ("c", "n", "x", "t", "b") and len(schema) == 5 and "n" in schema
    assert [c.name for c in schema.select(["x", "c"])] == ["x", "c"]
    wider = schema.with_column(ColumnSpec("n", "integer", lower=0, upper=99))
    assert wider["n"].upper == 99 and wider.names == schema.names
    with pytest.raises(SchemaError, match="'zz': the column is not in the schema"):
        schema["zz"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"columns": "x"}, "a list under 'columns'"),
        ({"columns": [1]}, "column entry 0 is not an object"),
        ({"columns": [{"name": "a"}]}, "needs 'name' and 'kind'"),
        ({"columns": [{"name": "a", "kind": "integer", "colour": 1}]}, "unknown key(s) ['colour']"),
        ({"columns": [{"name": "a", "kind": "integer"}, {"name": "a", "kind": "integer"}]}, "declared more than once"),
        ({"columns": []}, "declares no column"),
    ],
)
def test_bad_schema_documents_are_refused(raw, text):
    with pytest.raises(SchemaError) as err:
        Schema.from_dict(raw)
    assert text in str(err.value)


def test_from_dict_reports_every_bad_column_at_once():
    raw = {"columns": [{"name": "a", "kind": "nope"}, {"name": "b", "kind": "integer", "bins": -1}]}
    with pytest.raises(SchemaError) as err:
        Schema.from_dict(raw)
    assert [p.column for p in err.value.problems] == ["a", "b"]


def test_unreadable_schema_file_and_bad_json(tmp_path):
    with pytest.raises(SchemaError, match="cannot read schema file"):
        Schema.from_json(tmp_path / "missing.json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json("{not json")


def test_provenance():
    schema = full_schema().with_column(ColumnSpec("n", "integer", lower=0, upper=10, source="data"))
    assert schema.data_derived_columns == ("n",)
    with pytest.raises(NonPublicSchemaError, match="'n'.*public=True"):
        schema.require_public()
    schema.require_public(public=True)
    assert schema.mark_public().data_derived_columns == ()
    assert full_schema().with_column(ColumnSpec("c", "categorical")).incomplete_columns == ("c",)


# -- check_frame ----------------------------------------------------------------------------
def good_frame():
    return pd.DataFrame({
        "c": pd.Series(["a", None, "zzz"], dtype="str"),
        "n": [0, 10, 20],
        "x": [0.0, 0.7, 1.0],
        "t": pd.to_datetime(["2020-01-01", "2020-06-01", "2022-01-01"]),
        "b": pd.array([True, None, False], dtype="boolean"),
    })


def test_a_good_frame_has_no_problem():
    assert full_schema().check_frame(good_frame()) == []


@pytest.mark.parametrize(
    ("column", "values", "text"),
    [
        ("n", [0, 1, None], "1 missing value(s) but the schema says none may occur"),
        ("n", [0, 1.5, 2], "1.5 is not a whole number"),
        ("n", ["0", "one", "2"], "'one' is not a number"),
        ("x", [0.0, np.inf, 1.0], "inf is not finite"),
        ("x", [0.0, -np.inf, 1.0], "-inf is not finite"),
        ("x", [True, False, True], "holds bool values, not numbers"),
        ("x", pd.to_datetime(["2020-01-01"] * 3), "not numbers"),
        ("t", [1, 2, 3], "holds int64 values, not datetimes"),
        ("t", ["2020-01-01", "31/31/2020", "2020-02-01"], "'31/31/2020' is not a datetime"),
        ("b", ["yes", True, False], "'yes' is not a boolean"),
        ("c", [[1], "a", "b"], "is not a single value"),
        ("c", [None, None, None], "every value is missing"),
    ],
)
def test_bad_values_are_named_with_column_and_value(column, values, text):
    df = good_frame()
    df[column] = pd.Series(values, dtype=object) if isinstance(values, list) and column == "c" else values
    problems = full_schema().check_frame(df)
    assert any(p.column == column and text in str(p) for p in problems), problems


def test_out_of_range_values_under_policy_error():
    schema = Schema((
        ColumnSpec("n", "integer", lower=0, upper=10, on_unknown="error"),
        ColumnSpec("t", "datetime", lower="2020-01-01", upper="2021-01-01", on_unknown="error"),
    ))
    df = pd.DataFrame({
        "n": [-1, 5, 11],
        # year 2500 is beyond the nanosecond range: still a clear problem, not a crash
        "t": pd.Series([np.datetime64("2500-01-01"), np.datetime64("2020-05-01"), np.datetime64("2020-06-01")])
        .astype("datetime64[s]"),
    })
    problems = {p.column: str(p) for p in schema.check_frame(df)}
    assert "2 value(s) lie outside [0, 10]" in problems["n"] and "on_unknown: clip" in problems["n"]
    assert "1 value(s) lie outside [2020-01-01, 2021-01-01]" in problems["t"]


def test_datetime_text_with_mixed_formats_and_zones_is_read_in_utc():
    schema = Schema((ColumnSpec("t", "datetime", lower="2020-01-01", upper="2021-01-01", on_unknown="error"),))
    df = pd.DataFrame({"t": pd.Series(["2020-01-01", "2020-12-31T23:00:00-02:00"], dtype="str")})
    # 23:00 at UTC-2 is 01:00 UTC on New Year's Day: outside
    assert "1 value(s) lie outside" in str(schema.check_frame(df)[0])


def test_categories_match_by_key_in_check_frame():
    schema = Schema((ColumnSpec("c", "categorical", categories=(1, 2)),))
    assert schema.check_frame(pd.DataFrame({"c": ["1", 2.0]})) == []
    (problem,) = schema.check_frame(pd.DataFrame({"c": ["1.0", 2]}))
    assert problem.value == "1.0"


def test_structure_problems_come_first_and_all_together():
    schema = full_schema()
    df = good_frame().drop(columns="x").assign(extra=1)
    problems = schema.check_frame(df)
    assert {(p.column, "lacks" in p.message) for p in problems} == {("x", True), ("extra", False)}
    with pytest.raises(InputDataError) as err:
        schema.validate_frame(df)
    assert "2 problems in the input" in str(err.value)


def test_empty_table_and_duplicate_columns():
    schema = Schema((ColumnSpec("a", "integer", lower=0, upper=1),))
    assert "no rows" in str(schema.check_frame(pd.DataFrame({"a": pd.Series([], dtype=int)}))[0])
    dup = pd.DataFrame([[0, 1]], columns=["a", "a"])
    assert "more than one column" in str(schema.check_frame(dup)[0])


# -- infer_schema -----------------------------------------------------------------------------
def raw_frame():
    return pd.DataFrame({
        "i": [1, 5, 3],
        "f": [0.5, np.nan, 2.0],
        "s": ["x", "y", None],
        "t": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
        "b": [True, False, True],
    })


def test_infer_kinds():
    df = raw_frame()
    assert [infer_kind(df[c]).value for c in df] == ["integer", "continuous", "categorical", "datetime", "boolean"]


def test_infer_kinds_only_reads_no_value_and_is_usable_by_the_encoder():
    schema = infer_schema(raw_frame(), kinds_only=True)
    assert schema.data_derived_columns == ()
    assert schema.incomplete_columns == ("i", "f", "s", "t")
    # numpy int64 and bool columns cannot hold a missing value, so they are not nullable
    assert {c.name: c.nullable for c in schema} == {"i": False, "f": True, "s": True, "t": True, "b": False}
    assert schema["i"].dtype == "int64" and schema["s"].dtype == "str"
    # that nullability is assumed, not declared, and survives a JSON round trip
    assert all(c.nullable_assumed == c.nullable for c in schema)
    assert Schema.from_json(schema.to_json()) == schema
    assert schema["s"].to_dict()["nullable_assumed"] is True
    assert "nullable_assumed" not in schema["i"].to_dict()


def test_kinds_read_from_values_are_marked_kept_and_refused_without_acknowledgement():
    schema = infer_schema(raw_frame(), kinds_only=True, types_from_values=True)
    assert all(c.kind_from_data for c in schema)
    assert schema.data_derived_columns == schema.names
    assert Schema.from_json(schema.to_json()) == schema
    assert "kind_from_data" not in infer_schema(raw_frame(), kinds_only=True)["i"].to_dict()
    with pytest.raises(NonPublicSchemaError) as caught:
        schema.require_public()
    assert len(caught.value.problems) == len(schema)
    problem = caught.value.problems[0]
    assert problem.column == "i" and "its kind (integer) was read from the values" in problem.message
    assert "delete kind_from_data" in problem.fix and "public=True" in problem.fix
    schema.require_public(public=True)
    # the mark survives what discovery does to a column (it replaces the domain, not the kind)
    found = replace(schema["s"], categories=("x",), source="dp", on_unknown="other")
    assert Schema((found,)).data_derived_columns == ("s",)
    # the marked kinds are all a CSV's dtypes give: nullability, dtype and resolution are not read
    assert [c.kind for c in schema] == [c.kind for c in infer_schema(raw_frame(), kinds_only=True)]
    assert all(c.nullable_assumed and c.dtype is None for c in schema)
    assert [c.resolution for c in schema if c.kind is ColumnKind.DATETIME] == ["auto"]
    with pytest.raises(SchemaError, match=r"kind_from_data \('yes'\) is not a boolean"):
        ColumnSpec("a", "boolean", kind_from_data="yes")


def test_nullable_assumed_must_be_a_boolean_and_imply_nullable():
    with pytest.raises(SchemaError, match="nullable_assumed is true but nullable is false"):
        ColumnSpec("a", "categorical", categories=("x",), nullable_assumed=True)
    with pytest.raises(SchemaError, match=r"nullable_assumed \('yes'\) is not a boolean"):
        ColumnSpec("a", "categorical", categories=("x",), nullable=True, nullable_assumed="yes")


def test_infer_from_data_is_marked_and_refused_without_acknowledgement():
    schema = infer_schema(raw_frame())
    assert schema.data_derived_columns == schema.names
    assert schema["i"].lower == 1 and schema["i"].upper == 5 and schema["i"].bins == 5
    assert schema["s"].categories == ("x", "y") and schema["s"].nullable
    assert schema["t"].lower == "2020-01-01T00:00:00"
    with pytest.raises(NonPublicSchemaError):
        schema.require_public()
    assert schema.check_frame(raw_frame()) == []


def test_infer_refuses_identifier_like_text_and_bad_tables():
    with pytest.raises(InputDataError, match="more than max_categories=2"):
        infer_schema(pd.DataFrame({"id": ["a", "b", "c"]}), max_categories=2)
    with pytest.raises(InputDataError, match="every value is missing"):
        infer_schema(pd.DataFrame({"x": [np.nan, np.nan]}))
    with pytest.raises(InputDataError, match="no columns"):
        infer_schema(pd.DataFrame())
    with pytest.raises(InputDataError, match="more than one column"):
        infer_schema(pd.DataFrame([[1, 2]], columns=["a", "a"]))


@pytest.mark.parametrize(("dtype", "value"), [("int8", 127), ("uint8", 255), ("uint16", 65535), ("int8", -128)])
def test_a_constant_column_at_its_dtypes_end_gets_bounds_the_dtype_holds(dtype, value):
    spec = infer_schema(pd.DataFrame({"a": np.full(10, value, dtype=dtype)}))["a"]
    info = np.iinfo(dtype)
    assert info.min <= spec.lower < spec.upper <= info.max and spec.lower <= value <= spec.upper
