import numpy as np
import pandas as pd
import pytest

from dpsynth.encoding import OutOfDomainWarning, TableEncoder
from dpsynth.encoding.categorical import CategoricalCodec
from dpsynth.encoding.dtypes import TargetDtype
from dpsynth.errors import InputDataError
from dpsynth.schema import ColumnSpec, Schema


def encoder_for(*specs, **kwargs):
    return TableEncoder(Schema(specs), **kwargs)


def test_codes_follow_the_declared_category_order_not_the_data():
    spec = ColumnSpec("c", "categorical", categories=("z", "a", "m"), nullable=True)
    encoded = encoder_for(spec).encode(pd.DataFrame({"c": ["a", "m", None, "z", "a"]}))
    assert encoded["c"].tolist() == [1, 2, 3, 0, 1]
    assert encoded.domain["c"] == 4


def test_numbers_and_their_text_match_the_same_category():
    # a CSV gives "1" for the declared category 1; a column with missing values gives 1.0
    spec = ColumnSpec("c", "categorical", categories=(1, 2, 3), nullable=True, dtype="object")
    df = pd.DataFrame({"c": pd.Series(["1", 2.0, np.int8(3), None, 1], dtype=object)})
    encoded = encoder_for(spec).encode(df)
    assert encoded["c"].tolist() == [0, 1, 2, 3, 0]
    assert encoded.report.affected == 0


def test_text_that_is_not_the_shortest_form_does_not_match():
    spec = ColumnSpec("c", "categorical", categories=(1, 2))
    with pytest.raises(InputDataError, match=r"'1\.0'"):
        encoder_for(spec).encode(pd.DataFrame({"c": ["1.0", "2"]}))


def test_unknown_values_go_to_other_and_are_counted():
    spec = ColumnSpec("c", "categorical", categories=("a", "b"), on_unknown="other", dtype="str")
    df = pd.DataFrame({"c": pd.Series(["a", "x", "y", "b", "x"], dtype="str")})
    encoder = encoder_for(spec)
    with pytest.warns(OutOfDomainWarning, match=r"'c': 3 value\(s\) outside the declared categories"):
        encoded = encoder.encode(df)
    assert encoded["c"].tolist() == [0, 2, 2, 1, 2]
    assert encoded.report.other == {"c": 3}
    assert encoder.decode(encoded)["c"].tolist() == ["a", "<other>", "<other>", "b", "<other>"]


def test_other_label_can_be_chosen():
    spec = ColumnSpec("c", "categorical", categories=("a",), on_unknown="other", dtype="object")
    encoder = encoder_for(spec, other_label="OTHER")
    assert encoder.decode({"c": np.array([1, 0])})["c"].tolist() == ["OTHER", "a"]


def test_empty_string_is_a_value_not_a_missing_one():
    spec = ColumnSpec("c", "categorical", categories=("", "a"), nullable=True)
    df = pd.DataFrame({"c": ["", None, "a"]})
    encoder = encoder_for(spec).fit(df)
    encoded = encoder.encode(df)
    assert encoded["c"].tolist() == [0, 2, 1]
    pd.testing.assert_frame_equal(encoder.decode(encoded), df)


def test_codec_refuses_an_undeclared_value_it_is_handed_directly():
    # encode() checks the table first; the codec also refuses on its own
    spec = ColumnSpec("c", "categorical", categories=("a",))
    codec = CategoricalCodec(spec, TargetDtype("c", "object"), "<other>")
    with pytest.raises(InputDataError, match="'b' is not among the declared categories"):
        codec.encode(pd.Series(["a", "b"]))


@pytest.mark.parametrize(
    ("values", "codes"),
    [
        ([True, False, True], [1, 0, 1]),
        (["true", "False", "TRUE"], [1, 0, 1]),
        ([1, 0, 1], [1, 0, 1]),
    ],
)
def test_boolean_values_and_their_text(values, codes):
    spec = ColumnSpec("b", "boolean")
    assert encoder_for(spec).encode(pd.DataFrame({"b": values}))["b"].tolist() == codes


def test_boolean_missing_code_is_last():
    spec = ColumnSpec("b", "boolean", nullable=True, dtype="boolean")
    encoder = encoder_for(spec)
    df = pd.DataFrame({"b": pd.array([True, None, False], dtype="boolean")})
    assert encoder.encode(df)["b"].tolist() == [1, 2, 0]
    assert encoder.code_labels("b") == ("False", "True", "<missing>")


def test_boolean_refuses_other_values():
    with pytest.raises(InputDataError, match="'yes' is not a boolean"):
        encoder_for(ColumnSpec("b", "boolean")).encode(pd.DataFrame({"b": ["yes", "True"]}))
