"""The distinguishing game: run the whole mechanism many times in two neighbouring worlds.

World 0 feeds the mechanism the canary's D'; world 1 feeds it D' with the
target added (add/remove) or swapped in (replace-one). Each run calls the
audited callable on the raw table, so preprocessing, domain handling, fitting
and sampling are all inside the game. Every attack turns each run's output
into a few named features; the game keeps those per run (and, if asked, the
outputs themselves), so attacks can be scored, trained or added later
without running the mechanism again.

Runs are seeded: run ``i`` of world ``w`` gets a seed derived from
``(seed, w, i)`` alone, passed to the callable when it takes a ``seed`` or
``random_state`` keyword. A results file (JSON lines) makes a game resumable:
finished runs are read back, only missing ones are run, and new ones are
appended as they finish.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from audits._parallel import TaskPool
from audits.attacks.base import Attack, BlackBoxAttack, WhiteBoxAttack
from audits.canaries import RELATIONS, Canary
from audits.errors import AuditRunError, ResultsFileError, parameter_error

FORMAT = "audits.game/1"
FitSample = Callable[..., pd.DataFrame]
WhiteBoxHook = Callable[..., Sequence]


def run_seed(seed: int, world: int, run: int) -> int:
    """The seed of one run, derived from the game's seed, the world and the run index."""
    return int(np.random.SeedSequence([seed, world, run]).generate_state(1)[0])


class UnseededParallelWarning(UserWarning):
    """A game asked for worker processes runs in one: its mechanism takes no seed."""


def _seed_keyword(func: Callable | None) -> str | None:
    if func is None:
        return None
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return None
    for name in ("seed", "random_state"):
        if name in parameters:
            return name
    return None


@dataclass
class _Runner:
    """Everything one run needs; lives in the worker processes."""

    fit_sample: FitSample
    canary: Canary
    relation: str
    attacks: Sequence[Attack]
    white_box: WhiteBoxHook | None
    keep_outputs: bool
    fit_keyword: str | None = None
    white_box_keyword: str | None = None

    def __call__(self, task: tuple[int, int, int]) -> dict:
        world, run, seed = task
        data = self.canary.world(bool(world), self.relation)
        try:
            synthetic = _call(self.fit_sample, data, self.fit_keyword, seed)
            measurements = (
                _call(self.white_box, data, self.white_box_keyword, seed) if self.white_box else None
            )
        except Exception as exc:
            raise AuditRunError(
                f"the audited callable failed in world {world}, run {run} (seed {seed}): "
                f"{type(exc).__name__}: {exc}; fix the callable or the canary, then resume"
            ) from exc
        if not isinstance(synthetic, pd.DataFrame):
            raise AuditRunError(
                f"fit_sample returned {type(synthetic).__name__} in world {world}, run {run}; "
                "it must return a pandas DataFrame"
            )
        record = {"world": world, "run": run, "seed": seed, "features": {}}
        for attack in self.attacks:
            if isinstance(attack, WhiteBoxAttack):
                values = attack.features(self.canary.target, measurements, self.canary.base)
            else:
                values = attack.features(self.canary.target, synthetic, self.canary.base)
            record["features"].update({f"{attack.name}.{k}": float(v) for k, v in values.items()})
        if self.keep_outputs:
            record["synthetic"] = json.loads(
                synthetic.to_json(orient="split", index=False, date_format="iso", date_unit="ns")
            )
            record["dtypes"] = {str(c): str(t) for c, t in synthetic.dtypes.items()}
        return record


def _call(func: Callable, data: pd.DataFrame, keyword: str | None, seed: int):
    return func(data, **{keyword: seed}) if keyword else func(data)


@dataclass
class GameResult:
    """Per-run features of a finished game.

    Attributes
    ----------
    canary : Canary
        The neighbouring datasets.
    relation : str
        ``"add_remove"`` or ``"replace_one"``.
    seed : int
        Seed of the game.
    features : pandas.DataFrame
        One row per run: ``world`` (1 = target in the input), ``run``, ``seed``
        and ``<attack>.<feature>`` columns, sorted by world then run.
    outputs : dict, optional
        ``(world, run) -> synthetic table`` when the game kept its outputs.
    """

    canary: Canary
    relation: str
    seed: int
    features: pd.DataFrame
    outputs: dict[tuple[int, int], pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def runs_per_world(self) -> int:
        """Fewest runs of the two worlds."""
        counts = self.features.groupby("world").size()
        return int(counts.reindex([0, 1], fill_value=0).min())

    def attack_features(self, attack: Attack) -> pd.DataFrame:
        """The columns of one attack's features, prefix removed.

        Features of an attack the game did not run are computed from the kept
        outputs (black-box attacks only) and added to the table.

        Parameters
        ----------
        attack : Attack
            An attack, possibly one the game did not run.

        Returns
        -------
        pandas.DataFrame
            One row per run, aligned with :attr:`features`.
        """
        prefix = f"{attack.name}."
        columns = [c for c in self.features.columns if c.startswith(prefix)]
        if not columns:
            self._extract(attack)
            columns = [c for c in self.features.columns if c.startswith(prefix)]
        table = self.features[columns]
        return table.rename(columns=lambda c: c[len(prefix) :]).reset_index(drop=True)

    def _extract(self, attack: Attack) -> None:
        if self.outputs is None or not isinstance(attack, BlackBoxAttack):
            raise parameter_error(
                "attack", attack.name,
                "one the game ran, or a black-box attack on a game run with keep_outputs=True",
            )
        rows = []
        for world, run in zip(self.features["world"], self.features["run"], strict=True):
            values = attack.features(self.canary.target, self.outputs[(world, run)], self.canary.base)
            rows.append({f"{attack.name}.{k}": float(v) for k, v in values.items()})
        added = pd.DataFrame(rows, index=self.features.index)
        self.features = pd.concat([self.features, added], axis=1)


def _header(canary: Canary, relation: str, seed: int, attacks: Sequence[Attack], white_box: bool,
            keep_outputs: bool) -> dict:
    return {
        "format": FORMAT,
        "canary": canary.name,
        "canary_fingerprint": canary.fingerprint(),
        "relation": relation,
        "seed": seed,
        "attacks": [a.name for a in attacks],
        "white_box": white_box,
        "keep_outputs": keep_outputs,
    }


def _read_results(path: Path, header: dict) -> list[dict]:
    """Finished runs from a results file written for the same game."""
    with path.open() as handle:
        lines = handle.read().splitlines()
    if not lines:
        return []
    try:
        found = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"results file {str(path)!r} has no readable header: {exc}") from exc
    differing = sorted(k for k in header if found.get(k) != header[k])
    if differing:
        raise ResultsFileError(
            f"results file {str(path)!r} belongs to another game (differs in {differing}); "
            "give a new results_path or the same canary, relation, seed and attacks"
        )
    records = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            # Only the last line can be cut short by an interrupted write.
            if number != len(lines):
                raise ResultsFileError(
                    f"results file {str(path)!r} is damaged at line {number}: {exc}"
                ) from exc
    return records


def _end_last_line(path: Path) -> None:
    """End the file's last line so appended runs start their own.

    A last line cut short by an interrupted write (``_read_results`` skipped it)
    is removed; a whole record merely missing its newline is kept.
    """
    if not path.exists():
        return
    with path.open("rb+") as handle:
        content = handle.read()
        if not content or content.endswith(b"\n"):
            return
        start = content.rfind(b"\n") + 1
        try:
            json.loads(content[start:])
        except json.JSONDecodeError:
            handle.truncate(start)
        else:
            handle.write(b"\n")


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def run_game(
    fit_sample: FitSample,
    canary: Canary,
    runs: int,
    attacks: Sequence[Attack],
    relation: str = "add_remove",
    white_box: WhiteBoxHook | None = None,
    n_jobs: int = 1,
    seed: int = 0,
    results_path: str | os.PathLike | None = None,
    keep_outputs: bool = False,
    progress: bool | None = None,
) -> GameResult:
    """Run the distinguishing game and keep every run's attack features.

    Parameters
    ----------
    fit_sample : callable
        ``fit_sample(real_df) -> synthetic_df``, the whole mechanism. If it
        takes a ``seed`` or ``random_state`` keyword, each run's seed is passed.
    canary : Canary
        The neighbouring datasets.
    runs : int
        Runs per world.
    attacks : sequence of Attack
        Attacks whose features each run records (unique names).
    relation : {"add_remove", "replace_one"}, default "add_remove"
        Neighbouring relation of the claim.
    white_box : callable, optional
        ``white_box(real_df) -> [NoisyMarginal, ...]``: fits the model and
        returns its noisy measurements, for the white-box attacks (seeded
        like ``fit_sample``).
    n_jobs : int, default 1
        Worker processes (forked on Linux; elsewhere spawned, which needs
        picklable callables and attacks). Only for seedable callables: a
        worker starts from a copy of this process's random state, so an
        unseeded mechanism could replay the same noise in two workers and the
        runs would not be independent. Without a seed keyword the game runs in
        this process, with an :class:`UnseededParallelWarning`.
    seed : int, default 0
        Seed of the game.
    results_path : path, optional
        JSON-lines file to resume from and append to.
    keep_outputs : bool, default False
        Keep each synthetic table (for attacks added later); for small outputs.
    progress : bool, optional
        Show a progress bar; by default only when standard error is a terminal.

    Returns
    -------
    GameResult
    """
    if relation not in RELATIONS:
        raise parameter_error("relation", relation, f"one of {RELATIONS}")
    if int(runs) != runs or runs < 1:
        raise parameter_error("runs", runs, "a positive integer (runs per world)")
    if int(n_jobs) != n_jobs or n_jobs < 1:
        raise parameter_error("n_jobs", n_jobs, "a positive integer")
    names = [a.name for a in attacks]
    if not names or len(set(names)) != len(names):
        raise parameter_error("attacks", names, "a non-empty list of attacks with distinct names")
    if white_box is None and any(isinstance(a, WhiteBoxAttack) for a in attacks):
        raise parameter_error("white_box", None, "a hook returning noisy measurements, for white-box attacks")

    unseeded = [name for name, func in (("fit_sample", fit_sample), ("white_box", white_box))
                if func is not None and _seed_keyword(func) is None]
    if n_jobs > 1 and unseeded:
        warnings.warn(
            f"{' and '.join(unseeded)} take(s) no seed or random_state argument: forked workers "
            "would start from copies of one random state and could replay the same noise, so "
            "the runs would not be independent and the bound would not hold; running the game "
            "in this process. Give it a seed parameter and draw its randomness from that to "
            "run in parallel.",
            UnseededParallelWarning,
            stacklevel=2,
        )
        n_jobs = 1
    header = _header(canary, relation, seed, attacks, white_box is not None, keep_outputs)
    records: list[dict] = []
    path = Path(results_path) if results_path is not None else None
    if path is not None and path.exists() and path.stat().st_size:
        records = [r for r in _read_results(path, header) if r["run"] < runs]
    done = {(r["world"], r["run"]) for r in records}
    tasks = [
        (world, run, run_seed(seed, world, run))
        for run in range(runs)
        for world in (0, 1)
        if (world, run) not in done
    ]
    runner = _Runner(
        fit_sample, canary, relation, list(attacks), white_box, keep_outputs,
        _seed_keyword(fit_sample), _seed_keyword(white_box),
    )
    handle = None
    if path is not None:
        _end_last_line(path)
        fresh = not path.exists() or not path.stat().st_size
        handle = path.open("a")
        if fresh:
            handle.write(json.dumps(header) + "\n")
    # The bar is made only when shown, after the workers are forked: tqdm starts a thread.
    bar_context = (
        (lambda: tqdm(total=len(tasks), desc="audit runs")) if _show_progress(progress) else nullcontext
    )
    try:
        with TaskPool(runner, tasks, n_jobs) as pool, bar_context() as bar:
            for chunk in pool.results():
                records.extend(chunk)
                if handle is not None:
                    handle.writelines(json.dumps(r) + "\n" for r in chunk)
                    handle.flush()
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if handle is not None:
            handle.close()
    return _collect(records, canary, relation, seed)


def _kept_table(record: dict) -> pd.DataFrame:
    """A kept synthetic table as the mechanism returned it: JSON's values, then its dtypes.

    Nothing is guessed from the values (``"09999"`` stays text), so attacks scored
    later see the table the live attacks saw.
    """
    table = pd.read_json(
        io.StringIO(json.dumps(record["synthetic"])), orient="split", dtype=False
    )
    for column, dtype in record.get("dtypes", {}).items():
        try:
            values = table[column]
            if dtype.startswith("datetime64"):
                values = pd.to_datetime(values, format="ISO8601")
            table[column] = values.astype(dtype)
        except (KeyError, TypeError, ValueError):
            continue  # a dtype JSON cannot bring back keeps JSON's values
    return table


def _collect(records: list[dict], canary: Canary, relation: str, seed: int) -> GameResult:
    rows = [{"world": r["world"], "run": r["run"], "seed": r["seed"], **r["features"]} for r in records]
    features = pd.DataFrame(rows).sort_values(["world", "run"], kind="stable").reset_index(drop=True)
    outputs = None
    if records and all("synthetic" in r for r in records):
        outputs = {(r["world"], r["run"]): _kept_table(r) for r in records}
    return GameResult(canary, relation, seed, features, outputs)
