import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dpsynth import __version__
from dpsynth.cli import main


def test_version_from_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "dpsynth", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"dpsynth {__version__}"


def test_schema_infer_kinds_only_writes_json(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pd.DataFrame({"age": [30, 40], "city": ["a", "b"], "score": [0.5, 1.5]}).to_csv(data, index=False)
    out = tmp_path / "schema.json"
    assert main(["schema", "infer", str(data), "-o", str(out)]) == 0
    cols = json.loads(out.read_text())["columns"]
    assert [(c["name"], c["kind"]) for c in cols] == [("age", "integer"), ("city", "categorical"), ("score", "continuous")]
    assert all("categories" not in c and "lower" not in c for c in cols)
    # a CSV has no column types: the kinds were read from its values, and the file says so
    assert all(c["kind_from_data"] is True for c in cols)
    assert "delete kind_from_data" in capsys.readouterr().err


def test_synthesize_a_csv_without_schema_decides_its_kinds_with_dp(tmp_path, capsys):
    df, data, _ = _small_table(tmp_path)
    out = tmp_path / "synth.csv"
    base = ["synthesize", str(data), "-o", str(out), "--method", "independent", "--rows", "40", "--epsilon", "50"]
    # in memory (numpy engine) the kinds are decided with DP
    assert main(base) == 0, capsys.readouterr().err
    assert len(pd.read_csv(out)) == 40
    out.unlink()
    # so they are on DuckDB, from the CSV's text; acknowledged, they are taken as sniffed
    assert main([*base, "--engine", "duckdb"]) == 0, capsys.readouterr().err
    assert main([*base, "--engine", "duckdb", "--public"]) == 0
    assert len(pd.read_csv(out)) == 40
    # Parquet declares its types: no acknowledgement needed
    parquet = tmp_path / "d.parquet"
    df.to_parquet(parquet)
    args = ["synthesize", str(parquet), "-o", str(tmp_path / "p.csv"), "--method", "independent", "--epsilon", "50"]
    assert main(args) == 0, capsys.readouterr().err


def test_schema_infer_of_parquet_takes_its_types_as_declared(tmp_path, capsys):
    data = tmp_path / "d.parquet"
    pd.DataFrame({"age": [30, 40], "city": ["a", "b"]}).to_parquet(data)
    assert main(["schema", "infer", str(data)]) == 0
    captured = capsys.readouterr()
    assert all("kind_from_data" not in c for c in json.loads(captured.out)["columns"])
    assert "kind_from_data" not in captured.err


def test_schema_infer_from_data_is_marked_and_warns(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pd.DataFrame({"city": ["a", "b"]}).to_csv(data, index=False)
    assert main(["schema", "infer", str(data), "--from-data"]) == 0
    captured = capsys.readouterr()
    schema = json.loads(captured.out)
    assert schema["columns"][0]["source"] == "data"
    assert "--public" in captured.err


def test_importing_the_command_line_loads_no_privacy_library():
    # Ctrl-C during an import before main() runs would print a traceback.
    code = "import sys, dpsynth.cli; print(sorted(m for m in ('opendp', 'sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ctrl_c_while_the_commands_load_is_one_line(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr("dpsynth.cli._command_groups", interrupted)
    assert main(["budget", "show"]) == 130
    assert capsys.readouterr().err == "dpsynth: interrupted; nothing was written\n"


def test_errors_are_one_line_without_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "dpsynth", "schema", "infer", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "s.json")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 3
    assert out.stderr.startswith("dpsynth: error:")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "s.json").exists()


def _small_table(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 400),
            "age": rng.integers(18, 80, 400),
            "smoker": rng.random(400) < 0.3,
        }
    )
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "columns": [
                    {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
                    {"name": "age", "kind": "integer", "lower": 18, "upper": 80, "bins": 8},
                    {"name": "smoker", "kind": "boolean"},
                ]
            }
        )
    )
    return df, data, schema


def test_synthesize_writes_same_columns(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    out = tmp_path / "synth.parquet"
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(out), "--rows", "123", "--seed", "1", "--method", "independent"])
    assert code == 0
    synth = pd.read_parquet(out)
    assert list(synth.columns) == ["sex", "age", "smoker"]
    assert len(synth) == 123
    assert synth["age"].between(18, 80).all()
    assert "spent epsilon = 1" in capsys.readouterr().err


def test_synthesize_refuses_bad_input_and_writes_nothing(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    df.loc[3, "sex"] = "X"
    df.to_csv(data, index=False)
    out = tmp_path / "synth.csv"
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert "column 'sex'" in err and "'X'" in err and "fix:" in err
    assert not out.exists()
    assert list(tmp_path.glob("*.tmp")) == []


def test_synthesize_a_semicolon_csv_keeps_its_columns(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    df.to_csv(data, index=False, sep=";")  # as a spreadsheet saves it in many locales
    out = tmp_path / "synth.csv"
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(out), "--method", "independent"])
    assert code == 0, capsys.readouterr().err
    assert list(pd.read_csv(out).columns) == ["sex", "age", "smoker"]


def test_synthesize_refuses_a_duplicate_header_name_in_one_line(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    data.write_text(data.read_text().replace("sex,age,smoker", "sex,age,sex", 1))
    out = tmp_path / "synth.csv"
    code = main(["synthesize", str(data), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("dpsynth: error: column 'sex': the header of ") and err.count("\n") == 1
    assert "names it twice (columns 1 and 3); fix: give every column its own name" in err
    assert not out.exists()


@pytest.mark.parametrize(("output", "message"), [
    ("d.csv/synth.csv", r"--output \('.*d.csv/synth.csv'\) must be a path whose folders are folders"),
    ("synth.xlsx", r"--output \('.*synth.xlsx'\) must be a file ending in one of .csv, .csv.gz, .parquet, .pq"),
])
def test_synthesize_refuses_an_output_it_cannot_write_before_fitting(tmp_path, capsys, monkeypatch, output, message):
    from dpsynth.synthesizers.base import Synthesizer

    df, data, schema = _small_table(tmp_path)
    monkeypatch.setattr(Synthesizer, "fit", lambda *a, **k: pytest.fail("the fit ran"))
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(tmp_path / output)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert re.match("dpsynth: error: " + message, err)


def test_release_refuses_a_mistyped_ledger_and_creates_none(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    ledger = tmp_path / "typo" / "ledger.db"
    code = main(["release", str(data), "--dataset-id", "x", "--ledger", str(ledger), "--out", str(tmp_path / "out")])
    assert code == 4
    assert "dpsynth: error: no ledger at " in capsys.readouterr().err
    assert not (tmp_path / "typo").exists() and not (tmp_path / "out").exists()


def test_release_refuses_an_out_that_is_a_file(tmp_path, capsys):
    from dpsynth.privacy.accountant import PrivacyBudget
    from dpsynth.privacy.ledger import Ledger

    df, data, schema = _small_table(tmp_path)
    Ledger(tmp_path / "l.db").init_dataset("x", "f" * 64, PrivacyBudget.approx(4.0, 1e-6))
    code = main(["release", str(data), "--dataset-id", "x", "--ledger", str(tmp_path / "l.db"), "--out", str(data)])
    assert code == 2
    assert re.match(r"dpsynth: error: out \('.*d.csv'\) must be a folder \(it is a file\)", capsys.readouterr().err)


def test_workload_only_for_aim(tmp_path, capsys):
    _, data, schema = _small_table(tmp_path)
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(tmp_path / "s.csv"), "--workload", "sex,age"])
    assert code == 2
    assert "omitted for method 'mst' (only aim takes one)" in capsys.readouterr().err


def test_parse_workload_inline_and_file(tmp_path):
    from dpsynth.cli import parse_workload

    assert parse_workload("a,b,c; d,e") == [("a", "b", "c"), ("d", "e")]
    path = tmp_path / "w.json"
    path.write_text('[["a", "b"], ["c"]]')
    assert parse_workload(str(path)) == [("a", "b"), ("c",)]


def test_synthesize_with_the_duckdb_engine(tmp_path):
    df, data, schema = _small_table(tmp_path)
    parquet = tmp_path / "d.parquet"
    df.to_parquet(parquet)
    out = tmp_path / "synth.csv"
    args = ["synthesize", str(parquet), "--schema", str(schema), "-o", str(out), "--engine", "duckdb"]
    assert main([*args, "--rows", "50", "--method", "independent"]) == 0
    assert len(pd.read_csv(out)) == 50


def test_spark_master_needs_the_spark_engine(tmp_path, capsys):
    _, data, schema = _small_table(tmp_path)
    out = tmp_path / "synth.csv"
    code = main(["synthesize", str(data), "--schema", str(schema), "-o", str(out), "--spark-master", "local[1]"])
    assert code == 2
    assert "--spark-master ('local[1]') is used only with --engine spark" in capsys.readouterr().err
    assert not out.exists()


def test_release_on_duckdb_from_the_command_line(tmp_path, capsys):
    df, data, schema = _small_table(tmp_path)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(2):
        df.iloc[i * 200 : (i + 1) * 200].to_parquet(folder / f"part-{i}.parquet", index=False)
    pattern = str(folder / "*.parquet")
    ledger = str(tmp_path / "ledger.db")
    assert main(["budget", "init", "--ledger", ledger, "--dataset", "toy", "--data", pattern,
                 "--engine", "duckdb", "--epsilon", "2", "--delta", "1e-6"]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    code = main(["release", pattern, "--dataset-id", "toy", "--ledger", ledger, "--out", str(out),
                 "--epsilon", "1", "--delta", "1e-9", "--method", "independent", "--schema", str(schema),
                 "--audit", "none", "--engine", "duckdb", "--evaluation-rows", "150", "--quiet"])
    assert code == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    assert printed["ledger_entry"]
    assert main(["verify", str(out / "manifest.json"), "--data", str(out / "synthetic.csv"), "--ledger", ledger]) == 0


def test_schema_infer_on_duckdb_reads_only_the_column_types(tmp_path, capsys):
    data = tmp_path / "d.parquet"
    pd.DataFrame({"age": [30, 40], "city": ["a", "b"], "score": [0.5, 1.5]}).to_parquet(data)
    out = tmp_path / "schema.json"
    assert main(["schema", "infer", str(data), "-o", str(out), "--engine", "duckdb", "--bins", "8"]) == 0
    cols = json.loads(out.read_text())["columns"]
    assert [(c["name"], c["kind"], c.get("bins")) for c in cols] == [
        ("age", "integer", 8), ("city", "categorical", None), ("score", "continuous", 8)
    ]
    assert main(["schema", "infer", str(data), "--engine", "duckdb", "--from-data"]) == 2
    assert "not used with --engine duckdb" in capsys.readouterr().err


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_schema_infer_of_a_csv_proposes_nothing_one_record_decides(tmp_path, engine):
    # One blank among whole numbers (Int64, not int64), one UTC offset among naive times
    # (a UTC column), one time among dates (TIMESTAMP, not DATE): the schema a user checks
    # and then declares as public must not carry them, only the kinds to check.
    rng = np.random.default_rng(0)
    written = []
    for odd in (False, True):
        n = rng.integers(0, 9, 50).astype(object)
        t = (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 999, 50), unit="h")).strftime(
            "%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
        d = (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 999, 50), unit="D")).strftime(
            "%Y-%m-%d").to_numpy(dtype=object)
        if odd:
            n[0], t[0], d[0] = None, t[0] + "+00:00", d[0] + " 10:30:00"
        data = tmp_path / f"odd_{odd}.csv"
        pd.DataFrame({"n": n, "t": t, "d": d}).to_csv(data, index=False)
        out = tmp_path / f"schema_{odd}.json"
        assert main(["schema", "infer", str(data), "-o", str(out), "--engine", engine]) == 0
        written.append(json.loads(out.read_text()))
    assert written[0] == written[1]
    cols = {c["name"]: c for c in written[0]["columns"]}
    assert all(c["nullable"] and "dtype" not in c for c in cols.values())
    assert cols["t"]["resolution"] == cols["d"]["resolution"] == "auto"


def test_the_audit_help_states_the_runs_of_each_profile(capsys):
    from dpsynth.release.job import GAME_RUNS

    with pytest.raises(SystemExit):
        main(["release", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"quick (default; the game runs {GAME_RUNS['quick']} times per world)" in text
    assert f"full ({GAME_RUNS['full']:,} times)" in text
