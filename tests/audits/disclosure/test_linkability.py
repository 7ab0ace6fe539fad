import numpy as np
import pandas as pd

from audits.disclosure.linkability import linkability


def _run(train, control, synthetic, a, b, k=1, seed=0):
    numeric = [c for c in synthetic.columns if pd.api.types.is_numeric_dtype(synthetic[c])]
    return linkability(
        train,
        control,
        synthetic,
        columns_a=a,
        columns_b=b,
        numeric=numeric,
        n_neighbors=k,
        rng=np.random.default_rng(seed),
        confidence=0.95,
        ci_method="exact",
    )


def test_a_copy_links_every_record_with_a_unique_b_part(adult):
    a, b = ["fnlwgt", "workclass"], ["age", "hours-per-week", "occupation", "education"]
    people = adult.drop_duplicates(subset=b)
    train, control = people.iloc[:150], people.iloc[150:300]
    result = _run(train, control, train, a, b)
    est = result.estimate
    assert result.unique_b_share == 1.0
    assert est.attack.rate == 1.0 and est.risk == 1.0
    assert est.control.rate < 0.1


def test_indistinguishable_b_parts_link_only_by_chance():
    n = 200
    people = pd.DataFrame({"id": np.arange(n, dtype=float), "b": ["same"] * n})
    result = _run(people, people, people, ["id"], ["b"], k=2)
    assert result.unique_b_share == 0.0
    # Ties are broken at random: each link is right with probability 2 / 200.
    assert result.estimate.attack.successes <= 10
    assert not result.estimate.beats_baseline
