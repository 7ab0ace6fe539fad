import itertools

import networkx as nx
import numpy as np
import pytest

from dpsynth.synthesizers import MST, Independent


def tvd(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())


def _pair_tvd(real, synth, pairs):
    out = []
    for a, b in pairs:
        r = real.groupby([a, b], dropna=False).size()
        s = synth.groupby([a, b], dropna=False).size()
        r, s = r.align(s, fill_value=0)
        out.append(tvd(r.to_numpy(float), s.to_numpy(float)))
    return np.mean(out)


def test_selected_pairs_form_a_spanning_tree(correlated):
    df, schema = correlated
    synth = MST(epsilon=2.0, random_state=0).fit(df, schema)
    pairs = [tuple(s["clique"]) for s in synth.privacy_report()["steps"] if s["step"] == "measure selected pairs"]
    assert len(pairs) == len(df.columns) - 1
    assert nx.is_tree(nx.Graph(pairs))
    selections = [s for s in synth.privacy_report()["steps"] if s["step"] == "select a pair for the tree"]
    assert len(selections) == len(df.columns) - 1


def test_strong_dependencies_are_chosen_at_high_epsilon(correlated):
    df, schema = correlated
    synth = MST(epsilon=20.0, random_state=0).fit(df, schema)
    pairs = {frozenset(s["clique"]) for s in synth.privacy_report()["steps"] if s["step"] == "measure selected pairs"}
    assert frozenset(("a", "b")) in pairs
    assert frozenset(("b", "c")) in pairs or frozenset(("city", "c")) in pairs


def test_mst_beats_independent_on_two_way_marginals(correlated):
    df, schema = correlated
    pairs = list(itertools.combinations(df.columns, 2))
    mst = MST(epsilon=3.0, random_state=1).fit(df, schema).sample(len(df))
    ind = Independent(epsilon=3.0, random_state=1).fit(df, schema).sample(len(df))
    assert _pair_tvd(df, mst, pairs) < 0.6 * _pair_tvd(df, ind, pairs)


def test_compression_merges_rare_codes_at_low_epsilon(correlated):
    df, schema = correlated
    synth = MST(epsilon=0.5, random_state=0).fit(df, schema)
    # age has 8 public bins but the data uses only a few: empty bins get merged
    assert synth.model_.domain["age"] < synth.encoder_.domain["age"]
    out = synth.sample(1000)
    assert out["age"].between(18, 90).all()


@pytest.mark.parametrize("columns", [["a"], ["a", "b"]])
def test_tiny_tables(correlated, columns):
    df, schema = correlated
    synth = MST(random_state=0).fit(df[columns], schema.select(columns))
    assert list(synth.sample(20).columns) == columns
