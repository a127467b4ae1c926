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
