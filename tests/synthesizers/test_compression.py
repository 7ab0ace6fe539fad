import numpy as np
import pytest

from dpsynth.domain import Domain
from dpsynth.engines import NumpyEngine
from dpsynth.errors import ParameterError
from dpsynth.pgm import Measurement, estimate
from dpsynth.synthesizers.compression import (
    CompressedCounts,
    DomainCompression,
    empty_codes,
    exclude_empty_codes,
    pooled_one_way,
)


def _compression():
    domain = Domain(("a", "b"), (5, 3))
    noisy = {"a": np.array([100.0, 2.0, 50.0, -1.0, 0.5]), "b": np.array([10.0, 20.0, 30.0])}
    return domain, DomainCompression.from_noisy_counts(domain, noisy, sigma=1.0, threshold=3.0)


def test_codes_below_threshold_are_merged_into_one_last_code():
    domain, comp = _compression()
    assert comp.domain.to_dict() == {"a": 3, "b": 3}
    np.testing.assert_array_equal(comp.attributes["a"].forward, [0, 2, 1, 2, 2])
    np.testing.assert_array_equal(comp.attributes["b"].forward, [0, 1, 2])
    # merged codes 1, 3, 4 are drawn in proportion to their clipped noisy counts
    np.testing.assert_allclose(comp.attributes["a"].merged_weights, [2 / 2.5, 0.0, 0.5 / 2.5])


def test_a_single_rare_code_is_not_merged():
    domain = Domain(("a",), (3,))
    comp = DomainCompression.from_noisy_counts(domain, {"a": np.array([9.0, 1.0, 8.0])}, sigma=1.0)
    assert comp.domain["a"] == 3


def test_compress_then_decompress_keeps_kept_codes_and_stays_in_merged_set():
    domain, comp = _compression()
    rng = np.random.default_rng(0)
    codes = np.column_stack([rng.integers(0, 5, 1000), rng.integers(0, 3, 1000)])
    back = comp.decompress_codes(comp.compress_codes(codes), rng)
    kept = np.isin(codes[:, 0], [0, 2])
    np.testing.assert_array_equal(back[kept, 0], codes[kept, 0])
    assert set(back[~kept, 0]) <= {1, 4}  # code 3 has weight 0
    np.testing.assert_array_equal(back[:, 1], codes[:, 1])


def test_compressed_counts_equal_counts_of_compressed_codes():
    domain, comp = _compression()
    rng = np.random.default_rng(1)
    codes = np.column_stack([rng.integers(0, 5, 400), rng.integers(0, 3, 400)])
    wrapped = CompressedCounts(NumpyEngine(codes, domain), comp)
    direct = NumpyEngine(comp.compress_codes(codes), comp.domain)
    for clique in [("a",), ("b", "a"), ("a", "b")]:
        np.testing.assert_array_equal(wrapped.counts([clique])[0], direct.counts([clique])[0])


def test_one_way_measurement_keeps_one_noise_scale():
    domain, comp = _compression()
    noisy = np.array([100.0, 2.0, 50.0, -1.0, 0.5])
    m = comp.one_way_measurement("a", noisy, sigma=2.0)
    # the merged row is the sum of 3 noisy counts divided by sqrt(3): variance sigma^2 again
    np.testing.assert_allclose(m.values, [100.0, 50.0, 1.5 / np.sqrt(3)])
    np.testing.assert_allclose(np.asarray(m.query) @ np.array([100.0, 50.0, 1.5]), m.values)


def test_round_trip_to_dict():
    domain, comp = _compression()
    again = DomainCompression.from_dict(domain, comp.to_dict())
    assert again.domain == comp.domain
    np.testing.assert_array_equal(again.attributes["a"].forward, comp.attributes["a"].forward)


def test_empty_codes_rule_at_the_threshold():
    noisy = np.array([500.0, 29.999, 30.0, -4.0])
    # sigma 10, threshold 3: below 30 is empty, 30 itself is not; only candidates may go
    assert empty_codes(noisy, 10.0, [1, 2, 3]) == [1, 3]
    assert empty_codes(noisy, 10.0, [2]) == []
    assert empty_codes(noisy, 10.0, [1, 3], threshold=2.0) == [3]


def test_empty_codes_keep_one_code_of_the_attribute():
    assert empty_codes(np.array([2.0, -1.0, 5.0]), 10.0, [0, 1, 2]) == [0, 1]


def test_pooled_one_way_weights_by_inverse_variance():
    domain = Domain(("a", "b"), (2, 2))
    measurements = [
        Measurement(("a",), np.array([10.0, 0.0]), 1.0),
        Measurement(("a",), np.array([20.0, 4.0]), 2.0),
        Measurement(("a", "b"), np.ones((2, 2)), 1.0),
        Measurement(("b",), np.array([1.0]), 1.0, query=np.ones((1, 2))),
    ]
    pooled = pooled_one_way(domain, measurements)
    assert set(pooled) == {"a"}
    values, sigma = pooled["a"]
    np.testing.assert_allclose(values, [(10.0 + 20.0 / 4) / 1.25, (4.0 / 4) / 1.25])
    assert sigma == pytest.approx(1.25**-0.5)


def test_excluding_kept_and_merged_codes():
    domain, comp = _compression()  # a: kept 0, 2; merged 1, 3, 4 with weights .8, 0, .2
    a = comp.attributes["a"]
    only_merged, in_model = a.exclude([1])
    assert in_model == []
    np.testing.assert_allclose(only_merged.merged_weights, [0.0, 0.0, 1.0])
    # the survivors of a merge share it uniformly when none has a positive noisy count
    no_signal, _ = a.exclude([1, 4])
    np.testing.assert_allclose(no_signal.merged_weights, [0.0, 1.0, 0.0])
    every_merged, in_model = a.exclude([1, 3, 4])
    assert in_model == [2]  # the merged code itself
    kept, in_model = a.exclude([2])
    assert in_model == [1]
    np.testing.assert_array_equal(kept.merged_weights, a.merged_weights)


def test_exclusion_survives_the_dict_round_trip_and_refuses_conditions():
    domain, comp = _compression()
    attributes = dict(comp.attributes)
    attributes["a"], _ = attributes["a"].exclude([1, 2])
    excluded = DomainCompression(domain, attributes)
    again = DomainCompression.from_dict(domain, excluded.to_dict())
    assert again.excluded_codes == excluded.excluded_codes == {"a": (1, 2)}
    np.testing.assert_array_equal(again.attributes["a"].merged_weights, excluded.attributes["a"].merged_weights)
    with pytest.raises(ParameterError, match="excluded"):
        again.compress_code("a", 2)
    assert again.compress_code("a", 0) == 0
    # a compression saved before exclusion existed has none
    old = {a: {k: v for k, v in raw.items() if k != "excluded"} for a, raw in comp.to_dict().items()}
    assert DomainCompression.from_dict(domain, old).excluded_codes == {}


def test_exclude_empty_codes_only_touches_empty_candidates():
    domain = Domain(("a", "b"), (4, 3))
    noisy_a = np.array([300.0, 200.0, 2.0, 1.0])
    noisy_b = np.array([250.0, 250.0, 1.0])
    measurements = [Measurement(("a",), noisy_a, 5.0), Measurement(("b",), noisy_b, 5.0)]
    comp = DomainCompression.from_noisy_counts(domain, {"a": noisy_a, "b": noisy_b}, 5.0)
    model = estimate(comp.domain, [comp.one_way_measurement("a", noisy_a, 5.0),
                                   comp.one_way_measurement("b", noisy_b, 5.0)])
    # a: codes 2, 3 (merged) are both empty, but only 3 is a candidate; b: code 2 (kept) is
    new_model, new_comp = exclude_empty_codes(model, comp, measurements, {"a": [1, 3], "b": [2]})
    assert new_comp.excluded_codes == {"a": (3,), "b": (2,)}
    np.testing.assert_allclose(new_comp.attributes["a"].merged_weights, [1.0, 0.0])
    assert new_model.marginal(("b",))[2] == 0.0
    assert new_model.marginal(("a",))[2] > 0  # the merged code still stands for code 2
    assert new_model.total == pytest.approx(model.total)
    same_model, same_comp = exclude_empty_codes(model, comp, measurements, {"a": [0]})
    assert same_model is model and same_comp is comp
