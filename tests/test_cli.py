import json
import subprocess
import sys

import pandas as pd

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


def test_schema_infer_from_data_is_marked_and_warns(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pd.DataFrame({"city": ["a", "b"]}).to_csv(data, index=False)
    assert main(["schema", "infer", str(data), "--from-data"]) == 0
    captured = capsys.readouterr()
    schema = json.loads(captured.out)
    assert schema["columns"][0]["source"] == "data"
    assert "--public" in captured.err


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
