"""Fixtures shared by the test modules."""

import pytest

import miwae_impute


@pytest.fixture
def imputer_calls(monkeypatch):
    """The names that ``make_imputer`` builds, in order, as the benchmarks call it."""
    calls = []
    real = miwae_impute.make_imputer

    def make_imputer(name, **params):
        calls.append(name)
        return real(name, **params)

    monkeypatch.setattr(miwae_impute, "make_imputer", make_imputer)
    return calls


# Modules whose tests read the data sets of ../shared/datasets (the paper's
# sets, adult and german, and the collection's real tables), which are never
# downloaded at test time.
_DATA_MODULES = {
    "test_benchmarks_collection.py",
    "test_benchmarks_datasets.py",
    "test_benchmarks_mixed.py",
    "test_benchmarks_speed.py",
}


def _have_data():
    from benchmarks.datasets import data_folders

    folders = data_folders()
    concrete = ("Concrete_Data.csv", "Concrete_Data.xls")
    return any((f / name).is_file() for f in folders for name in concrete) and any(
        (f / "collection").is_dir() for f in folders
    )


def pytest_collection_modifyitems(config, items):
    """Skip the data-reading modules, saying why, where the data are absent."""
    if not any(item.path.name in _DATA_MODULES for item in items) or _have_data():
        return
    skip = pytest.mark.skip(
        reason="needs the data sets of ../shared/datasets (or $MIWAE_DATA_HOME)"
    )
    for item in items:
        if item.path.name in _DATA_MODULES:
            item.add_marker(skip)
