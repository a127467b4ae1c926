"""The resumable store of benchmark rows: one CSV line per finished run."""

import csv
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

__all__ = ["FIELDS", "ResultStore", "settings_key"]

#: Bump when the protocol changes in a way that makes old rows incomparable.
_PROTOCOL_VERSION = 1

#: Columns of ``results.csv``, in order.
FIELDS = (
    "key", "method", "dataset", "seed", "mechanism", "missing_rate", "keep_target",
    "quick", "params", "n_imputations", "threads", "n_rows", "n_cols", "n_missing",
    "realised_rate", "mse", "coverage90", "fit_impute_seconds", "sample_seconds",
    "finished_at", "git_commit", "torch_version", "sklearn_version",
)  # fmt: skip


def settings_key(settings):
    """16 hexadecimal digits of a stable hash of a run's JSON-serialisable
    settings (method, data set, seed, ...): equal settings, equal keys."""
    payload = json.dumps(
        {"protocol": _PROTOCOL_VERSION, **settings}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class ResultStore:
    """Rows of finished runs in the CSV file ``path``, created with a header of
    ``fields`` on the first append and flushed to disk at each. A benchmark
    that stores more per run (such as ``benchmarks.collection``'s per-column
    errors) appends its columns to :data:`FIELDS`."""

    def __init__(self, path, fields=FIELDS):
        self.path = Path(path)
        self.fields = tuple(fields)
        self._check_header()

    def keys(self):
        """Keys of the finished runs."""
        return set(self.load()["key"])

    def load(self):
        """All stored rows, with the columns :attr:`fields`."""
        if not self.path.is_file():
            return pd.DataFrame(columns=list(self.fields))
        return pd.read_csv(self.path, dtype={"key": str, "git_commit": str})

    def append(self, row):
        """Write one row (a dict of the columns) and flush it to disk."""
        self.extend([row])

    def extend(self, rows):
        """Write several rows in one write, flushed to disk at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.is_file() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields)
            if new:
                writer.writeheader()
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())

    def _check_header(self):
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        with open(self.path, newline="") as handle:
            header = next(csv.reader(handle), [])
        if tuple(header) != self.fields:
            raise ValueError(
                f"{self.path} has the columns {header}, not those of this version "
                f"of the harness {list(self.fields)}; write to a new --out folder."
            )
