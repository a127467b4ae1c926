"""Saving and loading a fitted MIWAEImputer without pickle.

The parameters and the fitted state go to ``params.json`` (each feature's
likelihood included: its mass point or its values), and the weights to
``weights.pt``, read back with ``torch.load(weights_only=True)``: loading runs
no code from the files.
"""

import json
from pathlib import Path

import numpy as np
import torch
from sklearn.impute import MissingIndicator

__all__ = ["load_imputer", "save_imputer"]


def save_imputer(imputer, path):
    """Write a fitted MIWAEImputer as ``params.json`` and ``weights.pt``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
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
    }
    meta["params"]["hidden_layer_sizes"] = list(imputer.hidden_layer_sizes)
    if isinstance(features := imputer.categorical_features, np.ndarray):
        meta["params"]["categorical_features"] = features.tolist()
    (path / "params.json").write_text(json.dumps(meta, indent=1))
    torch.save(imputer.model_.state_dict(), path / "weights.pt")


def load_imputer(cls, path):
    """Read an imputer of class ``cls`` written by :func:`save_imputer`."""
    path = Path(path)
    meta = json.loads((path / "params.json").read_text())
    imputer = cls(**meta["params"])
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
        raise ValueError(
            f"{path} is inconsistent: the scaler does not fit the features."
        )
    model = imputer._build_model(meta["latent_dim"])
    state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)  # raises if the weights do not fit the features
    imputer.model_ = model.eval()
    if meta["indicator_features"] is not None:
        template = np.zeros((1, imputer.n_features_in_))
        template[0, meta["indicator_features"]] = np.nan
        imputer.indicator_ = MissingIndicator(error_on_new=False).fit(template)
    return imputer
