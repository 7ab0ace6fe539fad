"""The persistent privacy-budget ledger: one SQLite file, append-only, hash-chained.

What it promises
----------------
* Each dataset (an identifier the user names, bound to a fingerprint of the
  table) has a lifetime budget, set once by :meth:`Ledger.init_dataset`.
* A release first RESERVES its whole budget. The reservation is refused, before
  any data is read, when the finished releases plus the open reservations plus
  this one would exceed the lifetime budget. Reservations are taken inside
  ``BEGIN IMMEDIATE`` transactions, so concurrent processes are serialised and
  can never overspend together.
* A release that succeeds appends exactly one row (release id, time,
  mechanism, rho, epsilon, delta, parameters, hash of the output, library
  version) in one transaction. A release that fails before drawing noise
  appends nothing and frees its reservation; one that fails after (the release
  job does this) records what it spent, since its outcome may depend on the
  noise. A process killed mid-run leaves its reservation open: that
  budget stays counted (the safe side) until :meth:`Ledger.cancel_reservation`.
* Every row carries the SHA-256 of its content and of the previous row
  (a hash chain). :meth:`Ledger.verify` recomputes the chain and every
  dataset's totals, and reports the head hash: keep a copy of it elsewhere to
  detect a rewrite of the whole file by someone with write access.

Composition across releases is that of the accountant: in zCDP mode the rho of
releases add up (and the delta of approximate steps), in pure mode epsilons add.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from dpsynth._version import __version__
from dpsynth.errors import (
    BudgetExceededError,
    InputDataError,
    LedgerError,
    LedgerIntegrityError,
    Problem,
    parameter_error,
)
from dpsynth.privacy.accountant import (
    Accountant,
    Charge,
    PrivacyBudget,
    Spend,
    at_most,
    epsilon_of_rho,
)

LEDGER_FORMAT = 1
#: how the mechanism of a release that spent more than it reserved is marked (charged, never published)
OVERSPENT_MARK = "(failed: spent more than reserved)"
GENESIS_HASH = "0" * 64
#: seconds a writer waits for another process's transaction before giving up
LOCK_TIMEOUT_SECONDS = 60.0

_ROW_FIELDS = (
    "seq",
    "kind",
    "dataset_id",
    "entry_id",
    "created_at",
    "fingerprint",
    "mechanism",
    "mode",
    "rho",
    "epsilon",
    "delta",
    "step_delta",
    "parameters",
    "output_hash",
    "library_version",
    "prev_hash",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('init', 'release')),
    dataset_id TEXT NOT NULL,
    entry_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    mechanism TEXT NOT NULL,
    mode TEXT NOT NULL,
    rho REAL,
    epsilon REAL,
    delta REAL NOT NULL,
    step_delta REAL NOT NULL,
    parameters TEXT NOT NULL,
    output_hash TEXT,
    library_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    rho REAL NOT NULL,
    epsilon REAL,
    step_delta REAL NOT NULL,
    created_at TEXT NOT NULL,
    pid INTEGER NOT NULL
);
"""


def data_fingerprint(df: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and row contents (order included).

    Parameters
    ----------
    df : pandas.DataFrame
        The raw table, as read.

    Returns
    -------
    str
        64 hex digits; equal tables give equal fingerprints in any process.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    digest.update(str(len(df)).encode())
    if len(df) and df.shape[1]:
        try:
            rows = pd.util.hash_pandas_object(df, index=False, categorize=True)
        except TypeError as exc:
            raise InputDataError(
                [
                    Problem(
                        None,
                        f"the table cannot be fingerprinted ({exc})",
                        "hold only scalar values in cells",
                    )
                ]
            ) from None
        digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _row_hash(row: Mapping[str, Any]) -> str:
    payload = json.dumps([row[f] for f in _ROW_FIELDS], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _budget_of(row: Mapping[str, Any]) -> PrivacyBudget:
    if row["mode"] == "pure":
        return PrivacyBudget("pure", row["epsilon"], 0.0, row["rho"])
    return PrivacyBudget("zcdp", row["epsilon"], row["delta"], row["rho"])


def mode_refusal(dataset_id: str, lifetime_mode: str, budget: PrivacyBudget) -> LedgerError | None:
    """The refusal of a release whose budget a lifetime of ``lifetime_mode`` cannot take, or None."""
    if lifetime_mode == "pure" and budget.mode != "pure":
        return LedgerError(
            f"dataset {dataset_id!r} has a pure epsilon-DP lifetime budget; "
            "a zCDP release cannot be charged to it: release with a pure budget"
        )
    return None


def _described(budget: PrivacyBudget) -> str:
    if budget.mode == "pure":
        return f"pure epsilon {budget.epsilon:g}"
    if budget.epsilon is None:
        return f"rho {budget.rho:.6g}"
    return f"epsilon {budget.epsilon:g}, delta {budget.delta:g}"


def _charge_of(mode: str, rho: float, epsilon: float | None, step_delta: float) -> Charge:
    return Charge("release", rho=rho, epsilon=epsilon if mode == "pure" else None, delta=step_delta)


@dataclass
class Reservation:
    """Budget held for one release until it is committed or cancelled.

    Call :meth:`record` with what the release actually spent before the
    ``with`` block ends; without it the whole reservation is charged.
    """

    ledger: Ledger
    reservation_id: str
    dataset_id: str
    fingerprint: str
    mode: str
    rho: float
    epsilon: float | None
    step_delta: float
    entry_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _record: dict[str, Any] | None = None
    _closed: bool = False

    def record(
        self,
        spend: Spend,
        *,
        mechanism: str,
        parameters: Mapping[str, Any] | None = None,
        output_hash: str | None = None,
    ) -> None:
        """What the release spent (``Accountant.spent``), did and produced."""
        self._record = {
            "spend": spend,
            "mechanism": mechanism,
            "parameters": dict(parameters or {}),
            "output_hash": output_hash,
        }

    def commit(self) -> str:
        """Append the release row and free the reservation; returns the entry id."""
        if self._closed:
            raise LedgerError(f"reservation {self.reservation_id} is already closed")
        entry_id = self.ledger._commit(self)
        self._closed = True
        return entry_id

    def cancel(self) -> None:
        """Free the reservation without charging anything."""
        if not self._closed:
            with suppress(LedgerError):  # already freed, e.g. by `dpsynth budget cancel`
                self.ledger.cancel_reservation(self.reservation_id)
            self._closed = True


class Ledger:
    """A privacy-budget ledger stored in one SQLite file.

    Parameters
    ----------
    path : str or path-like
        The SQLite file; created (with its directory) on first use.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if self.path.is_dir():
            raise LedgerError(f"ledger {self.path} is a folder; give the path of a ledger file, e.g. {self.path / 'ledger.db'}")
        if self.path.is_file() and self.path.stat().st_size == 0:
            # SQLite would take an empty file as a new ledger: a truncated one would forget its spend.
            raise LedgerError(
                f"ledger {self.path} is an empty file, not a ledger: if it held one, restore it from a "
                "backup (starting afresh would forget the budget already spent); otherwise delete it"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as con:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)",
                (str(LEDGER_FORMAT),),
            )
            fmt = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0]
        if str(fmt).strip() != str(LEDGER_FORMAT):  # compared as text: a damaged value is not a crash
            raise LedgerError(
                f"ledger {self.path} has format {fmt!r}, this dpsynth reads format {LEDGER_FORMAT}; "
                "use the dpsynth version that wrote it"
            )

    # -- plumbing -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open ledger {self.path}: {exc}") from None
        con.row_factory = sqlite3.Row
        return con

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database's write lock from its start."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(
                f"ledger {self.path}: {exc}; if the file is damaged, restore it from a backup (do not "
                "start a new ledger: it would forget the budget already spent)"
            ) from None
        finally:
            con.close()

    def _rows(self, con: sqlite3.Connection, dataset_id: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(_ROW_FIELDS)}, row_hash FROM entries"
        args: tuple[Any, ...] = ()
        if dataset_id is not None:
            sql += " WHERE dataset_id = ?"
            args = (dataset_id,)
        return [dict(r) for r in con.execute(sql + " ORDER BY seq", args)]

    def _append(self, con: sqlite3.Connection, row: dict[str, Any]) -> None:
        last = con.execute("SELECT seq, row_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        row["seq"] = 1 if last is None else last["seq"] + 1
        row["prev_hash"] = GENESIS_HASH if last is None else last["row_hash"]
        row["row_hash"] = _row_hash(row)
        names = [*_ROW_FIELDS, "row_hash"]
        con.execute(
            f"INSERT INTO entries ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )

    def _init_row(self, con: sqlite3.Connection, dataset_id: str) -> dict[str, Any]:
        row = con.execute(
            f"SELECT {', '.join(_ROW_FIELDS)} FROM entries WHERE kind = 'init' AND dataset_id = ?",
            (dataset_id,),
        ).fetchone()
        if row is None:
            raise LedgerError(
                f"dataset {dataset_id!r} has no lifetime budget in ledger {self.path}; "
                f"set one with `dpsynth budget init --dataset {dataset_id} ...`"
            )
        return dict(row)

    def _accountant(self, con: sqlite3.Connection, dataset_id: str, without: str | None = None) -> Accountant:
        """An accountant for the dataset, charged with its releases and open reservations.

        Recorded spends are added without refusal: a run that spent more than
        it reserved may have taken the dataset past its lifetime budget, and
        the ledger must still show where it stands (nothing more fits).
        """
        init = self._init_row(con, dataset_id)
        acc = Accountant(_budget_of(init))
        for row in con.execute(
            "SELECT mode, rho, epsilon, step_delta FROM entries "
            "WHERE kind = 'release' AND dataset_id = ? ORDER BY seq",
            (dataset_id,),
        ):
            acc.record(_charge_of(init["mode"], row["rho"], row["epsilon"], row["step_delta"]))
        for row in con.execute(
            "SELECT reservation_id, rho, epsilon, step_delta FROM reservations WHERE dataset_id = ?", (dataset_id,)
        ):
            if row["reservation_id"] != without:
                acc.record(_charge_of(init["mode"], row["rho"], row["epsilon"], row["step_delta"]))
        return acc

    # -- datasets -------------------------------------------------------------------
    def init_dataset(self, dataset_id: str, fingerprint: str, budget: PrivacyBudget) -> str:
        """Set the lifetime budget of a dataset (once); returns the entry id.

        Raises
        ------
        LedgerError
            If the dataset already has a lifetime budget.
        """
        if not isinstance(dataset_id, str) or not dataset_id.strip():
            raise parameter_error("dataset_id", dataset_id, "a non-empty name")
        if not isinstance(budget, PrivacyBudget):
            raise parameter_error("budget", budget, "a PrivacyBudget")
        entry_id = uuid.uuid4().hex
        with self._transaction() as con:
            exists = con.execute(
                "SELECT 1 FROM entries WHERE kind = 'init' AND dataset_id = ?", (dataset_id,)
            ).fetchone()
            if exists:
                raise LedgerError(
                    f"dataset {dataset_id!r} already has a lifetime budget in {self.path}; "
                    "a lifetime budget is set once and never raised"
                )
            twin = con.execute(
                "SELECT dataset_id FROM entries WHERE kind = 'init' AND fingerprint = ?", (fingerprint,)
            ).fetchone()
            if twin:
                # A second id for the same table would give it a second lifetime budget.
                raise LedgerError(
                    f"this table is already registered as dataset {twin['dataset_id']!r} in {self.path}, "
                    f"with its own lifetime budget; release it under {twin['dataset_id']!r}: one table "
                    "has one lifetime budget"
                )
            self._append(
                con,
                {
                    "kind": "init",
                    "dataset_id": dataset_id,
                    "entry_id": entry_id,
                    "created_at": _now(),
                    "fingerprint": fingerprint,
                    "mechanism": "lifetime budget",
                    "mode": budget.mode,
                    "rho": budget.rho,
                    "epsilon": budget.epsilon,
                    "delta": budget.delta,
                    "step_delta": 0.0,
                    "parameters": "{}",
                    "output_hash": None,
                    "library_version": __version__,
                },
            )
        return entry_id

    def datasets(self) -> list[str]:
        """Dataset identifiers with a lifetime budget, in order of creation."""
        con = self._connect()
        try:
            rows = con.execute("SELECT dataset_id FROM entries WHERE kind = 'init' ORDER BY seq")
            return [r[0] for r in rows]
        finally:
            con.close()

    def status(self, dataset_id: str) -> dict[str, Any]:
        """Lifetime budget, spent (finished releases), reserved, remaining.

        ``remaining`` holds the rho left after every release and open
        reservation; on a zCDP ledger with an (epsilon, delta) lifetime its
        epsilon is the largest one more release at the lifetime delta can be
        given (that rho converted at that delta), not lifetime minus spent
        epsilon, which understates it. A release that reserves part of its
        delta for discovery can be given less (:meth:`affordable_rho`).
        ``lowered_by_delta_used`` is the rho the delta already used by such
        steps put out of reach, so that spent, reserved, remaining and it add
        up to the lifetime rho; ``overspent`` says how the recorded spends
        exceed the lifetime budget (a run that spent more than it reserved),
        or is None.
        """
        con = self._connect()
        try:
            init = self._init_row(con, dataset_id)
            done = Accountant(_budget_of(init))
            for row in self._rows(con, dataset_id):
                if row["kind"] == "release":
                    done.record(
                        _charge_of(init["mode"], row["rho"], row["epsilon"], row["step_delta"])
                    )
            everything = self._accountant(con, dataset_id)
            reservations = [
                dict(r)
                for r in con.execute(
                    "SELECT * FROM reservations WHERE dataset_id = ? ORDER BY created_at",
                    (dataset_id,),
                )
            ]
        finally:
            con.close()
        lifetime = _budget_of(init)
        remaining = everything.remaining.to_dict()
        if lifetime.mode == "zcdp" and lifetime.epsilon is not None:
            # rho adds up, epsilon does not: what one more release at the lifetime delta can
            # be given is the remaining rho converted, more than lifetime minus spent epsilon.
            rho = float(remaining["rho"])
            remaining["epsilon"] = epsilon_of_rho(rho, lifetime.delta) if rho > 0 else 0.0
        spent = done.spent.to_dict()
        if spent.get("epsilon") is not None and not math.isfinite(spent["epsilon"]):
            spent["epsilon"] = None  # delta used up: no epsilon holds (and JSON has no infinity)
        return {
            "dataset_id": dataset_id,
            "fingerprint": init["fingerprint"],
            "lifetime": lifetime.to_dict(),
            "releases": len(done.steps),
            "spent": spent,
            "reserved": reservations,
            "remaining": remaining,
            # rho out of reach because approximate steps used part of delta (0 without them)
            "lowered_by_delta_used": max(0.0, lifetime.rho - everything.available_rho) if lifetime.mode == "zcdp"
            else 0.0,
            "overspent": done.overspent,  # finished releases only, as verify counts them
        }

    def settled(self, reservation: Reservation, spend: Spend) -> dict[str, float]:
        """The dataset's lifetime budget, in rho, as it will stand once ``reservation`` commits ``spend``.

        Returns
        -------
        dict
            ``remaining`` (what one more release reserving no delta could have)
            and ``lowered_by_delta_used`` (rho put out of reach by the delta
            approximate steps used, this release's actual use included).
        """
        con = self._connect()
        try:
            acc = self._accountant(con, reservation.dataset_id, without=reservation.reservation_id)
        finally:
            con.close()
        acc.record(_charge_of(reservation.mode, spend.rho, spend.epsilon, spend.step_delta))
        lowered = acc.budget.rho - acc.available_rho if acc.mode == "zcdp" else 0.0
        return {"remaining": acc.affordable_rho(), "lowered_by_delta_used": max(0.0, lowered)}

    def affordable_rho(self, dataset_id: str, step_delta: float = 0.0) -> float:
        """The largest rho one more release of ``dataset_id`` reserving ``step_delta`` could have."""
        con = self._connect()
        try:
            return self._accountant(con, dataset_id).affordable_rho(step_delta)
        finally:
            con.close()

    def history(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        """Every row (init and releases), oldest first, parameters decoded."""
        con = self._connect()
        try:
            if dataset_id is not None:
                self._init_row(con, dataset_id)
            rows = self._rows(con, dataset_id)
        finally:
            con.close()
        for row in rows:
            row["parameters"] = json.loads(row["parameters"])
        return rows

    def has_entry(self, dataset_id: str, entry_id: str) -> bool:
        """True when the ledger holds release ``entry_id`` of ``dataset_id``."""
        return self.entry(dataset_id, entry_id) is not None

    def entry(self, dataset_id: str, entry_id: str) -> dict[str, Any] | None:
        """The row of release ``entry_id`` of ``dataset_id`` (parameters decoded), or None."""
        con = self._connect()
        try:
            row = con.execute(
                "SELECT * FROM entries WHERE dataset_id = ? AND entry_id = ?", (dataset_id, entry_id)
            ).fetchone()
        finally:
            con.close()
        if row is None:
            return None
        out = dict(row)
        out["parameters"] = json.loads(out["parameters"])
        return out

    # -- releases -------------------------------------------------------------------
    def begin(
        self, dataset_id: str, fingerprint: str, budget: PrivacyBudget, *, step_delta: float = 0.0
    ) -> Reservation:
        """Reserve ``budget`` for a release, or refuse it (nothing reserved).

        Parameters
        ----------
        dataset_id, fingerprint : str
            Which dataset, and the fingerprint of the table about to be used
            (see :func:`data_fingerprint`); it must be the one registered.
        budget : PrivacyBudget
            The release's whole budget. A pure budget against a zCDP ledger is
            charged its rho = epsilon**2 / 2; a zCDP budget against a pure ledger
            is refused.
        step_delta : float
            Delta the release's approximate steps (category discovery) may use.

        Raises
        ------
        BudgetExceededError
            If it would exceed the lifetime budget.
        LedgerError
            Unknown dataset, other fingerprint, or incompatible mode.
        """
        if not isinstance(budget, PrivacyBudget):
            raise parameter_error("budget", budget, "a PrivacyBudget")
        if not 0 <= float(step_delta) < 1:
            raise parameter_error("step_delta", step_delta, "in [0, 1)")
        with self._transaction() as con:
            init = self._init_row(con, dataset_id)
            if fingerprint != init["fingerprint"]:
                raise LedgerError(
                    f"dataset {dataset_id!r} is registered with fingerprint "
                    f"{init['fingerprint'][:12]}..., but this table has {fingerprint[:12]}...: "
                    "it is a different table; register it under its own dataset id"
                )
            refusal = mode_refusal(dataset_id, init["mode"], budget)
            if refusal is not None:
                raise refusal
            epsilon = budget.epsilon if budget.mode == "pure" else None
            charge = _charge_of(init["mode"], budget.rho, epsilon, float(step_delta))
            acc = self._accountant(con, dataset_id)
            if not acc.can_afford([charge]):
                reserved = f" and reserves delta {float(step_delta):.3g} for discovery" if step_delta else ""
                afford = acc.affordable_rho(float(step_delta))
                advice = ""
                if acc.overspent is not None:
                    advice = " (it is already overspent)"
                elif afford <= 0 < acc.affordable_rho():
                    advice = (": the delta reserved for discovery does not fit; declare every column's "
                              "categories and bounds in the schema (nothing is reserved then), or give a "
                              "smaller delta")
                elif budget.mode == "zcdp" and budget.epsilon is not None and afford > 0:
                    advice = f" (epsilon at most {at_most(epsilon_of_rho(afford, budget.delta))} at delta {budget.delta})"
                raise BudgetExceededError(
                    f"dataset {dataset_id!r}: this release ({_described(budget)}) needs rho "
                    f"{budget.rho:.6g}{reserved}, but its lifetime {init['mode']} budget affords such a "
                    f"release at most rho {at_most(afford)}{advice}; nothing was charged"
                )
            reservation = Reservation(
                self,
                uuid.uuid4().hex,
                dataset_id,
                fingerprint,
                init["mode"],
                budget.rho,
                epsilon,
                float(step_delta),
            )
            con.execute(
                "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    reservation.reservation_id,
                    dataset_id,
                    reservation.rho,
                    epsilon,
                    reservation.step_delta,
                    _now(),
                    os.getpid(),
                ),
            )
        return reservation

    @contextmanager
    def reserve(
        self, dataset_id: str, fingerprint: str, budget: PrivacyBudget, *, step_delta: float = 0.0
    ) -> Iterator[Reservation]:
        """Reserve, run the ``with`` block, then commit one row; on error, charge nothing.

        Examples
        --------
        >>> with ledger.reserve("adult", fp, PrivacyBudget.approx(1.0, 1e-6)) as r:  # doctest: +SKIP
        ...     synthetic = synth.fit(df).sample(1000)
        ...     r.record(synth.accountant.spent, mechanism="mst", output_hash=h)
        """
        reservation = self.begin(dataset_id, fingerprint, budget, step_delta=step_delta)
        try:
            yield reservation
            reservation.commit()
        except BaseException:
            reservation.cancel()
            raise

    def _commit(self, reservation: Reservation) -> str:
        record = reservation._record
        if record is None:
            spend = Spend(
                rho=reservation.rho,
                epsilon=reservation.epsilon,
                delta=0.0,
                step_delta=reservation.step_delta,
            )
            record = {
                "spend": spend,
                "mechanism": "unrecorded release (whole reservation charged)",
                "parameters": {},
                "output_hash": None,
            }
        spend: Spend = record["spend"]
        pure = reservation.mode == "pure"
        over = (
            (spend.epsilon or 0.0) > (reservation.epsilon or 0.0) * (1 + 1e-9)
            if pure
            else spend.rho > reservation.rho * (1 + 1e-9)
        ) or spend.step_delta > reservation.step_delta * (1 + 1e-9)
        with self._transaction() as con:
            deleted = con.execute(
                "DELETE FROM reservations WHERE reservation_id = ?", (reservation.reservation_id,)
            ).rowcount
            if not deleted:
                raise LedgerError(
                    f"reservation {reservation.reservation_id} is no longer open (cancelled?); "
                    "the release was not recorded and must not be published"
                )
            mechanism = str(record["mechanism"])
            if over:
                # Its noise was drawn: it is charged what it spent, even beyond what it reserved
                # (status and verify then report any lifetime overspend), never nothing.
                mechanism = f"{mechanism} {OVERSPENT_MARK}"
            try:
                parameters = json.dumps(record["parameters"], sort_keys=True, default=str)
            except (TypeError, ValueError) as exc:
                raise parameter_error(
                    "parameters", record["parameters"], f"JSON-serialisable ({exc})"
                ) from None
            self._append(
                con,
                {
                    "kind": "release",
                    "dataset_id": reservation.dataset_id,
                    "entry_id": reservation.entry_id,
                    "created_at": _now(),
                    "fingerprint": reservation.fingerprint,
                    "mechanism": mechanism,
                    "mode": reservation.mode,
                    "rho": spend.rho,
                    "epsilon": spend.epsilon,
                    "delta": spend.delta,
                    "step_delta": spend.step_delta,
                    "parameters": parameters,
                    "output_hash": None if over else record["output_hash"],
                    "library_version": __version__,
                },
            )
        if over:
            raise LedgerError(
                f"the release spent {spend.to_dict()}, more than it reserved (rho {reservation.rho}, "
                f"epsilon {reservation.epsilon}, step delta {reservation.step_delta}); ledger entry "
                f"{reservation.entry_id} charges what it spent, marked failed: it must not be published"
            )
        return reservation.entry_id

    def cancel_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Free an open reservation (for instance one left by a killed process).

        A release still running under it can no longer be recorded: its
        commit is refused, and its output must not be published.

        Returns
        -------
        dict
            The reservation that was freed.

        Raises
        ------
        LedgerError
            If no open reservation has this id.
        """
        with self._transaction() as con:
            row = con.execute(
                "SELECT * FROM reservations WHERE reservation_id = ?", (reservation_id,)
            ).fetchone()
            if row is None:
                raise LedgerError(
                    f"no open reservation {reservation_id!r} in {self.path}; "
                    "`dpsynth budget show` lists the open ones"
                )
            con.execute("DELETE FROM reservations WHERE reservation_id = ?", (reservation_id,))
        return dict(row)

    # -- integrity ------------------------------------------------------------------
    def verify(self) -> dict[str, Any]:
        """Recompute the hash chain and every dataset's totals.

        Returns
        -------
        dict
            ``rows``, ``datasets``, ``overspent`` (each dataset that a run
            spending more than it reserved took past its lifetime budget, with
            how) and ``head`` (hash of the last row).

        Raises
        ------
        LedgerIntegrityError
            Listing every row whose hash or link is wrong, and every dataset
            whose releases exceed its lifetime budget (other than through rows
            marked :data:`OVERSPENT_MARK`) or lack one.
        """
        con = self._connect()
        try:
            rows = self._rows(con)
        finally:
            con.close()
        problems: list[str] = []
        prev = GENESIS_HASH
        inits: dict[str, dict[str, Any]] = {}
        accountants: dict[str, Accountant] = {}
        marked: set[str] = set()  # datasets with a release that spent more than it reserved
        for row in rows:
            where = f"row {row['seq']} ({row['kind']} {row['entry_id'][:12]})"
            if row["prev_hash"] != prev:
                problems.append(
                    f"{where} does not follow the row before it (a row was removed or reordered)"
                )
            if _row_hash(row) != row["row_hash"]:
                problems.append(f"{where} was modified after it was written (hash mismatch)")
            prev = row["row_hash"]
            dataset = row["dataset_id"]
            if row["kind"] == "init":
                if dataset in inits:
                    problems.append(f"{where}: dataset {dataset!r} has a second lifetime budget")
                    continue
                inits[dataset] = row
                accountants[dataset] = Accountant(_budget_of(row))
                continue
            if dataset not in inits:
                problems.append(
                    f"{where}: release of dataset {dataset!r}, which has no lifetime budget"
                )
                continue
            if row["fingerprint"] != inits[dataset]["fingerprint"]:
                problems.append(
                    f"{where}: fingerprint differs from the one dataset {dataset!r} was registered with"
                )
            try:
                charge = _charge_of(inits[dataset]["mode"], row["rho"], row["epsilon"], row["step_delta"])
                if str(row["mechanism"]).endswith(OVERSPENT_MARK) or dataset in marked:
                    # A run that spent more than it reserved is recorded as spent: it may take its
                    # dataset past the lifetime budget, which is reported, not an inconsistency.
                    # Runs that had reserved beside it commit within their reservations after it.
                    marked.add(dataset)
                    accountants[dataset].record(charge)
                else:
                    accountants[dataset].charge(charge)
            except (BudgetExceededError, ValueError) as exc:
                problems.append(
                    f"{where}: dataset {dataset!r} overspends its lifetime budget ({exc})"
                )
        if problems:
            raise LedgerIntegrityError(
                f"ledger {self.path} is inconsistent: " + "; ".join(problems)
            )
        return {
            "rows": len(rows),
            "datasets": {d: acc.spent.to_dict() for d, acc in accountants.items()},
            "overspent": {d: acc.overspent for d, acc in accountants.items() if acc.overspent is not None},
            "head": prev,
        }
