"""Saved models that are damaged, mismatched or newer: clear errors, and
saves that fail part way; and a fitted imputer used from several threads."""

import json
import os
import shutil
import threading

import numpy as np
import pytest
import torch

import miwae_impute._persistence as persistence
from miwae_impute import MIWAEImputer, ModelFileError, __version__
from miwae_impute._cli import main

FAST = dict(hidden_layer_sizes=(8,), max_iter=3, K=5, L=20, random_state=0)


def _data(n=60, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ rng.normal(size=(2, p))
    return np.where(rng.random(X.shape) < 0.25, np.nan, X)


@pytest.fixture(scope="module")
def fitted():
    return MIWAEImputer(**FAST).fit(_data())


@pytest.fixture
def saved(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    return tmp_path / "model"


def _edit_params(folder, edit):
    meta = json.loads((folder / "params.json").read_text())
    edit(meta)
    (folder / "params.json").write_text(json.dumps(meta))


def _as_format_0(meta):
    """A folder as the package wrote it before the format was recorded."""
    for key in ("format_version", "package_version", "weights_sha256"):
        del meta[key]


def test_saved_folder_records_the_formats_and_the_weights_checksum(saved):
    meta = json.loads((saved / "params.json").read_text())
    assert meta["format_version"] == persistence.FORMAT_VERSION
    assert meta["package_version"] == __version__
    assert len(meta["weights_sha256"]) == 64
    assert sorted(p.name for p in saved.iterdir()) == ["params.json", "weights.pt"]


def test_a_folder_of_format_0_loads_as_it_was_trained(tmp_path):
    X = _data()
    fitted = MIWAEImputer(**FAST, encoder_fill="zero").fit(X)  # as 0.1.0 was
    saved = tmp_path / "model"
    fitted.save(saved)

    def edit(meta):
        _as_format_0(meta)
        del meta["params"]["remask_weight"]
        del meta["params"]["encoder_fill"], meta["params"]["round_integers"]

    _edit_params(saved, edit)
    loaded = MIWAEImputer.load(saved)
    assert loaded.remask_weight == 0.0  # the penalty was off before format 1
    assert loaded.encoder_fill == "zero" and loaded.model_.fill is None
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_a_not_miwae_folder_of_format_1_keeps_its_zero_fill(tmp_path):
    X = _data()
    params = dict(FAST, missingness="self-masking-high", encoder_fill="zero")
    fitted = MIWAEImputer(**params).fit(X)  # what "auto" gave before format 2
    saved = tmp_path / "model"
    fitted.save(saved)

    def edit(meta):
        meta.update(format_version=1)
        meta["params"]["encoder_fill"] = "auto"

    _edit_params(saved, edit)
    loaded = MIWAEImputer.load(saved)
    assert loaded.encoder_fill == "zero" and loaded.model_.iota is None
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_a_self_masking_folder_of_format_2_at_random_keeps_its_zero_fill(tmp_path):
    X = _data()
    fitted = MIWAEImputer(**FAST, encoder_fill="zero").fit(X)
    saved = tmp_path / "model"
    fitted.save(saved)

    def edit(meta):  # "self-masking" that fell back to MIWAE before format 3
        meta.update(format_version=2, chosen_missingness_="ignorable")
        meta["params"].update(missingness="self-masking", encoder_fill="auto")

    _edit_params(saved, edit)
    loaded = MIWAEImputer.load(saved)
    assert loaded.encoder_fill == "zero" and loaded.model_.fill is None
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    _edit_params(saved, lambda meta: meta.update(format_version=3))
    with pytest.raises(ModelFileError):  # format 3 reads the Gaussian fill
        MIWAEImputer.load(saved)


@pytest.mark.parametrize(
    "content, problem",
    [
        ('{"format_version": 1, "par', "not valid JSON"),
        ("", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        ("[1, 2]", "holds a JSON list"),
        ('{"format_version": "one"}', "format_version is 'one'"),
    ],
)
def test_damaged_params_json_is_named_with_what_to_do(saved, content, problem):
    file = saved / "params.json"
    file.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelFileError, match=problem) as error:
        MIWAEImputer.load(saved)
    assert str(file) in str(error.value)
    assert "Save the model again" in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda meta: meta.pop("mean_"), "KeyError: 'mean_'"),
        (
            lambda meta: meta.pop("indicator_features"),
            "KeyError: 'indicator_features'",
        ),
        (lambda meta: meta["params"].update(L=-5), "'L' parameter"),
        (lambda meta: meta["params"].update(new_option=1), "new_option"),
        (lambda meta: meta.update(n_features_in_=3), "scaler does not fit"),
        (
            lambda meta: meta.update(chosen_missingness_="bogus"),
            "'bogus' is no missingness model",
        ),
    ],
)
def test_incomplete_or_hand_edited_params_json(saved, edit, problem):
    _edit_params(saved, edit)
    with pytest.raises(ModelFileError, match="damaged or incomplete") as error:
        MIWAEImputer.load(saved)
    message = str(error.value)
    assert problem in message
    assert str(saved / "params.json") in message
    assert f"this is {__version__}" in message


def test_a_newer_format_is_refused_by_name(saved):
    _edit_params(saved, lambda meta: meta.update(format_version=99))
    with pytest.raises(ModelFileError, match="format version 99") as error:
        MIWAEImputer.load(saved)
    assert "Upgrade miwae_impute" in str(error.value)


def test_damaged_weights_do_not_match_the_checksum(saved):
    weights = saved / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="not the weights") as error:
        MIWAEImputer.load(saved)
    assert str(weights) in str(error.value)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "code"])
def test_damaged_weights_without_a_checksum_never_suggest_an_unsafe_load(
    saved, damage, tmp_path
):
    weights = saved / "weights.pt"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[: len(weights.read_bytes()) // 2])
    elif damage == "garbage":
        weights.write_bytes(b"not a torch file at all")
    else:  # a pickle whose loading would run code, which must not run
        torch.save({"x": _Planted(str(tmp_path / "planted"))}, weights)
    _edit_params(saved, _as_format_0)
    with pytest.raises(ModelFileError, match="cannot be read safely") as error:
        MIWAEImputer.load(saved)
    message = str(error.value)
    assert str(weights) in message and "Save the model again" in message
    assert "Do not load it with torch.load(weights_only=False)" in message
    assert not (tmp_path / "planted").exists()


class _Planted:
    """Pickles to a call of os.mkdir(path): loading it unsafely makes path."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_weights_of_another_model(fitted, saved, tmp_path):
    other = MIWAEImputer(**{**FAST, "hidden_layer_sizes": (5,)}).fit(_data())
    other.save(tmp_path / "other")
    shutil.copy(tmp_path / "other" / "weights.pt", saved / "weights.pt")
    with pytest.raises(ModelFileError, match="different saves"):
        MIWAEImputer.load(saved)
    _edit_params(saved, _as_format_0)  # no checksum: the shapes tell
    with pytest.raises(ModelFileError, match="weights of another shape"):
        MIWAEImputer.load(saved)


def test_missing_files_and_folders(saved, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        MIWAEImputer.load(tmp_path / "nowhere")
    (saved / "weights.pt").unlink()
    with pytest.raises(ModelFileError, match="has no weights.pt"):
        MIWAEImputer.load(saved)
    with pytest.raises(ModelFileError, match="has no params.json"):
        MIWAEImputer.load(tmp_path)


def _failing_on(monkeypatch, name, error):
    """Make the save's write of the file ``name`` fail with ``error``."""
    write = persistence._write_replacing

    def failing(file, data):
        if file.name == name:
            original_fsync = os.fsync

            def fsync(fd):
                raise error

            monkeypatch.setattr(os, "fsync", fsync)
            try:
                return write(file, data)
            finally:
                monkeypatch.setattr(os, "fsync", original_fsync)
        return write(file, data)

    monkeypatch.setattr(persistence, "_write_replacing", failing)


@pytest.mark.parametrize("name", ["weights.pt", "params.json"])
def test_a_full_disk_during_save_leaves_nothing_that_loads(
    fitted, tmp_path, monkeypatch, name
):
    folder = tmp_path / "model"
    _failing_on(monkeypatch, name, OSError(28, "No space left on device"))
    with pytest.raises(OSError, match="No space left"):
        fitted.save(folder)
    # No temporary file is left, and no complete-looking model.
    assert all(not p.name.startswith(".") for p in folder.iterdir())
    with pytest.raises(ModelFileError, match="has no params.json"):
        MIWAEImputer.load(folder)


@pytest.mark.parametrize("name", ["weights.pt", "params.json"])
def test_a_failed_save_over_a_model_never_loads_as_a_mixed_one(
    fitted, tmp_path, monkeypatch, name
):
    """The weights are replaced first. If they cannot be written, the old
    model is intact; if the new params.json cannot, the old one's checksum
    refuses the new weights."""
    folder = tmp_path / "model"
    other = MIWAEImputer(**{**FAST, "random_state": 1}).fit(_data())
    other.save(folder)
    _failing_on(monkeypatch, name, OSError(28, "No space left on device"))
    with pytest.raises(OSError, match="No space left"):
        fitted.save(folder)
    if name == "params.json":
        with pytest.raises(ModelFileError, match="different saves"):
            MIWAEImputer.load(folder)
    else:
        X = _data()
        loaded = MIWAEImputer.load(folder).transform(X)
        np.testing.assert_array_equal(loaded, other.transform(X))


def test_saving_into_a_folder_that_cannot_be_written(fitted, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "model"))

    monkeypatch.setattr(persistence.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="Permission denied"):
        fitted.save(tmp_path / "model")
    assert list((tmp_path / "model").iterdir()) == []


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda folder: (folder / "params.json").write_text("{"), "not valid JSON"),
        (
            lambda folder: _edit_params(folder, lambda m: m.update(format_version=9)),
            "format version 9",
        ),
        (lambda folder: (folder / "weights.pt").write_bytes(b"x"), "not the weights"),
        (lambda folder: (folder / "weights.pt").unlink(), "has no weights.pt"),
    ],
)
def test_cli_model_reports_a_damaged_model(saved, tmp_path, capsys, damage, message):
    data = tmp_path / "data.csv"
    np.savetxt(data, np.nan_to_num(_data(), nan=1.0), delimiter=",", header="a,b,c,d")
    damage(saved)
    assert main([str(data), "--model", str(saved)]) != 0
    err = capsys.readouterr().err
    assert f"cannot load the model in {saved}" in err and message in err
    assert "Traceback" not in err


def test_concurrent_transform_sample_and_score_match_serial(fitted):
    X = _data(n=200, seed=1)
    threads_before = torch.get_num_threads()
    expected = {
        "transform": fitted.transform(X),
        "sample": fitted.sample(X, n_imputations=3),
        "score": fitted.score(X),
    }
    results, errors = {}, []

    def call(name, i):
        try:
            if name == "transform":
                results[name, i] = fitted.transform(X)
            elif name == "sample":
                results[name, i] = fitted.sample(X, n_imputations=3)
            else:
                results[name, i] = fitted.score(X)
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [
        threading.Thread(target=call, args=(name, i))
        for i in range(3)
        for name in expected
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    for (name, _), value in results.items():
        np.testing.assert_array_equal(value, expected[name])
    assert len(results) == 9
    assert torch.get_num_threads() == threads_before
