import duckdb
import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import TableEncoder
from dpsynth.engines import CountingEngine, DuckDBEngine, NumpyEngine
from dpsynth.engines.duckdb_engine import read_csv_as_pandas
from dpsynth.errors import DataReadError, InputDataError, ParameterError
from dpsynth.schema import ColumnKind, ColumnSpec, Schema


def schema(**changes):
    """Three columns; ``changes`` replaces the spec of a column by name."""
    specs = {
        "city": ColumnSpec("city", ColumnKind.CATEGORICAL, categories=("Oslo", "Rome", "Lima")),
        "size": ColumnSpec("size", ColumnKind.INTEGER, lower=1, upper=4),
        "price": ColumnSpec("price", ColumnKind.CONTINUOUS, lower=0.0, upper=10.0, bins=4),
    }
    specs.update(changes)
    return Schema(tuple(specs.values()))


@pytest.fixture
def frame():
    rng = np.random.default_rng(11)
    n = 300
    return pd.DataFrame({
        "city": rng.choice(["Oslo", "Rome", "Lima"], n),
        "size": rng.integers(1, 5, n),
        "price": rng.uniform(0, 10, n),
    })


def write(df, tmp_path, name="t.parquet"):
    path = tmp_path / name
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    return path


def reference(df, encoder, cliques):
    encoded = encoder.encode(df)
    return NumpyEngine(dict(encoded.columns), encoded.domain).counts(cliques)


def test_is_a_counting_engine_with_clique_axes_in_the_order_given(frame, tmp_path):
    encoder = TableEncoder(schema())
    engine = DuckDBEngine(write(frame, tmp_path), encoder)
    assert isinstance(engine, CountingEngine)
    assert engine.domain == encoder.domain
    assert engine.row_count() == len(frame)
    cliques = [("price", "city"), ("city", "price"), ("size",), ()]
    got = engine.counts(cliques)
    for want, have in zip(reference(frame, encoder, cliques), got, strict=True):
        np.testing.assert_array_equal(have, want)
    np.testing.assert_array_equal(got[0], got[1].T)
    assert got[3] == len(frame)


def test_the_distinct_rows_bound_the_memory(frame, tmp_path):
    engine = DuckDBEngine(write(frame, tmp_path), TableEncoder(schema()))
    assert engine.distinct_rows <= 3 * 4 * 4


def test_reads_a_glob_of_files_and_a_relation(frame, tmp_path):
    encoder = TableEncoder(schema())
    write(frame.iloc[:100], tmp_path, "part-0.parquet")
    write(frame.iloc[100:], tmp_path, "part-1.parquet")
    (want,) = reference(frame, encoder, [("city", "size")])
    (by_glob,) = DuckDBEngine(str(tmp_path / "part-*.parquet"), encoder).counts([("city", "size")])
    con = duckdb.connect()
    relation = con.read_parquet(str(tmp_path / "part-*.parquet"))
    (by_relation,) = DuckDBEngine(relation, encoder).counts([("city", "size")])
    np.testing.assert_array_equal(by_glob, want)
    np.testing.assert_array_equal(by_relation, want)


def test_integer_categories_match_text_and_float_values(tmp_path):
    # category_key: 2, 2.0 and "2" all match the category 2, as in the pandas path.
    encoder = TableEncoder(Schema((ColumnSpec("g", ColumnKind.CATEGORICAL, categories=(1, 2, 3)),)))
    for values in ([1, 2, 2, 3], [1.0, 2.0, 2.0, 3.0], ["1", "2", "2", "3"]):
        df = pd.DataFrame({"g": values})
        (got,) = DuckDBEngine(write(df, tmp_path), encoder).counts([("g",)])
        np.testing.assert_array_equal(got, reference(df, encoder, [("g",)])[0])
        np.testing.assert_array_equal(got, [1, 2, 1])


def test_categorical_keys_decode_to_the_codes_of_missing_and_other_values(tmp_path):
    # Text, booleans and integers grouped by their position in a list ending with NULL.
    df = pd.DataFrame({
        "text": pd.array(["a", None, "b", "zzz", "a", None], dtype="string"),
        "flag": pd.array([True, None, False, True, None, True], dtype="boolean"),
        "number": pd.array([1, 2, None, 7, 1, 7], dtype="Int64"),
    })
    encoder = TableEncoder(Schema((
        ColumnSpec("text", ColumnKind.CATEGORICAL, categories=("a", "b"), nullable=True, on_unknown="other"),
        ColumnSpec("flag", ColumnKind.CATEGORICAL, categories=(False, True), nullable=True),
        ColumnSpec("number", ColumnKind.CATEGORICAL, categories=(1, 2), nullable=True, on_unknown="other"),
    )))
    clique = [("text", "flag", "number")]
    for name in ("t.parquet", "t.csv"):
        (got,) = DuckDBEngine(write(df, tmp_path, name), encoder).counts(clique)
        np.testing.assert_array_equal(got, reference(df, encoder, clique)[0])
    assert encoder.missing_code("text") == 3 and encoder.other_code("text") == 2
    (text,) = DuckDBEngine(write(df, tmp_path), encoder).counts([("text",)])
    np.testing.assert_array_equal(text, [2, 1, 1, 2])


def test_naive_and_offset_datetime_text_is_compared_in_utc(tmp_path):
    spec = ColumnSpec("t", ColumnKind.DATETIME, lower="2020-01-01", upper="2020-01-03", bins=2,
                      on_unknown="error")
    encoder = TableEncoder(Schema((spec,)))
    # 2020-01-02T01:00+02:00 is 2020-01-01T23:00 UTC: the first bin, not the second.
    df = pd.DataFrame({"t": ["2020-01-01 12:00:00", "2020-01-02T01:00:00+02:00", "2020-01-02 00:00:00"]})
    (got,) = DuckDBEngine(write(df, tmp_path), encoder).counts([("t",)])
    np.testing.assert_array_equal(got, reference(df, encoder, [("t",)])[0])
    np.testing.assert_array_equal(got, [2, 1])


def refusal(df, sch, tmp_path, name="t.parquet"):
    """The problems of the pandas path and of the engine, as comparable tuples."""
    encoder = TableEncoder(sch)
    with pytest.raises(InputDataError) as pandas_path:
        encoder.encode(df)
    with pytest.raises(InputDataError) as engine:
        DuckDBEngine(write(df, tmp_path, name), encoder)
    key = [(p.column, p.message, p.fix, p.value) for p in pandas_path.value.problems]
    return key, [(p.column, p.message, p.fix, p.value) for p in engine.value.problems]


def test_refuses_what_the_encoder_refuses_with_the_same_problems(frame, tmp_path):
    df = frame.astype({"city": object, "price": object})
    df.loc[3, "city"] = "Mars"
    df.loc[5, "city"] = None
    df.loc[7, "price"] = "cheap"
    sch = schema(size=ColumnSpec("size", ColumnKind.INTEGER, lower=1, upper=3, on_unknown="error"))
    want, got = refusal(df, sch, tmp_path, "t.csv")
    assert got == want
    columns = [problem[0] for problem in got]
    assert columns == ["city", "city", "size", "price"]
    assert "'Mars'" in got[1][1] and "'cheap'" in got[3][1]


def test_refuses_non_whole_and_infinite_numbers(frame, tmp_path):
    df = frame.astype({"size": float})
    df.loc[0, "size"] = 2.5
    df.loc[1, "price"] = np.inf
    want, got = refusal(df, schema(), tmp_path)
    assert got == want
    assert [p[0] for p in got] == ["size", "price"]


def test_refuses_an_all_missing_column_and_a_non_boolean(tmp_path):
    df = pd.DataFrame({"flag": ["true", "maybe"], "note": pd.array([None, None], dtype="string")})
    sch = Schema((ColumnSpec("flag", ColumnKind.BOOLEAN),
                  ColumnSpec("note", ColumnKind.CATEGORICAL, categories=("x",), nullable=True)))
    want, got = refusal(df, sch, tmp_path)
    assert got == want
    assert [p[0] for p in got] == ["flag", "note"]


def test_lists_many_unknown_categories_with_how_many_more(tmp_path):
    df = pd.DataFrame({"city": [f"c{i}" for i in range(8)]})
    sch = Schema((ColumnSpec("city", ColumnKind.CATEGORICAL, categories=("Oslo",)),))
    with pytest.raises(InputDataError, match=r"'c0', 'c1', 'c2', 'c3', 'c4' are not .* \(and 3 more\)"):
        DuckDBEngine(write(df, tmp_path), TableEncoder(sch))


def test_refuses_missing_and_undeclared_columns(frame, tmp_path):
    path = write(frame.rename(columns={"price": "cost"}), tmp_path)
    with pytest.raises(InputDataError) as err:
        DuckDBEngine(path, TableEncoder(schema()))
    assert [(p.column, p.message) for p in err.value.problems] == [
        ("price", "the schema declares it but the table lacks it"),
        ("cost", "the table has it but the schema does not declare it"),
    ]


def test_refuses_an_empty_table(frame, tmp_path):
    with pytest.raises(InputDataError, match="the table has no rows"):
        DuckDBEngine(write(frame.iloc[:0], tmp_path), TableEncoder(schema()))


def test_refuses_unreadable_sources(frame, tmp_path):
    encoder = TableEncoder(schema())
    with pytest.raises(DataReadError, match="missing.parquet"):
        DuckDBEngine(tmp_path / "missing.parquet", encoder)
    (tmp_path / "t.json").write_text("{}")
    with pytest.raises(DataReadError, match="unsupported extension"):
        DuckDBEngine(tmp_path / "t.json", encoder)
    with pytest.raises(ParameterError, match="source"):
        DuckDBEngine(frame, encoder)
    with pytest.raises(ParameterError, match="encoder"):
        DuckDBEngine(write(frame, tmp_path), schema())


def test_a_directory_of_part_files_is_read_as_its_fingerprint_lists_it(frame, tmp_path):
    from dpsynth.io import source_files

    folder = tmp_path / "table.parquet"
    folder.mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "part-0.parquet")
    frame.iloc[half:].to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")
    encoder = TableEncoder(schema())
    engine = DuckDBEngine(folder, encoder)
    encoded = encoder.encode(frame)
    want = NumpyEngine(dict(encoded.columns), encoded.domain)
    cliques = [("city", "size")]
    np.testing.assert_array_equal(engine.counts(cliques)[0], want.counts(cliques)[0])
    assert engine.row_count() == len(frame)
    assert [name for name, _ in source_files(folder)] == ["table.parquet/part-0.parquet", "table.parquet/part-1.parquet"]


def test_csv_types_come_from_every_row_as_in_pandas(tmp_path):
    # Text after the rows a sampling sniffer would read makes the column text, as pandas reads it.
    df = pd.DataFrame({"g": [1] * 30_000 + ["x"]})
    sch = Schema((ColumnSpec("g", ColumnKind.CATEGORICAL, categories=(1,)),))
    path = write(df, tmp_path, "g.csv")
    with pytest.raises(InputDataError) as pandas_path:
        TableEncoder(sch).encode(pd.read_csv(path))
    with pytest.raises(InputDataError) as engine:
        DuckDBEngine(path, TableEncoder(sch))
    assert [str(p) for p in engine.value.problems] == [str(p) for p in pandas_path.value.problems]
    assert "'x'" in str(engine.value)


def test_a_csv_is_sniffed_once_then_read_with_every_type_pinned(tmp_path):
    # A relation left to sniff every row would do it again at each query that binds it.
    path = write(pd.DataFrame({"g": [1] * 30_000 + [2.5], "h": ["a"] * 30_001}), tmp_path, "g.csv")
    relation = read_csv_as_pandas(duckdb.connect(), [str(path)])
    assert [str(t) for t in relation.types] == ["DOUBLE", "VARCHAR"]
    query = relation.sql_query()
    assert "sample_size" not in query and "'g': 'DOUBLE'" in query and "'h': 'VARCHAR'" in query


def test_a_corrupt_file_is_a_read_error(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"\x1f\x8b this is no gzip stream")
    with pytest.raises(DataReadError, match="cannot read"):
        DuckDBEngine(path, TableEncoder(schema()))


def test_csv_booleans_are_read_as_pandas_reads_them(tmp_path):
    from dpsynth.engines import DuckDBProfiler

    path = tmp_path / "b.csv"
    path.write_text("answer,short,truth\n" + "yes,t,True\nno,f,false\n,t,\n" * 20)
    from dpsynth.io import read_table

    df = read_table(path)
    kinds = DuckDBProfiler(path).kinds()
    # DuckDB alone takes yes/no and t/f for booleans; pandas reads them as text
    assert [kinds[c].kind for c in ("answer", "short", "truth")] == [
        ColumnKind.CATEGORICAL, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN
    ]
    from dpsynth.schema import infer_schema

    assert [s.kind for s in infer_schema(df, kinds_only=True)] == [s.kind for s in kinds]
    sch = Schema((
        ColumnSpec("answer", ColumnKind.CATEGORICAL, categories=("no", "yes"), nullable=True),
        ColumnSpec("short", ColumnKind.CATEGORICAL, categories=("f", "t")),
        ColumnSpec("truth", ColumnKind.BOOLEAN, nullable=True),
    ))
    encoder = TableEncoder(sch)
    encoded = encoder.encode(df)
    want = NumpyEngine(dict(encoded.columns), encoded.domain).counts([("answer", "short", "truth")])[0]
    np.testing.assert_array_equal(DuckDBEngine(path, encoder).counts([("answer", "short", "truth")])[0], want)


def test_a_csv_is_read_with_its_headers_separator_and_rows_of_the_wrong_length_are_refused(tmp_path):
    from dpsynth.engines.duckdb_engine import read_csv_text, read_source

    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("a;b;c\n1;2;3\n4;5;6\n")
    assert read_source(semicolons).fetchall() == [(1, 2, 3), (4, 5, 6)]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")  # left to sniff, DuckDB read this as one column
    for read in (read_source, lambda p: read_csv_text(p, duckdb.connect())):
        with pytest.raises(DataReadError, match=r"2 row\(s\).*line 3 has 2; line 4 has 4"):
            read(ragged)
    other = tmp_path / "parts"
    other.mkdir()
    (other / "1.csv").write_text("a,b\n1,2\n")
    (other / "2.csv").write_text("a;b\n1;2\n")
    with pytest.raises(DataReadError, match="do not share one separator"):
        read_source(str(other / "*.csv"))
