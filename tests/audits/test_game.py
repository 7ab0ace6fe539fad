"""The game is seeded, parallel-safe, resumable, and keeps what later attacks need."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from audits import AuditRunError, ResultsFileError, run_game
from audits.attacks import DistanceToClosestRecord, ExactMatch, RowCount
from audits.canaries import disagreeing
from audits.game import run_seed

CANARY = disagreeing(pd.DataFrame({"a": ["x", "y"], "n": [1, 9]}), size=5)
ATTACKS = [ExactMatch(), RowCount()]


def resample(df, seed):
    """Rows drawn with replacement from the input: leaks, and depends on the seed."""
    rng = np.random.default_rng(seed)
    return df.iloc[rng.integers(0, len(df), size=20)].reset_index(drop=True)


def test_seeded_runs_repeat_and_parallel_matches_serial():
    serial = run_game(resample, CANARY, 12, ATTACKS, seed=7, progress=False)
    again = run_game(resample, CANARY, 12, ATTACKS, seed=7, progress=False)
    parallel = run_game(resample, CANARY, 12, ATTACKS, seed=7, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(serial.features, again.features)
    pd.testing.assert_frame_equal(serial.features, parallel.features)
    assert list(serial.features["seed"][:2]) == [run_seed(7, 0, 0), run_seed(7, 0, 1)]
    assert serial.runs_per_world == 12


def test_features_separate_the_worlds_for_a_leaky_mechanism():
    game = run_game(resample, CANARY, 10, ATTACKS, progress=False)
    share = game.features["exact_match.count"]
    assert (share[game.features["world"] == 0] == 0).all()
    assert game.features["row_count.rows"].eq(20).all()


def test_resume_runs_only_the_missing_runs(tmp_path):
    path = tmp_path / "game.jsonl"
    calls = []

    def counted(df, seed):
        calls.append(seed)
        return resample(df, seed)

    run_game(counted, CANARY, 5, ATTACKS, seed=3, results_path=path, progress=False)
    assert len(calls) == 10
    resumed = run_game(counted, CANARY, 8, ATTACKS, seed=3, results_path=path, progress=False)
    assert len(calls) == 16
    fresh = run_game(resample, CANARY, 8, ATTACKS, seed=3, progress=False)
    pd.testing.assert_frame_equal(resumed.features, fresh.features)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "audits.game/1" and len(lines) == 17


def test_resume_tolerates_a_cut_last_line_and_refuses_another_game(tmp_path):
    path = tmp_path / "game.jsonl"
    run_game(resample, CANARY, 3, ATTACKS, results_path=path, progress=False)
    path.write_text(path.read_text() + '{"world": 1, "ru')
    assert run_game(resample, CANARY, 3, ATTACKS, results_path=path, progress=False).runs_per_world == 3
    # Cut again with several runs missing: the appended runs start on their own line.
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:9])
    resumed = run_game(resample, CANARY, 4, ATTACKS, results_path=path, progress=False)
    pd.testing.assert_frame_equal(resumed.features, run_game(resample, CANARY, 4, ATTACKS, progress=False).features)
    assert run_game(resample, CANARY, 4, ATTACKS, results_path=path, progress=False).runs_per_world == 4
    # A whole last record without its newline is kept, and the next run starts a new line.
    path.write_text(path.read_text().rstrip("\n"))
    grown = run_game(resample, CANARY, 5, ATTACKS, results_path=path, progress=False)
    pd.testing.assert_frame_equal(grown.features, run_game(resample, CANARY, 5, ATTACKS, progress=False).features)
    assert len(path.read_text().splitlines()) == 1 + 2 * 5
    with pytest.raises(ResultsFileError, match=r"differs in \['seed'\]"):
        run_game(resample, CANARY, 3, ATTACKS, seed=99, results_path=path, progress=False)


def test_kept_outputs_let_a_new_attack_be_scored_without_rerunning():
    game = run_game(resample, CANARY, 4, ATTACKS, keep_outputs=True, progress=False)
    features = game.attack_features(DistanceToClosestRecord())
    assert list(features.columns) == ["d_syn", "d_ref"] and len(features) == 8
    assert (features["d_syn"] >= 0).all()


def test_kept_outputs_come_back_with_the_types_the_mechanism_returned():
    def copy_with_types(df, seed):
        return pd.DataFrame({
            "zip": pd.Series(["09999", "10001"]),
            "when": pd.to_datetime(["2020-01-02 03:04:05", "2021-06-07 00:00:00"]),
            "date": pd.to_datetime(["2020-01-02", "2021-06-07"]),
            "n": pd.array([1, None], dtype="Int64"),
            "x": [0.5, 2.0],
        })

    game = run_game(copy_with_types, CANARY, 2, [RowCount()], keep_outputs=True, progress=False)
    pd.testing.assert_frame_equal(game.outputs[(0, 0)], copy_with_types(None, 0))


def test_parallel_runs_of_an_unseeded_mechanism_run_in_one_process():
    from audits import UnseededParallelWarning

    rng = np.random.default_rng(0)

    def unseeded(df):
        # Noise from a generator in a closure: forked workers would replay it.
        return df.iloc[rng.integers(0, len(df), size=20)].reset_index(drop=True)

    with pytest.warns(UnseededParallelWarning, match=r"fit_sample take\(s\) no seed.*running the game in this process"):
        game = run_game(unseeded, CANARY, 12, ATTACKS, n_jobs=2, progress=False)
    assert game.runs_per_world == 12


def test_a_failing_callable_is_reported_with_its_run():
    def broken(df):
        raise KeyError("age")

    with pytest.raises(AuditRunError, match=r"world 0, run 0 .*KeyError: 'age'"):
        run_game(broken, CANARY, 2, ATTACKS, progress=False)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"attacks \(\['row_count', 'row_count'\]\) must be"):
        run_game(resample, CANARY, 2, [RowCount(), RowCount()], progress=False)
    with pytest.raises(ValueError, match=r"runs \(0\) must be a positive integer"):
        run_game(resample, CANARY, 0, ATTACKS, progress=False)


def test_progress_bar_only_when_asked(capsys):
    run_game(resample, CANARY, 2, ATTACKS, progress=True)
    assert "audit runs" in capsys.readouterr().err
    run_game(resample, CANARY, 2, ATTACKS, progress=False)
    assert capsys.readouterr().err == ""
