import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from audits.disclosure.encoding import Encoded
from audits.disclosure.membership import bandwidth, log_kernel_density, membership_inference


def _numeric(values):
    return Encoded(np.asarray(values, dtype=float), np.zeros((len(values), 0)))


def test_leave_one_out_density_drops_exactly_the_own_row():
    rng = np.random.default_rng(0)
    rows, targets = rng.random((30, 3)), rng.random((5, 3))
    targets[2] = rows[7]
    exclude = np.array([-1, -1, 7, -1, -1])
    got = log_kernel_density(_numeric(targets), _numeric(rows), 0.5, exclude)
    kept = np.delete(rows, 7, axis=0)
    expected = logsumexp(-cdist(targets[2:3], kept, "cityblock") / 0.5) - np.log(29)
    assert got[2] == pytest.approx(expected)
    full = logsumexp(-cdist(targets[:1], rows, "cityblock") / 0.5) - np.log(30)
    assert got[0] == pytest.approx(full)


def test_bandwidth_is_the_median_distance_to_the_nearest_distinct_row():
    rng = np.random.default_rng(0)
    rows = _numeric([[0.0], [0.0], [1.0], [3.0]])
    # Nearest distinct rows: 1, 1, 1, 2.
    assert bandwidth(rows, rng) == 1.0
    assert bandwidth(_numeric(np.zeros((3, 2))), rng) == 1.0
    # Nearest distances in [0, 10, 11] are 10, 1, 1: the median of any two of them is 5.5 or 1.
    assert bandwidth(_numeric([[0.0], [10.0], [11.0]]), rng, sample=2) in (1.0, 5.5)


def test_copied_members_are_separated_by_distance_to_closest_record():
    rng = np.random.default_rng(1)
    members, holdout = _numeric(rng.random((60, 4))), _numeric(rng.random((60, 4)))
    result = membership_inference(
        members,
        holdout,
        np.arange(60),
        members,
        holdout,
        rng=rng,
        confidence=0.95,
        ci_method="exact",
    )
    dcr, ratio = result.scores
    assert dcr.name == "dcr" and dcr.auc == 1.0 and dcr.advantage.advantage == 1.0
    assert ratio.name == "density_ratio" and ratio.beats_baseline
