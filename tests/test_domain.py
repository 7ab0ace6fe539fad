import dataclasses
import re

import pytest

from dpsynth.domain import Domain
from dpsynth.errors import ParameterError


@pytest.fixture
def domain():
    return Domain(("a", "b", "c"), (2, 3, 4))


def test_sizes_and_access(domain):
    assert len(domain) == 3 and list(domain) == ["a", "b", "c"] and "b" in domain
    assert domain["c"] == 4 and domain.index("b") == 1
    assert domain.size() == 24 and domain.size(["a", "c"]) == 8 and domain.size([]) == 1
    assert domain.marginal_shape(["c", "a"]) == (4, 2)
    assert repr(domain) == "Domain(a: 2, b: 3, c: 4)"


def test_projection_canonical_order_and_without(domain):
    assert domain.project(["c", "a"]) == Domain(("c", "a"), (4, 2))
    assert domain.canonical(["c", "a"]) == ("a", "c")
    assert domain.without(["b"]) == Domain(("a", "c"), (2, 4))


def test_dict_round_trip_keeps_order(domain):
    assert Domain.from_dict(domain.to_dict()) == domain
    assert list(domain.to_dict()) == ["a", "b", "c"]


def test_merge(domain):
    merged = domain.merge(Domain(("c", "d"), (4, 5)))
    assert merged == Domain(("a", "b", "c", "d"), (2, 3, 4, 5))
    with pytest.raises(ParameterError, match="'c' has 4 codes in one domain and 5 in the other"):
        domain.merge(Domain(("c",), (5,)))


def test_immutable_and_hashable(domain):
    with pytest.raises(dataclasses.FrozenInstanceError):
        domain.shape = (1, 1, 1)
    assert hash(domain) == hash(Domain(["a", "b", "c"], [2, 3, 4]))


@pytest.mark.parametrize(
    ("attributes", "shape", "text"),
    [
        (("a", "b"), (1,), "same length"),
        (("a", "a"), (1, 2), "unique attribute names"),
        (("a",), (0,), "size of attribute 'a' (0) must be at least 1"),
    ],
)
def test_bad_domains_are_refused(attributes, shape, text):
    with pytest.raises(ParameterError, match=re.escape(text)):
        Domain(attributes, shape)


def test_unknown_attribute_names_the_known_ones(domain):
    with pytest.raises(ParameterError, match="'z' is not in the domain; known attributes: a, b, c"):
        domain["z"]
    with pytest.raises(ParameterError):
        domain.canonical(["z"])
