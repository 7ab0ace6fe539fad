import numpy as np

from dpsynth.domain import Domain
from dpsynth.engines import NumpyEngine
from dpsynth.synthesizers.compression import CompressedCounts, DomainCompression


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
