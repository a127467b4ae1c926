"""Loaders of the UCI data sets: shapes, folder resolution, offline errors.

The files come from ../shared/datasets; nothing here touches the network.
"""

import io
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from benchmarks import datasets
from benchmarks.datasets import (
    ENV_VAR,
    LABELLED_DATASETS,
    data_folders,
    load_dataset,
    load_labelled,
    standardize,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
_REAL_DOWNLOAD = datasets._download

# name: (rows, features, columns with the target)
SHAPES = {
    "banknote": (1372, 4, 5),
    "breast": (569, 30, 31),
    "concrete": (1030, 8, 9),
    "red": (1599, 11, 12),
    "white": (4898, 11, 12),
    "yeast": (1484, 8, 8),
}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No test downloads: a download attempt fails like a machine offline."""

    def refuse(url, path):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(datasets, "_download", refuse)
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def no_shared(monkeypatch, tmp_path):
    """Hide ../shared/datasets: repository root and cwd in an empty tree."""
    root = tmp_path / "tree" / "repo"
    root.mkdir(parents=True)
    monkeypatch.setattr(datasets, "_REPO_ROOT", root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "miwae_impute"


@pytest.mark.parametrize("name", list(SHAPES))
def test_loaders_parse_the_shared_files(name):
    n_rows, n_features, n_with_target = SHAPES[name]
    X, columns = load_dataset(name, data_home=SHARED)
    assert X.shape == (n_rows, n_features)
    assert X.dtype == np.float64
    assert np.isfinite(X).all()
    assert len(columns) == n_features
    X_target, columns_target = load_dataset(name, data_home=SHARED, keep_target=True)
    assert X_target.shape == (n_rows, n_with_target)
    np.testing.assert_array_equal(X_target[:, :n_features], X)
    assert columns_target[:n_features] == columns


# name: number of classes
N_CLASSES = {"banknote": 2, "breast": 2, "red": 6, "white": 7, "yeast": 10}


@pytest.mark.parametrize("name", LABELLED_DATASETS)
def test_labelled_loaders_give_the_features_and_the_label(name):
    X, y, columns = load_labelled(name, data_home=SHARED)
    X_features, features = load_dataset(name, data_home=SHARED)
    np.testing.assert_array_equal(X, X_features)
    assert columns == features
    assert y.shape == (len(X),)
    assert len(np.unique(y)) == N_CLASSES[name]
    if name != "yeast":  # the others' labels are their numeric targets
        X_target, _ = load_dataset(name, data_home=SHARED, keep_target=True)
        np.testing.assert_array_equal(y, X_target[:, -1])
    with pytest.raises(ValueError, match="Unknown labelled data set 'concrete'"):
        load_labelled("concrete", data_home=SHARED)


def test_documented_columns():
    assert load_dataset("banknote", data_home=SHARED).columns == [
        "variance",
        "skewness",
        "curtosis",
        "entropy",
    ]
    assert load_dataset("yeast", data_home=SHARED).columns[0] == "mcg"
    assert load_dataset("red", data_home=SHARED, keep_target=True).columns[-1] == (
        "quality"
    )
    # The banknote class is 0/1 and the wine quality an integer grade.
    X, _ = load_dataset("banknote", data_home=SHARED, keep_target=True)
    assert set(np.unique(X[:, -1])) == {0.0, 1.0}


def test_concrete_from_the_original_xls(tmp_path):
    pytest.importorskip("xlrd")
    shutil.copy(SHARED / "Concrete_Data.xls", tmp_path)
    X_xls, columns = load_dataset("concrete", data_home=tmp_path, keep_target=True)
    X_csv, _ = load_dataset("concrete", data_home=SHARED, keep_target=True)
    assert X_xls.shape == (1030, 9)
    assert columns[-1] == "Concrete compressive strength"
    # The csv is the xls rounded to two decimals.
    np.testing.assert_allclose(X_xls, X_csv, atol=0.051)


def test_explicit_data_home_beats_the_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert data_folders(tmp_path / "explicit") == [tmp_path / "explicit"]
    assert data_folders() == [tmp_path / "env"]
    assert load_dataset("banknote", data_home=SHARED).X.shape == (1372, 4)


def test_env_var_folder_is_read(monkeypatch, tmp_path):
    lines = (SHARED / "data_banknote_authentication.txt").read_text().splitlines()
    lines[0] = "999," + lines[0].split(",", 1)[1]
    (tmp_path / "data_banknote_authentication.txt").write_text("\n".join(lines))
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_dataset("banknote").X[0, 0] == 999.0


def test_shared_folder_is_the_default():
    assert data_folders()[0] == SHARED.resolve()
    assert data_folders()[-1].name == "miwae_impute"  # the cache comes last


def test_shared_folder_found_from_the_cwd(monkeypatch, tmp_path):
    root = tmp_path / "elsewhere" / "repo"
    root.mkdir(parents=True)
    monkeypatch.setattr(datasets, "_REPO_ROOT", root)
    monkeypatch.chdir(REPO)
    assert data_folders()[0] == SHARED.resolve()


def test_cache_folder_without_shared_copy(monkeypatch, tmp_path, no_shared):
    assert data_folders() == [no_shared]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_folders() == [tmp_path / "home" / ".cache" / "miwae_impute"]


def test_offline_error_names_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("yeast", data_home=tmp_path, download=False)
    message = str(error.value)
    assert "'yeast.data'" in message
    assert str(tmp_path) in message
    assert "https://archive.ics.uci.edu/" in message
    assert "disabled" in message


def test_failed_download_error(no_shared):
    with pytest.raises(FileNotFoundError, match="download failed") as error:
        load_dataset("concrete")
    message = str(error.value)
    assert "'Concrete_Data.xls'" in message and "'Concrete_Data.csv'" in message
    assert str(no_shared) in message


def test_download_writes_into_the_cache(monkeypatch, no_shared):
    # The real download code, with urlopen serving the local copy.
    monkeypatch.setattr(datasets, "_download", _REAL_DOWNLOAD)
    payload = (SHARED / "winequality-red.csv").read_bytes()
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(datasets.urllib.request, "urlopen", fake_urlopen)
    X, _ = load_dataset("red")
    assert requested == [datasets._SOURCES["red"].url]
    assert (no_shared / "winequality-red.csv").read_bytes() == payload
    assert X.shape == (1599, 11)
    assert not list(no_shared.glob("*.part"))


def test_truncated_file_is_refused(tmp_path):
    lines = (SHARED / "yeast.data").read_text().splitlines()
    (tmp_path / "yeast.data").write_text("\n".join(lines[:100]))
    with pytest.raises(ValueError, match="100 rows x 10 columns.*1484 x 10"):
        load_dataset("yeast", data_home=tmp_path)


def test_unknown_name():
    with pytest.raises(ValueError, match="Unknown data set"):
        load_dataset("iris")


def test_standardize():
    X = np.column_stack([np.arange(10.0) * 3 + 7, np.full(10, 2.0)])
    Z = standardize(X)
    np.testing.assert_allclose(Z[:, 0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, 0].std(), 1)
    np.testing.assert_array_equal(Z[:, 1], 0)  # constant: centred only
