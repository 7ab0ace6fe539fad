"""Round trips on real tables shipped inside vega_datasets (no download).

The schemas are written the way a data owner would write them, from what is
known about such data (car specifications of the 1970s, Seattle's climate,
US postal codes), not from the values in the files.
"""

import numpy as np
import pandas as pd
import pytest
from vega_datasets import local_data

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.schema import ColumnSpec, Schema

from .conftest import assert_round_trip, within_bins

US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()


MONTHS = tuple(t.isoformat() for t in pd.date_range("2012-01-01", "2016-01-01", freq="MS"))

# vega_datasets 0.9 reads its JSON files with an argument pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The 'convert_dates' keyword")


@pytest.fixture(scope="module")
def cars():
    """406 cars, 1970-1982: missing values, integers, a datetime, text; plus two booleans."""
    df = local_data.cars().drop(columns="Name")  # Name identifies a car: not a category
    df["american"] = df["Origin"] == "USA"
    df["powerful"] = (df["Horsepower"] > 100).astype("boolean").mask(df["Horsepower"].isna())
    return df


def cars_schema(df):
    d = {c: str(t) for c, t in df.dtypes.items()}
    return Schema((
        ColumnSpec("Miles_per_Gallon", "continuous", lower=5.0, upper=50.0, bins=9, nullable=True, dtype=d["Miles_per_Gallon"]),
        ColumnSpec("Cylinders", "integer", lower=3, upper=8, dtype=d["Cylinders"]),  # one code each
        ColumnSpec("Displacement", "continuous", bin_edges=(0, 100, 200, 300, 400, 500), dtype=d["Displacement"]),
        # a whole number stored as float64 because some are missing
        ColumnSpec("Horsepower", "integer", lower=40, upper=240, bins=10, nullable=True, dtype=d["Horsepower"]),
        ColumnSpec("Weight_in_lbs", "integer", lower=1500, upper=5500, dtype=d["Weight_in_lbs"]),
        ColumnSpec("Acceleration", "continuous", lower=5.0, upper=30.0, dtype=d["Acceleration"]),
        # model years: explicit edges, since equal-width bins ignore leap days
        ColumnSpec("Year", "datetime", bin_edges=tuple(f"{y}-01-01" for y in range(1970, 1984)), dtype=d["Year"]),
        ColumnSpec("Origin", "categorical", categories=("USA", "Europe", "Japan"), dtype=d["Origin"]),
        ColumnSpec("american", "boolean", dtype=d["american"]),
        ColumnSpec("powerful", "boolean", nullable=True, dtype=d["powerful"]),
    ))


def test_cars_round_trip(cars):
    encoder = TableEncoder(cars_schema(cars))
    decoded = assert_round_trip(encoder, cars)
    assert decoded.dtypes.equals(cars.dtypes)
    assert decoded["Horsepower"].isna().sum() == 6 and decoded["Miles_per_Gallon"].isna().sum() == 8
    # whole-number horsepower comes back whole, in float64 like the raw column
    hp = decoded["Horsepower"].dropna()
    assert (hp == np.round(hp)).all()
    # one code per cylinder count: decoding is exact
    pd.testing.assert_series_equal(decoded["Cylinders"], cars["Cylinders"])
    assert encoder.code_labels("Cylinders") == ("3", "4", "5", "6", "7", "8")


def test_cars_yearly_bins_decode_within_the_model_year(cars):
    encoder = TableEncoder(cars_schema(cars))
    decoded = encoder.decode(encoder.encode(cars), rng=5)
    np.testing.assert_array_equal(decoded["Year"].dt.year, cars["Year"].dt.year)
    assert str(decoded["Year"].dtype) == "datetime64[us]"


@pytest.fixture(scope="module")
def weather():
    """1461 days of Seattle weather, 2012-2015."""
    return local_data.seattle_weather()


def weather_schema(df, bins=16):
    d = {c: str(t) for c, t in df.dtypes.items()}
    return Schema((
        ColumnSpec("date", "datetime", bin_edges=MONTHS, dtype=d["date"]),
        ColumnSpec("precipitation", "continuous", lower=0.0, upper=40.0, bins=bins, dtype=d["precipitation"]),
        ColumnSpec("temp_max", "continuous", lower=-10.0, upper=40.0, bins=bins, dtype=d["temp_max"]),
        ColumnSpec("temp_min", "continuous", lower=-15.0, upper=30.0, bins=bins, dtype=d["temp_min"]),
        ColumnSpec("wind", "continuous", lower=0.0, upper=15.0, bins=bins, dtype=d["wind"]),
        ColumnSpec("weather", "categorical", categories=("sun", "rain", "drizzle", "snow", "fog"), dtype=d["weather"]),
    ))


def test_seattle_weather_round_trip_and_clipping(weather):
    encoder = TableEncoder(weather_schema(weather))
    # precipitation above 40 mm a day happens (55.9 mm): clipped, counted, announced
    expected = int((weather["precipitation"] > 40).sum())
    assert expected > 0
    with pytest.warns(OutOfDomainWarning, match="precipitation"):
        encoded = encoder.encode(weather)
    assert encoded.report.clipped == {"precipitation": expected}
    decoded = encoder.decode(encoded, rng=0)
    pd.testing.assert_series_equal(decoded["weather"], weather["weather"])
    inside = (weather["precipitation"] <= 40).to_numpy()
    assert within_bins(encoder, "precipitation", weather["precipitation"][inside], encoded["precipitation"][inside]).all()
    assert decoded["precipitation"].between(0, 40).all()
    # monthly bins: the decoded date falls in the same month
    np.testing.assert_array_equal(decoded["date"].dt.to_period("M"), weather["date"].dt.to_period("M"))


def test_seattle_weather_with_aware_timestamps(weather):
    df = weather.assign(date=weather["date"].dt.tz_localize("America/Los_Angeles"))
    encoder = TableEncoder(weather_schema(df).with_column(
        ColumnSpec("precipitation", "continuous", lower=0.0, upper=60.0, dtype="float64")
    ))
    decoded = assert_round_trip(encoder, df)
    assert str(decoded["date"].dtype) == "datetime64[us, America/Los_Angeles]"


def test_airports_states_with_missing_and_other(recwarn):
    """3376 US airports: 12 without a state, some in territories (mapped to "other")."""
    df = local_data.airports()[["state", "country", "latitude"]]
    schema = Schema((
        ColumnSpec("state", "categorical", categories=tuple(US_STATES), nullable=True, on_unknown="other", dtype="str"),
        ColumnSpec("country", "categorical", categories=("USA",), on_unknown="other", dtype="str"),
        ColumnSpec("latitude", "continuous", lower=-90.0, upper=90.0, bins=36, dtype="float64"),
    ))
    encoder = TableEncoder(schema)
    encoded = encoder.encode(df)
    territories = df["state"].notna() & ~df["state"].isin(US_STATES)
    assert encoded.report.other["state"] == territories.sum() > 0
    decoded = encoder.decode(encoded, rng=0)
    keep = ~territories
    pd.testing.assert_series_equal(decoded["state"][keep], df["state"][keep])
    assert (decoded["state"][territories] == "<other>").all()
    assert decoded["state"].isna().sum() == 12 and decoded["state"].dtype == df["state"].dtype
    assert len(recwarn.list) == 1 and issubclass(recwarn.list[0].category, OutOfDomainWarning)


def test_la_riots_with_fitted_dtypes():
    """63 rows: a float age with one missing, dates of death; the schema gives no dtypes."""
    df = local_data.la_riots()[["age", "gender", "race", "death_date", "type"]]
    days = tuple(t.isoformat() for t in pd.date_range("1992-04-29", "1992-06-01", freq="D"))
    schema = Schema((
        ColumnSpec("age", "integer", lower=0, upper=100, bins=20, nullable=True),
        ColumnSpec("gender", "categorical", categories=("Male", "Female")),
        ColumnSpec("race", "categorical", categories=("Black", "Latino", "White", "Asian"), on_unknown="other"),
        ColumnSpec("death_date", "datetime", bin_edges=days),
        ColumnSpec("type", "categorical", categories=("Homicide", "Officer-involved shooting", "Death"),
                   on_unknown="other"),
    ))
    encoder = TableEncoder(schema).fit(df)
    assert encoder.dtype("age") == "float64" and encoder.dtype("death_date") == "datetime64[us]"
    with pytest.warns(OutOfDomainWarning):
        encoded = encoder.encode(df)
    # victims who died of their injuries after June 1st are clipped into the last day
    late = (df["death_date"] > pd.Timestamp("1992-06-01")).to_numpy()
    assert encoded.report.clipped == {"death_date": late.sum()} and late.any()
    assert encoded.report.other == {"type": (df["type"] == "Not riot-related").sum()}
    decoded = encoder.decode(encoded, rng=0)
    assert decoded.dtypes.equals(df.dtypes)
    np.testing.assert_array_equal(decoded["death_date"].dt.date[~late], df["death_date"].dt.date[~late])
    assert (decoded["death_date"][late] >= pd.Timestamp("1992-05-31")).all()
    assert decoded["death_date"].max() <= pd.Timestamp("1992-06-01")
