"""Saving and loading a fitted MIWAEImputer without pickle.

A saved model is a folder of two files: ``params.json``, the parameters and
the fitted state (each feature's likelihood included: its mass point or its
values), with the format version, the package version and the SHA-256 of the
weights; and ``weights.pt``, read back with ``torch.load(weights_only=True)``,
so that loading runs no code from the files. Each file is written under a
temporary name and then renamed, the weights first: a save that fails part
way leaves no pair of files that :func:`load_imputer` accepts.

:class:`_Persistence` gives the estimator ``save``, ``load`` and a pickle
state that holds CPU tensors only.
"""

import copy
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.impute import MissingIndicator
from sklearn.utils.validation import check_is_fitted

from ._missingness import MODELS
from ._version import __version__

__all__ = ["ModelFileError", "_Persistence", "load_imputer", "save_imputer"]

# Version of the folder's layout. 0: files written before it was recorded
# (package 0.1.0), read as they are. Raise it when a change to the files
# would make an older package misread them. 2: encoder_fill "auto" learns
# the fill of not-MIWAE with a stated direction (weights with ``iota``);
# before, it read zeros. 3: "self-masking" that chose missing at random is
# MIWAE's fit, with "auto"'s Gaussian fill; before, it read zeros.
FORMAT_VERSION = 3

_PARAMS, _WEIGHTS = "params.json", "weights.pt"


class ModelFileError(ValueError):
    """A saved model that cannot be loaded.

    A file of the folder is missing, damaged, from another save, or in a newer
    format than this package reads. The message names the folder and the file,
    what is wrong, and what to do. A subclass of :class:`ValueError`.
    """


def save_imputer(imputer, path):
    """Write a fitted MIWAEImputer as ``params.json`` and ``weights.pt``."""
    path = Path(path)
    names = getattr(imputer, "feature_names_in_", None)
    meta = {
        "params": {k: v for k, v in imputer.get_params().items() if k != "random_state"}
        | {"random_state": None},
        "n_features_in_": imputer.n_features_in_,
        "feature_names_in_": None if names is None else names.tolist(),
        "valid_features": imputer._valid_features.tolist(),
        "indicator_features": (
            imputer.indicator_.features_.tolist() if imputer.add_indicator else None
        ),
        "mean_": imputer.mean_.tolist(),
        "constant_values": [
            None if np.isnan(v) else v for v in imputer._constant_values
        ],
        "scale_": imputer.scale_.tolist(),
        "point_mass_values_": [
            None if np.isnan(v) else v for v in imputer.point_mass_values_
        ],
        "discrete_values_": [
            None if v is None else v.tolist() for v in imputer.discrete_values_
        ],
        "shrinkage_": imputer.shrinkage_.tolist(),
        "is_categorical_": imputer.is_categorical_.tolist(),
        "categories_": [
            None if v is None else v.tolist()
            for v in getattr(imputer, "categories_", [None] * imputer.n_features_in_)
        ],
        "seed": imputer._seed,
        "n_iter_": imputer.n_iter_,
        "history_": imputer.history_,
        "latent_dim": imputer.model_.decoder[0].in_features,
        "chosen_missingness_": imputer.chosen_missingness_,
    }
    meta["params"]["hidden_layer_sizes"] = list(imputer.hidden_layer_sizes)
    if isinstance(features := imputer.categorical_features, np.ndarray):
        meta["params"]["categorical_features"] = features.tolist()
    buffer = io.BytesIO()
    torch.save(imputer.model_.state_dict(), buffer)
    weights = buffer.getvalue()
    header = {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    path.mkdir(parents=True, exist_ok=True)
    _write_replacing(path / _WEIGHTS, weights)
    _write_replacing(path / _PARAMS, json.dumps(header | meta, indent=1).encode())


def _write_replacing(file, data):
    """Write ``data`` to ``file`` through a temporary file in its folder,
    renamed over ``file`` once complete; nothing is left behind on failure."""
    handle, temporary = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_imputer(cls, path):
    """Read an imputer of class ``cls`` written by :func:`save_imputer`.

    Raises :class:`ModelFileError` when the folder's files are missing,
    damaged, from different saves or in a newer format.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"No saved model at {path}: it is not a folder. Pass the folder "
            "that MIWAEImputer.save (or the CLI's --save-model) wrote."
        )
    meta = _read_params(path)
    weights = _read(path, _WEIGHTS)
    where = f"{path / _WEIGHTS}"
    expected = meta.get("weights_sha256")
    if expected is not None and hashlib.sha256(weights).hexdigest() != expected:
        raise ModelFileError(
            f"{where} is not the weights that {_PARAMS} was saved with: it is "
            "damaged, or the two files come from different saves (a save that "
            "failed part way, or files copied from two folders). Save the "
            "model again."
        )
    try:
        imputer = _from_meta(cls, meta)
        model = imputer._build_model(meta["latent_dim"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelFileError(
            f"{path / _PARAMS} is damaged or incomplete ({_describe(error)}). "
            f"It was written by miwae_impute "
            f"{meta.get('package_version', '0.1.0 or earlier')}; this is "
            f"{__version__}. Save the model again, or load it with the "
            "package version that saved it."
        ) from error
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as error:
        raise ModelFileError(
            f"{where} is damaged or is not a weights file written by "
            "MIWAEImputer.save, so it cannot be read safely. Save the model "
            "again. (Do not load it with torch.load(weights_only=False): that "
            "can run code stored in the file.)"
        ) from error
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError, KeyError) as error:
        raise ModelFileError(
            f"{where} holds weights of another shape than the model that "
            f"{_PARAMS} describes: the two files come from different models. "
            "Save the model again into an empty folder."
        ) from error
    imputer.model_ = model.eval()
    return imputer


def _read(path, name):
    file = path / name
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(
            f"{path} has no {name}: it is not a folder written by "
            "MIWAEImputer.save, or the save did not finish. Save the model again."
        ) from None


def _read_params(path):
    """The metadata of ``params.json``, after checking its format version."""
    file = path / _PARAMS
    try:
        meta = json.loads(_read(path, _PARAMS))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(
            f"{file} is damaged: it is not valid JSON ({_describe(error)}). "
            "Save the model again."
        ) from error
    if not isinstance(meta, dict):
        raise ModelFileError(
            f"{file} is damaged: it holds a JSON {type(meta).__name__}, not the "
            "object that MIWAEImputer.save writes. Save the model again."
        )
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ModelFileError(
            f"{file} is damaged: its format_version is {version!r}, not a "
            "version number. Save the model again."
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{file} has format version {version}, written by miwae_impute "
            f"{meta.get('package_version', 'of a later version')}; this "
            f"miwae_impute {__version__} reads format {FORMAT_VERSION} and "
            "older. Upgrade miwae_impute to load it."
        )
    return meta


def _describe(error):
    return f"{type(error).__name__}: {error}"


def _from_meta(cls, meta):
    """The imputer of ``meta``, with its fitted state but not its weights."""
    params = meta["params"]
    if meta.get("format_version", 0) == 0:
        # Files of 0.1.0 predate the masked-imputation penalty (off then).
        params = {"remask_weight": 0.0} | params
    # Files without encoder_fill predate it: their encoder read zeros.
    params = {"encoder_fill": "zero"} | params
    version, missingness = meta.get("format_version", 0), params.get("missingness")
    if params["encoder_fill"] == "auto" and (
        # Before format 2, "auto" gave not-MIWAE's encoder zeros; before 3,
        # "self-masking" read zeros also where it chose missing at random.
        (version < 2 and missingness not in (None, "ignorable"))
        or (version < 3 and missingness == "self-masking")
    ):
        params = params | {"encoder_fill": "zero"}
    imputer = cls(**params)
    imputer._validate_params()
    imputer.n_features_in_ = meta["n_features_in_"]
    if meta["feature_names_in_"] is not None:
        imputer.feature_names_in_ = np.asarray(meta["feature_names_in_"], object)
    imputer._valid_features = np.asarray(meta["valid_features"], bool)
    imputer._fit_columns = None
    # Files of version 0.1 have no categorical features.
    imputer.is_categorical_ = np.asarray(
        meta.get("is_categorical_", [False] * imputer.n_features_in_), dtype=bool
    )
    if imputer.is_categorical_.any():
        imputer.categories_ = [
            None if v is None else np.array([*v, None], dtype=object)[:-1]
            for v in meta["categories_"]
        ]
    imputer.mean_ = np.asarray(meta["mean_"])
    imputer._constant_values = np.asarray(meta["constant_values"], dtype=float)
    imputer.scale_ = np.asarray(meta["scale_"])
    # Files of version 0.1.0 have no point masses.
    no_mass = [None] * len(imputer.mean_)
    imputer.point_mass_values_ = np.asarray(
        meta.get("point_mass_values_", no_mass), dtype=float
    )
    imputer.shrinkage_ = np.asarray(
        meta.get("shrinkage_", np.ones(len(imputer.mean_))), dtype=float
    )
    imputer.discrete_values_ = [
        None if v is None else np.asarray(v, dtype=float)
        for v in meta.get("discrete_values_", no_mass)
    ]
    imputer._seed, imputer.n_iter_ = meta["seed"], meta["n_iter_"]
    # Files before 0.1.1 fitted the missingness model they were given.
    chosen = meta.get("chosen_missingness_", imputer.missingness)
    if chosen not in ("ignorable", *MODELS):
        raise ValueError(f"chosen_missingness_ {chosen!r} is no missingness model")
    imputer.chosen_missingness_ = chosen
    imputer.history_ = meta["history_"]
    n_valid = int(imputer._valid_features.sum())
    if not (
        len(imputer._valid_features) == imputer.n_features_in_
        and imputer.mean_.shape
        == imputer.scale_.shape
        == imputer.point_mass_values_.shape
        == imputer.shrinkage_.shape
        == (n_valid,)
        and len(imputer.discrete_values_) == n_valid
    ):
        raise ValueError("the scaler does not fit the features")
    if meta["indicator_features"] is not None:
        template = np.zeros((1, imputer.n_features_in_))
        template[0, meta["indicator_features"]] = np.nan
        imputer.indicator_ = MissingIndicator(error_on_new=False).fit(template)
    return imputer


def _to_cpu(state):
    """A copy of a (nested) optimiser state dict with its tensors on the CPU."""
    if isinstance(state, dict):
        return {key: _to_cpu(value) for key, value in state.items()}
    if isinstance(state, list):
        return [_to_cpu(value) for value in state]
    return state.detach().to("cpu", copy=True) if torch.is_tensor(state) else state


class _Persistence:
    """Saving, loading and pickling of :class:`~miwae_impute.MIWAEImputer`."""

    def __getstate__(self):
        # CPU tensors only, so that a model fitted on a GPU loads anywhere. Adam's
        # moments travel as a state dict, so that partial_fit goes on where it
        # stopped, as on the workers of a multi-process Dask cluster.
        state = self.__dict__.copy()
        if (optimizer := state.pop("_optimizer", None)) is not None:
            state["_optimizer_state"] = _to_cpu(optimizer.state_dict())
        if "model_" in state:
            state["model_"] = copy.deepcopy(state["model_"]).to("cpu")
        return state

    def save(self, path):
        """Save the fitted imputer without pickle: JSON metadata and torch weights.

        Unlike a pickle, the saved files cannot run code when loaded. Load them
        with :meth:`load`.

        Parameters
        ----------
        path : str or Path
            Directory to write ``params.json`` and ``weights.pt`` into; created
            if needed.
        """
        check_is_fitted(self, "model_")
        save_imputer(self, path)

    @classmethod
    def load(cls, path):
        """Load an imputer written by :meth:`save`, with ``weights_only=True``.

        Parameters
        ----------
        path : str or Path
            Directory written by :meth:`save`.

        Returns
        -------
        imputer : MIWAEImputer
            The fitted imputer; it imputes exactly as the saved one did.
        """
        return load_imputer(cls, path)
