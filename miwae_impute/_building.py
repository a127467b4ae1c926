"""What a fit builds before it trains: the scaler, the columns' likelihoods,
and the untrained model with its optimiser (a mixin of
:class:`~miwae_impute.MIWAEImputer`)."""

import numpy as np
import torch

from ._columns import _discrete_values, _point_mass_values
from ._model import MIWAE, _activation_pair
from ._random import seed_from
from ._scaling import _standardization


class _Building:
    """Standardisation, per-column likelihoods and the model of a fit.

    Uses the estimator's parameters, ``_to_tensors`` and ``_torch_device``
    (:class:`~miwae_impute._inference._Inference`), and ``_adam``
    (:class:`~miwae_impute._training._Training`).
    """

    def _initialize(self, X, mask, fill=None, missingness=None):
        """Scaler, seed, model and optimiser; returns the data as tensors.

        ``fill``, the encoder's Gaussian fill of another fit on the same
        data, is copied instead of fitted again (see :meth:`_start_model`).
        ``missingness``, the model to fit (``chosen_missingness_``), is
        ``self.missingness`` if None.
        """
        missingness = self.missingness if missingness is None else missingness
        hidden = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
        if any(h < 1 for h in hidden):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {hidden}."
            )
        _activation_pair(self.activation)  # a bad pair fails before any work
        device = self._torch_device()
        p = X.shape[1]
        categorical = self._n_levels() > 0
        self.mean_, self.scale_ = _standardization(X, mask)
        self.mean_[categorical], self.scale_[categorical] = 0.0, 1.0  # codes
        # A feature with a single distinct observed value is imputed by it.
        X_obs = np.where(mask, np.nan, X)
        low, high = np.nanmin(X_obs, axis=0), np.nanmax(X_obs, axis=0)
        self._constant_values = np.where(low == high, high, np.nan)
        self.shrinkage_ = np.ones(p)
        X_numeric = np.where(categorical, np.nan, X_obs)
        self.discrete_values_ = _discrete_values(X_numeric, self.max_discrete_levels)
        self.point_mass_values_ = _point_mass_values(
            X_numeric,
            self.point_mass_threshold,
            of_rows=missingness != "ignorable",
        )
        discrete = [v is not None for v in self.discrete_values_]
        self.point_mass_values_[discrete] = np.nan
        self._seed = seed_from(self.random_state)
        self.chosen_missingness_ = missingness
        x, m = self._to_tensors(X, mask, device)
        self._start_model(x, m, fill)
        return x, m

    def _start_model(self, x, m, fill=None, encoder_fill=None):
        """A new model for ``chosen_missingness_`` (weights from the seed, the
        encoder's Gaussian fill fitted to ``x``, or copied from ``fill``), its
        optimiser, and an empty history; ``m`` is the observed-mask, and
        ``encoder_fill`` the fill's kind, if not :meth:`_encoder_fill`'s."""
        p = len(self.mean_)
        latent_dim = max(1, p - 1) if self.latent_dim == "auto" else self.latent_dim
        with torch.random.fork_rng(devices=[]):  # weights from a local seed
            torch.manual_seed(self._seed)
            self.model_ = self._build_model(latent_dim, encoder_fill).to(m.device)
        if self.model_.fill is not None and fill is not None:
            self.model_.fill.load_state_dict(fill.state_dict())
        elif self.model_.fill is not None:
            self.model_.fill.fit(x, m)
        if self.model_.missingness is not None:
            self.model_.missingness.start_at(m)
        self._optimizer = self._adam()
        self.__dict__.pop("_optimizer_state", None)  # moments of an unpickled model
        self._generator_state = (
            torch.Generator(m.device).manual_seed(self._seed).get_state()
        )
        self.n_iter_, self.history_ = 0, {"train_bound": []}

    def _build_model(self, latent_dim, encoder_fill=None):
        """An untrained MIWAE for the fitted features and likelihoods; its
        encoder's fill is ``encoder_fill``, :meth:`_encoder_fill` if None."""
        chosen = getattr(self, "chosen_missingness_", self.missingness)
        return MIWAE(
            len(self.mean_),
            latent_dim,
            tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes)),
            self.activation,
            decoder=self.decoder,
            point_mass_values=self._standardize_atoms(self.point_mass_values_),
            support=[
                None if v is None else self._standardize_atoms(v, j)
                for j, v in enumerate(self.discrete_values_)
            ],
            n_levels=self._n_levels(),
            missingness=chosen,
            encoder_fill=encoder_fill or self._encoder_fill(chosen),
        )

    def _encoder_fill(self, chosen):
        """``encoder_fill``, with "auto" resolved by ``missingness`` and the
        ``chosen`` model."""
        if self.encoder_fill != "auto":
            return self.encoder_fill
        if chosen == "ignorable":  # MIWAE, or "self-masking" that chose it
            return "gaussian"
        # A stated direction learns its fill; the pilots of "self-masking"
        # (see _choose_direction), and the logistic model, read zeros.
        stated = self.missingness in ("self-masking-high", "self-masking-low")
        return "learned" if stated else "zero"

    def _n_levels(self):
        """The number of levels of each non-empty feature, 0 if numeric."""
        levels = getattr(self, "categories_", None) or [None] * len(
            self._valid_features
        )
        return np.array(
            [len(levels[j]) if levels[j] is not None else 0 for j in self._valid]
        )

    @property
    def _valid(self):
        return np.flatnonzero(self._valid_features)

    def _standardize_atoms(self, values, feature=None):
        """Values of all features, or of one ``feature``, in the model's units."""
        if feature is None:
            return (values - self.mean_) / self.scale_
        return (values - self.mean_[feature]) / self.scale_[feature]
