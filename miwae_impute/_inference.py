"""Inference of MIWAEImputer: imputation, multiple imputation and scores.

Posterior means and standard deviations by self-normalised importance
sampling, draws by sampling-importance-resampling, and the MIWAE bound of new
rows, all in the data's units.
"""

import copy

import numpy as np
import pandas as pd
import torch
from sklearn.base import TransformerMixin

from ._posterior import bound_per_row, posterior_moments, sir_draws
from ._random import row_seeds
from ._samplers import chain_draws, chain_moments

# Importance samples used by score/score_samples, whatever K was used in training:
# bounds with different numbers of samples are not comparable.
_SCORE_SAMPLES = 100
_SCORE_SEED = 20190610


class _Inference(TransformerMixin):
    """Mixin of :class:`~miwae_impute.MIWAEImputer`: imputation and scoring.

    It reads the estimator's parameters (``L``, ``device``) and its fitted
    state (``model_``, ``mean_``, ``scale_``, ``shrinkage_``, the atoms and
    levels of the features, ``_seed``); ``_to_tensors`` and ``_torch_device``
    serve training too. A ``TransformerMixin``: scikit-learn's ``set_output``
    wraps only a ``transform`` defined in a subclass of it.
    """

    def _impute(self, X, mask):
        return self._posterior(X, mask, std=False)[0]

    def _posterior(self, X, mask, std=True):
        """Posterior mean and standard deviation of every entry, in data units.

        A categorical feature gets the code of its most probable level, and a
        standard deviation of NaN; the third value holds the probabilities of
        each categorical feature's levels, in a list (None for the numeric).
        Without ``std``, importance sampling leaves the second moments out,
        and the standard deviation is None.
        """
        x, m = self._to_tensors(X, mask, self._torch_device())
        model = self.model_.to(x.device)
        seeds = row_seeds(x, m, self._seed + 1)
        if self._chain_sampler():
            mean, var, proba = chain_moments(
                model, x, m, self.L, seeds, metropolis=self._metropolis
            )
        else:
            mean, var, proba = posterior_moments(
                model, x, m, self.L, seeds, variances=std
            )
        mean = mean.double().cpu().numpy() * self.shrinkage_ * self.scale_
        mean += self.mean_
        n_levels = self._n_levels()
        blocks = np.split(proba.double().cpu().numpy(), np.cumsum(n_levels)[:-1], 1)
        probabilities = [None] * len(n_levels)
        for j in np.flatnonzero(n_levels):
            probabilities[j] = blocks[j]
            mean[:, j] = blocks[j].argmax(axis=1)
        mean = self._pin_constants(mean)
        if not std:
            return mean, None, probabilities
        std = var.sqrt().double().cpu().numpy() * self.scale_
        std[:, n_levels > 0] = np.nan
        return mean, np.where(self._constant, 0.0, std), probabilities

    def _chain_sampler(self):
        """Whether imputation runs Markov chains (``sampler``) instead of
        importance sampling; refused for not-MIWAE, whose chains would also
        need the missingness model."""
        if self.sampler == "snis":
            return False
        if self.model_.missingness is not None:
            raise ValueError(
                f"sampler={self.sampler!r} imputes with an ignorable "
                f"missingness model only; this imputer has missingness="
                f"{self.missingness!r}. Use sampler='snis'."
            )
        return True

    @property
    def _metropolis(self):
        return self.sampler == "metropolis-within-gibbs"

    @property
    def _constant(self):
        return ~np.isnan(self._constant_values)

    def _pin_constants(self, X):
        """Constant features take their one observed value, exactly."""
        return np.where(self._constant, self._constant_values, X)

    def _draws_in_data_units(self, draws):
        """Draws of the model in data units; a draw at an atom is its value.

        Atoms are the mass points and the values of discrete features.
        Unstandardising in float64 would move a draw at an atom by a rounding
        error: those draws take the observed value exactly.
        """
        draws = draws.cpu().numpy()
        out = draws.astype(np.float64) * self.scale_ + self.mean_
        for j, atoms in enumerate(self._atoms()):
            for value in atoms:
                model_value = np.asarray(self._standardize_atoms(value, j), draws.dtype)
                out[..., j][draws[..., j] == model_value] = value
        return out

    def _atoms(self):
        """The values that the model draws exactly, per feature, in data units."""
        return [
            levels if levels is not None else ([] if np.isnan(mass) else [mass])
            for levels, mass in zip(self.discrete_values_, self.point_mass_values_)
        ]

    def transform(self, X, return_std=False, return_proba=False):
        """Impute the missing entries of ``X`` by their conditional mean.

        A categorical entry gets its most probable level under the model,
        argmax_c p(x_j = c | x_o).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to complete; observed entries are copied unchanged.
        return_std : bool, default=False
            Also return the posterior standard deviation of each entry.
        return_proba : bool, default=False
            Also return the conditional probabilities of the levels of each
            categorical feature.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            ``X`` with missing entries replaced by E[x_m | x_o], or for a
            categorical entry by its most probable level.
        X_std : ndarray or DataFrame of shape (n_samples, n_features_kept)
            Only with ``return_std=True``: the posterior standard deviation of
            each imputed entry, 0 for observed entries (and empty features),
            NaN for the missing entries of categorical features, which have
            probabilities instead.
        X_proba : dict
            Only with ``return_proba=True``: for each non-empty categorical
            feature (keyed by its name, or its index without feature names),
            p(x_j = c | x_o) of each level c of ``categories_[j]``, shape
            (n_samples, n_levels); a DataFrame with the levels as columns for
            DataFrame input. An observed entry has probability 1 at its level.
        """
        data = self._check_transform_input(X)
        if not (return_std or return_proba):
            return self._assemble(data, self._impute_valid(data))
        valid = self._valid_features
        std = np.zeros(data.X.shape)
        imputed, probabilities = None, [None] * valid.sum()
        if data.mask[:, valid].any():
            imputed, std_valid, probabilities = self._posterior(
                data.X[:, valid], data.mask[:, valid], std=return_std
            )
            if return_std:
                std[:, valid] = np.where(data.mask[:, valid], std_valid, 0.0)
        if not self.keep_empty_features:
            std = std[:, valid]
        result = [self._assemble(data, imputed)]
        if return_std:
            result.append(
                self._wrap_like(
                    std.astype(data.X.dtype), data, with_indicator=False, values=False
                )
            )
        if return_proba:
            result.append(self._level_probabilities(data, probabilities))
        return tuple(result)

    def _level_probabilities(self, data, probabilities):
        """The dict of ``transform(return_proba=True)``; see there."""
        names = self._column_names(np.ones(self.n_features_in_, dtype=bool))
        proba = {}
        for position, j in enumerate(self._valid):
            if not self.is_categorical_[j]:
                continue
            levels = self.categories_[j]
            codes = data.X[:, j]
            observed = ~data.mask[:, j]
            p = probabilities[position]
            if p is None:  # nothing missing
                p = np.zeros((len(codes), len(levels)))
            p[observed] = np.eye(len(levels))[codes[observed].astype(np.intp)]
            if data.columns is not None:
                p = pd.DataFrame(p, index=data.index, columns=pd.Index(levels))
            proba[names[j]] = p
        return proba

    def sample(self, X, n_imputations=5):
        """Draw multiple imputations from the model's conditional.

        By sampling-importance-resampling with ``L`` codes, or with
        ``sampler="metropolis-within-gibbs"`` or ``"pseudo-gibbs"`` by one
        Markov chain per imputation, each of ``L`` steps after a burn-in.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to complete.
        n_imputations : int, default=5
            Number of completed data sets to draw.

        Returns
        -------
        imputations : list of ndarray or DataFrame
            ``n_imputations`` completed copies of ``X``, in the container type
            that :meth:`transform` returns. Observed entries are unchanged.
        """
        data = self._sample_input(X, n_imputations)
        valid = self._valid_features
        if not data.mask[:, valid].any():
            draws = [None] * n_imputations
        else:
            x, m = self._to_tensors(
                data.X[:, valid], data.mask[:, valid], self._torch_device()
            )
            seeds = row_seeds(x, m, self._seed + 2)
            model = self.model_.to(x.device)
            if self._chain_sampler():
                draws = chain_draws(
                    model,
                    x,
                    m,
                    self.L,
                    n_imputations,
                    seeds,
                    metropolis=self._metropolis,
                )
            else:
                draws = sir_draws(model, x, m, self.L, n_imputations, seeds)
            draws = self._pin_constants(self._draws_in_data_units(draws))
        return self._completions(data, X, draws)

    def score_samples(self, X):
        """MIWAE bound of each row: a lower bound of log p(x_o) in data units.

        The bound uses a fixed number of importance samples (100) and a fixed
        seed, so values are comparable across models fitted with different K.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing entries.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row lower bound of the log-likelihood of the observed entries.
        """
        data = self._check_transform_input(X)
        if not self._valid_features.any():
            return np.zeros(len(data.X))  # the log-likelihood of nothing observed
        X_valid, mask = (
            data.X[:, self._valid_features],
            data.mask[:, self._valid_features],
        )
        # float64, so that a row's score does not move with the batch's rounding.
        x, m = self._to_tensors(X_valid, mask, self._torch_device(), torch.float64)
        model = copy.deepcopy(self.model_).to(x.device, torch.float64)
        seeds = row_seeds(x, m, _SCORE_SEED)
        bound = bound_per_row(model, x, m, _SCORE_SAMPLES, seeds)
        # Change of variables from standardised to data units.
        log_jacobian = (~mask * np.log(self.scale_)).sum(axis=1)
        return bound.double().cpu().numpy() - log_jacobian

    def score(self, X, y=None):
        """Mean per-row MIWAE bound of ``X``; higher is better.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with missing entries.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))

    def _torch_device(self):
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but CUDA is not available; "
                "use device='cpu'."
            )
        return device

    def _to_tensors(self, X, mask, device, dtype=torch.float32):
        """Standardised, zero-imputed data and the float observed-mask.

        Values beyond 1e15 standard deviations are clipped there: any real
        datum is far inside, and (x - loc)**2 / scale**2 then stays within
        float32 in the Student-t density.
        """
        Xs = np.where(mask, 0.0, np.clip((X - self.mean_) / self.scale_, -1e15, 1e15))
        x = torch.as_tensor(Xs, dtype=dtype, device=device)
        m = torch.as_tensor(~mask, dtype=dtype, device=device)
        return x, m
