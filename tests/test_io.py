import pandas as pd
import pytest

from dpsynth.errors import DataReadError
from dpsynth.io import atomic_path, read_table, write_table


def test_csv_and_parquet_round_trip(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    for name in ("t.csv", "t.parquet"):
        write_table(df, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back["a"].tolist() == [1, 2, 3]
        assert back["b"].isna().tolist() == [False, False, True]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataReadError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "t.xlsx"
    p.write_text("x")
    with pytest.raises(DataReadError, match="unsupported extension"):
        read_table(p)


def test_corrupt_parquet_is_a_read_error(tmp_path):
    p = tmp_path / "t.parquet"
    p.write_bytes(b"not parquet")
    with pytest.raises(DataReadError, match="cannot read"):
        read_table(p)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_written_files_follow_the_umask_not_private_temp_mode(tmp_path):
    import os

    from dpsynth.io import write_text_atomic

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o644


def test_iso_dates_and_times_in_a_csv_are_read_as_datetimes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "day,stamp,zoned,code,bad,mixed\n"
        "2024-01-31,2024-01-31 08:30:00,2024-01-31T08:30:00Z,A1,2024-13-45,2024-01-31\n"
        ",2024-02-01T09:00:00.250,2024-02-01T10:00:00+01:00,B2,2024-02-30,soon\n"
        "2024-03-01,,,C3,,2024-03-01\n"
    )
    df = read_table(path)
    assert str(df["day"].dtype).startswith("datetime64[") and df["day"].isna().tolist() == [False, True, False]
    assert df["stamp"][1] == pd.Timestamp("2024-02-01 09:00:00.250")
    # Offsets become UTC: 10:00 at +01:00 is 09:00 UTC.
    assert str(df["zoned"].dtype).endswith("UTC]")
    assert df["zoned"][1] == pd.Timestamp("2024-02-01 09:00:00", tz="UTC")
    # Text that only looks like dates, or is partly other text, stays text.
    for column in ("code", "bad", "mixed"):
        assert not pd.api.types.is_datetime64_any_dtype(df[column].dtype), column


def test_a_datetime_column_round_trips_through_csv(tmp_path):
    df = pd.DataFrame({"when": pd.to_datetime(["2021-05-01 10:00:01", None, "2022-01-01 00:00:00"])})
    write_table(df, tmp_path / "t.csv")
    back = read_table(tmp_path / "t.csv")
    assert back["when"].tolist()[0] == pd.Timestamp("2021-05-01 10:00:01")
    assert back["when"].isna().tolist() == [False, True, False]


def test_whole_numbers_with_missing_values_read_as_nullable_integers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("count,ratio,full\n3,0.5,1\n,1.5,2\n7,,3\n")
    df = read_table(path)
    assert str(df["count"].dtype) == "Int64" and df["count"].isna().tolist() == [False, True, False]
    assert str(df["ratio"].dtype) == "float64"
    assert str(df["full"].dtype) == "int64"


def test_booleans_with_missing_values_read_as_nullable_booleans(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("flag,word,full\nTrue,yes,True\n,no,False\nfalse,,True\n")
    df = read_table(path)
    assert str(df["flag"].dtype) == "boolean" and df["flag"].isna().tolist() == [False, True, False]
    assert not pd.api.types.is_bool_dtype(df["word"].dtype)
    assert str(df["full"].dtype) == "bool"


def test_a_parquet_files_declared_types_decide_the_dtypes_whatever_the_values(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dpsynth.engines import DuckDBProfiler
    from dpsynth.schema import infer_schema

    # written by another tool than pandas (no pandas footer): nullable integer and boolean columns
    kinds = {}
    for name, missing in (("none", [1, 2, 3]), ("some", [1, None, 3])):
        path = tmp_path / f"{name}.parquet"
        flags = [True, None, False] if None in missing else [True, True, False]
        pq.write_table(pa.table({"n": pa.array(missing, pa.int32()), "ok": pa.array(flags), "x": [0.5, 1.0, 2.0]}), path)
        df = read_table(path)
        assert df.dtypes.astype(str).tolist() == ["Int32", "boolean", "float64"], name
        kinds[name] = [s.kind for s in infer_schema(df, kinds_only=True)]
        # the in-memory kinds are the DuckDB engine's
        assert kinds[name] == [s.kind for s in DuckDBProfiler(path).kinds()]
    # one missing value does not change a column's kind
    assert kinds["none"] == kinds["some"]
    # a file pandas wrote keeps the dtypes its footer records
    path = tmp_path / "pandas.parquet"
    pd.DataFrame({"n": [1, 2], "k": pd.array([1, None], dtype="Int64"), "ok": [True, False]}).to_parquet(path)
    assert read_table(path).dtypes.astype(str).tolist() == ["int64", "Int64", "bool"]


def test_a_parquet_decimal_column_is_read_as_numbers_of_the_kind_duckdb_reads(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    from dpsynth.engines import DuckDBProfiler
    from dpsynth.schema import infer_schema

    path = tmp_path / "prices.parquet"
    prices = pa.array([decimal.Decimal("0.50"), None, decimal.Decimal("12.25")], pa.decimal128(9, 2))
    pq.write_table(pa.table({"price": prices}), path)
    df = read_table(path)
    assert str(df["price"].dtype) == "float64"
    assert df["price"].tolist()[::2] == [0.5, 12.25] and df["price"].isna().tolist() == [False, True, False]
    assert [s.kind for s in infer_schema(df, kinds_only=True)] == [s.kind for s in DuckDBProfiler(path).kinds()]


def test_a_source_is_listed_once_for_every_engine(tmp_path):
    from dpsynth.io import listed_source

    parts = tmp_path / "people.parquet"
    parts.mkdir()
    for i in range(2):
        pd.DataFrame({"a": [i]}).to_parquet(parts / f"part-{i}.parquet")
    (parts / "_SUCCESS").write_text("")
    files, kind = listed_source(parts)
    assert kind == "parquet" and [f.rsplit("/", 1)[-1] for f in files] == ["part-0.parquet", "part-1.parquet"]
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "t.csv", index=False)
    assert listed_source(tmp_path / "*.csv") == ([str(tmp_path / "t.csv")], "csv")
    # a URL is the engine's to list; its extension tells the format, a trailing slash or not
    assert listed_source("s3://bucket/people.parquet/") == (["s3://bucket/people.parquet/"], "parquet")
    assert listed_source("s3://bucket/people/*.csv.gz") == (["s3://bucket/people/*.csv.gz"], "csv")
    with pytest.raises(DataReadError, match="no file matches"):
        listed_source(tmp_path / "*.pq")


ROWS = ["1,x,2.5", "2,y,3.5", "3,z,4.5"]


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_a_csv_saved_with_another_separator_is_read_as_its_columns(tmp_path, separator):
    path = tmp_path / "t.csv"
    path.write_text("\n".join(r.replace(",", separator) for r in ["id,code,score", *ROWS]) + "\n")
    df = read_table(path)
    comma = tmp_path / "comma.csv"
    comma.write_text("\n".join(["id,code,score", *ROWS]) + "\n")
    pd.testing.assert_frame_equal(df, read_table(comma))


def test_a_comma_inside_a_quoted_header_name_does_not_pick_the_separator(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id;"a,b"\n1;2\n')
    assert list(read_table(path).columns) == ["id", "a,b"]


def test_quoted_fields_with_the_separator_and_newlines_are_one_field(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b'\xef\xbb\xbfid,note\r\n1,"a, b\r\nc"\r\n2,d\r\n')  # BOM, Windows lines
    df = read_table(path)
    assert list(df.columns) == ["id", "note"]
    assert df["note"].tolist() == ["a, b\r\nc", "d"]


@pytest.mark.parametrize(("header", "message"), [
    ("id,code,id", r"column 'id': the header of '.*t.csv' names it twice \(columns 1 and 3\); fix: give every column"),
    ("id,,score", r"column 2 of the header of '.*t.csv' has no name; fix: give every column a name"),
    ("id, ,score", r"column 2 of the header"),
])
def test_a_header_that_pandas_would_rename_is_refused(tmp_path, header, message):
    path = tmp_path / "t.csv"
    path.write_text("\n".join([header, *ROWS]) + "\n")
    with pytest.raises(DataReadError, match=message):
        read_table(path)
    from dpsynth.io import listed_source  # the DuckDB and Spark engines list their files with it

    with pytest.raises(DataReadError, match=message):
        listed_source(path)


def test_rows_with_more_or_fewer_fields_than_the_header_are_refused_with_their_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,code,score\n1,x,2.5\n2,y\n\n3,z,4.5,extra\n")
    message = (r"2 row\(s\) of '.*t.csv' have another number of fields than its header's 3 "
               r"\(line 3 has 2; line 5 has 4\); fix: give every row one field per column")
    with pytest.raises(DataReadError, match=message):
        read_table(path)
    # pandas takes a first column of extra fields for the index, and pads short rows alone
    for text, lines in (("a,b,c\n1,2,3,4\n5,6,7,8\n", "line 2 has 4; line 3 has 4"),
                        ("a,b,c\n1,2,3\n4,5\n", "line 3 has 2")):
        path.write_text(text)
        with pytest.raises(DataReadError, match=lines):
            read_table(path)
    # a blank last field is a missing value, not a short row
    path.write_text("a,b,c\n1,2,\n4,5,6\n")
    assert read_table(path)["c"].isna().tolist() == [True, False]


def test_a_latin1_file_is_refused_with_how_to_save_it_as_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("id,country\n1,Curaçao\n".encode("latin-1"))
    with pytest.raises(DataReadError, match=r"is not UTF-8 text \(byte 0xe7 .*; fix: save it as UTF-8"):
        read_table(path)


def test_an_empty_csv_is_refused_as_empty(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("")
    with pytest.raises(DataReadError, match="is empty .*; fix: write the column names on the first line"):
        read_table(path)


def test_a_gzip_csv_is_read_through_the_same_checks(tmp_path):
    import gzip

    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("id;code\n1;x\n2;y\n")
    assert list(read_table(path).columns) == ["id", "code"]


def test_a_long_text_field_is_read_as_pandas_reads_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(f"id,note\n1,{'x' * 200_000}\n")
    assert len(read_table(path)["note"][0]) == 200_000
