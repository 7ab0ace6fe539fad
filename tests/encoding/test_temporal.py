import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.encoding.temporal import datetime_edges
from dpsynth.schema import ColumnSpec, Schema

from .conftest import assert_round_trip

YEAR_2020 = {"lower": "2020-01-01", "upper": "2021-01-01"}


def encoder_for(spec):
    return TableEncoder(Schema((spec,)))


def test_uniform_edges_are_whole_nanoseconds_over_the_range():
    edges = datetime_edges(ColumnSpec("t", "datetime", lower="2020-01-01", upper="2020-01-02", bins=4))
    assert edges.dtype == np.int64
    np.testing.assert_array_equal(
        edges.astype("datetime64[ns]"),
        pd.date_range("2020-01-01", "2020-01-02", freq="6h").to_numpy(),
    )


def test_iso_text_input_round_trips_within_bins():
    spec = ColumnSpec("t", "datetime", bins=12, nullable=True, dtype="str", **YEAR_2020)
    encoder = encoder_for(spec)
    df = pd.DataFrame({"t": pd.Series(["2020-02-03", "2020-11-30T12:00:00", None], dtype="str")})
    encoded = encoder.encode(df)
    assert encoded["t"].tolist()[2] == 12  # the missing code
    decoded = encoder.decode(encoded, rng=0)
    assert decoded["t"].dtype == df["t"].dtype and pd.isna(decoded["t"][2])
    np.testing.assert_array_equal(encoder.encode(decoded)["t"], encoded["t"])


def test_aware_times_are_compared_in_utc():
    # 2020-12-31 23:30 in New York is 2021-01-01 04:30 UTC: past the upper bound
    spec = ColumnSpec("t", "datetime", bins=4, dtype="datetime64[ns, America/New_York]", **YEAR_2020)
    encoder = encoder_for(spec)
    times = pd.Series(pd.to_datetime(["2020-06-01 12:00", "2020-12-31 23:30"])).dt.tz_localize("America/New_York")
    with pytest.warns(OutOfDomainWarning):
        encoded = encoder.encode(pd.DataFrame({"t": times.astype("datetime64[ns, America/New_York]")}))
    assert encoded.report.clipped == {"t": 1}
    decoded = encoder.decode(encoded, rng=0)["t"]
    assert str(decoded.dtype) == "datetime64[ns, America/New_York]"
    assert decoded.dt.tz_convert("UTC").max() <= pd.Timestamp("2021-01-01", tz="UTC")


def test_times_beyond_the_nanosecond_range_are_clipped_not_refused():
    spec = ColumnSpec("t", "datetime", bins=4, dtype="datetime64[s]", **YEAR_2020)
    df = pd.DataFrame({"t": pd.Series([np.datetime64("2500-01-01"), np.datetime64("2020-05-05")]).astype("datetime64[s]")})
    with pytest.warns(OutOfDomainWarning):
        encoded = encoder_for(spec).encode(df)
    assert encoded["t"].tolist() == [3, 1]


def test_decoding_respects_the_dtype_resolution_and_bins():
    spec = ColumnSpec("t", "datetime", lower="2020-01-01", upper="2020-01-01T00:00:10", bins=5, dtype="datetime64[s]")
    encoder = encoder_for(spec)
    out = encoder.decode({"t": np.repeat(np.arange(5), 50)}, rng=2)["t"]
    seconds = (out - pd.Timestamp("2020-01-01")).dt.total_seconds().to_numpy()
    codes = np.repeat(np.arange(5), 50)
    # half-open bins of two seconds; the last one, [8 s, 10 s], is closed
    top = np.where(codes == 4, 10, 2 * codes + 1)
    assert ((seconds >= 2 * codes) & (seconds <= top)).all()
    assert set(seconds[codes == 4]) == {8, 9, 10}


def test_labels_show_the_bin_interval():
    encoder = encoder_for(ColumnSpec("t", "datetime", bins=2, nullable=True, **YEAR_2020))
    assert encoder.code_labels("t") == (
        "[2020-01-01T00:00:00, 2020-07-02T00:00:00)",
        "[2020-07-02T00:00:00, 2021-01-01T00:00:00]",
        "<missing>",
    )
    assert encoder.bin_edges("t").dtype == np.dtype("datetime64[ns]")


def test_hourly_real_world_style_round_trip():
    times = pd.date_range("2021-03-27", "2021-03-29", freq="37min", tz="Europe/Paris")  # spans a DST change
    df = pd.DataFrame({"t": times})
    spec = ColumnSpec("t", "datetime", lower="2021-03-26T23:00:00", upper="2021-03-29", bins=49, dtype=str(times.dtype))
    assert_round_trip(encoder_for(spec), df)


def test_a_column_of_dates_decodes_to_dates_inside_its_bins():
    import numpy as np
    import pandas as pd

    from dpsynth.encoding import TableEncoder
    from dpsynth.schema import ColumnKind, ColumnSpec, Schema, infer_schema

    days = pd.DataFrame({"born": pd.to_datetime(["1990-01-05", "1995-06-30", None, "2001-12-31"])})
    with_time = days.assign(born=days["born"] + pd.Timedelta(hours=3))
    # Kinds only read no value: whether the column holds dates is left to DP discovery.
    assert infer_schema(days, kinds_only=True)["born"].resolution == "auto"
    assert infer_schema(with_time, kinds_only=True)["born"].resolution == "auto"
    # A schema read from the data (source "data") reads it from the values.
    assert infer_schema(days)["born"].resolution == "D"
    assert infer_schema(with_time)["born"].resolution is None

    spec = ColumnSpec("born", ColumnKind.DATETIME, lower="1990-01-01", upper="2002-01-01", bins=7,
                      nullable=True, dtype="datetime64[us]", resolution="D")
    encoder = TableEncoder(Schema((spec,)))
    codes = np.repeat(np.arange(7), 200)
    decoded = encoder.decode({"born": codes}, rng=np.random.default_rng(0))["born"]
    assert str(decoded.dtype) == "datetime64[us]"
    assert (decoded == decoded.dt.normalize()).all()  # whole days
    np.testing.assert_array_equal(encoder.encode(decoded.to_frame()).columns["born"], codes)
    # More than one day is drawn inside a bin of almost two years.
    assert decoded[codes == 3].nunique() > 100


def test_resolution_is_checked_and_round_trips_through_json():
    import pytest

    from dpsynth.errors import SchemaError
    from dpsynth.schema import ColumnKind, ColumnSpec, Schema

    spec = ColumnSpec("t", ColumnKind.DATETIME, lower="2020-01-01", upper="2021-01-01", resolution="D")
    assert Schema.from_json(Schema((spec,)).to_json())["t"].resolution == "D"
    with pytest.raises(SchemaError, match="resolution 'week' is unknown"):
        ColumnSpec("t", ColumnKind.DATETIME, resolution="week")
    with pytest.raises(SchemaError, match="an? integer column cannot have a resolution"):
        ColumnSpec("n", ColumnKind.INTEGER, resolution="D")
    # A bin shorter than a day holds no date.
    from dpsynth.encoding import TableEncoder

    narrow = ColumnSpec("t", ColumnKind.DATETIME, lower="2020-01-01", upper="2020-01-02", bins=48, resolution="D")
    with pytest.raises(SchemaError, match="holds no day"):
        TableEncoder(Schema((narrow,)))
