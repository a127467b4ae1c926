"""MIWAEImputer: the scikit-learn estimator around the torch model."""

import math
import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._base import _BaseImputer
from ._building import _Building
from ._direction import _Direction
from ._inference import _Inference
from ._missingness import MODELS
from ._model import _ACTIVATIONS
from ._persistence import _Persistence
from ._samplers import SAMPLERS
from ._selection import HeldOutEntries
from ._training import _LR_SCHEDULES, _Training


class MIWAEImputer(
    _Inference, _Direction, _Training, _Building, _Persistence, _BaseImputer
):
    """Impute missing values with a MIWAE deep latent variable model.

    A deep latent variable model with a Gaussian prior p(z) = N(0, I), a Student-t
    encoder q(z | x_o) and a Student-t decoder p(x | z) is fitted to the observed
    entries by maximising the MIWAE bound with ``K`` importance samples
    (Mattei & Frellsen, 2019). Missing entries are then imputed by their
    conditional mean E[x_m | x_o], estimated by self-normalised importance
    sampling with ``L`` samples. :meth:`sample` draws multiple imputations by
    sampling-importance-resampling, and ``transform(X, return_std=True)`` gives
    the posterior standard deviation of each imputed entry.

    The data are standardised inside the estimator with the mean and standard
    deviation of the observed entries, so raw data in any units works.
    Categorical features (pandas ``category``, string, object and boolean
    columns by default) get a categorical likelihood in the same bound, and
    their missing entries the most probable level; ``transform(X,
    return_proba=True)`` gives the probabilities of every level.

    Parameters
    ----------
    latent_dim : int or "auto", default="auto"
        Dimension d of the latent code; "auto" uses p - 1 (at least 1), the
        setting of the paper's UCI experiments.
    hidden_layer_sizes : tuple of int, default=(128, 128)
        Widths of the hidden layers of the encoder and of the decoder.
    activation : {"tanh", "relu", "elu", "silu"} or (str, str), default="tanh"
        Hidden activation of both networks, or a pair: the encoder's and the
        decoder's. With the direction of self-masking stated, the missing
        values lie beyond the observed ones, where tanh units flatten out
        and ELU units keep rising: ``("tanh", "elu")`` comes within 1.05 of
        the not-MIWAE paper's error on each of its six sets (breast 0.97 to
        1.01 of it, against 1.15 with tanh), but is worse than tanh on 15
        of the 24 masks of the project's own MNAR benchmark, by up to 4.3
        times on concrete (benchmarks/HISTORY.md), so it is not the default.
    decoder : {"mlp", "linear", "ppca"}, default="mlp"
        The network from z to the parameters of p(x | z): the MLP of
        ``hidden_layer_sizes``; one linear map, which makes the model a
        linear latent-factor model with a deep encoder, whose Student-t
        scales and degrees of freedom are linear in z too; or "ppca", one
        linear map to the means alone, with the scales, degrees of freedom
        and mass probabilities constants learned per column: probabilistic
        PCA with Student-t noise and a deep encoder, the not-MIWAE paper's
        PPCA decoder. Strongly linear tables can impute better with either.
    K : int, default=20
        Importance samples per row in the training bound; K=1 gives the MVAE
        (VAE-style) bound.
    L : int, default=1000
        Importance samples per row for imputation.
    sampler : {"snis", "metropolis-within-gibbs", "pseudo-gibbs"}, \
            default="snis"
        How :meth:`transform` and :meth:`sample` infer the missing entries
        from the fitted model. "snis": self-normalised importance sampling
        with ``L`` codes from q(z | x_o) (and sampling-importance-resampling
        for :meth:`sample`). The others run Markov chains whose encoder sees
        the current completion (x_o, x_m) instead of zeros:
        "metropolis-within-gibbs" (Mattei & Frellsen, 2018) accepts each
        proposed code by a Metropolis-Hastings test and samples the model's
        conditional exactly in the long run; "pseudo-gibbs" (Rezende et al.,
        2014) accepts every code, which is exact only if the encoder is the
        true posterior. A chain runs ``L`` steps after a burn-in of ``L // 5``
        (the transform averages the kept steps); :meth:`sample` runs one
        chain per imputation. Only with ``missingness="ignorable"``.
    point_mass_threshold : float in (0, 1] or None, default=0.1
        A feature whose most frequent observed value holds at least this share
        of its observed entries (and occurs at least 20 times) gets a point mass
        at that value: its likelihood is the mixture pi(z) delta(value) +
        (1 - pi(z)) StudentT, as for zero-inflated amounts, counts and coded
        scales. With a model of the missingness (not-MIWAE), the share is of
        all the rows, missing ones included: values missing because of what
        they are leave a biased sample, in which a column's mode can hold
        twice its share of the complete column ("self-masking" that chooses
        missing at random counts the observed entries, as MIWAE does). None
        models every feature by a Student-t alone.
    max_discrete_levels : int or None, default=None
        A feature with 2 to this many distinct observed values (each observed
        at least twice on average) gets a categorical likelihood over those
        values instead of a Student-t; its imputation is the conditional mean
        of that distribution. None (the default, see benchmarks/HISTORY.md) for none.
    holdout_fraction : float in [0, 0.5), default=0.0
        Share of the observed entries hidden during training. When positive,
        the weights that impute them best among ten checkpoints are kept, and
        each feature's imputation is shrunk towards its mean by the weight in
        [0, 1] that fits them best (``shrinkage_``). Off by default: it lost on
        the development collection (see benchmarks/HISTORY.md).
    ema_decay : float in [0, 1) or None, default=0.995
        Decay of an exponential moving average of the weights over the
        gradient steps of :meth:`fit` (:meth:`partial_fit` does not average);
        the averaged weights are the fitted ones (and those compared by early
        stopping and ``holdout_fraction``). None keeps the weights of the last
        step. The average of about the last 200 steps imputed better than
        the last step's weights on all six of the paper's data sets and on 11
        of the 13 tables of the development collection (seeds 0-2; see
        benchmarks/HISTORY.md).
    remask_weight : float >= 0, default=1.0
        Weight lambda of a masked-imputation penalty added to the bound.
        At every step, each observed cell of the batch is hidden from the
        encoder with probability ``remask_rate``; the model imputes the
        hidden cells from the rest, by self-normalised importance sampling
        over the step's ``K`` codes (as :meth:`transform` does with ``L``),
        and lambda times their summed squared error per row (in standardised
        units) is added to minus the bound. This trains the conditional
        p(x_m | x_o) directly, as masked autoencoders do, beside the joint
        density that the bound fits; the objective is then no longer the
        bound alone. Categorical cells, and models of the missingness
        (not-MIWAE), are left out: with those, the penalty raised the
        error on the not-MIWAE paper's protocol (benchmarks/HISTORY.md).
        0 trains on the bound alone, and fits in about 0.55 times the time.
        The default of 1 imputed better on average at 20%, 30% and 50%
        MCAR over the tables of the benchmark collection (benchmarks/HISTORY.md,
        "Accuracy at the rates real tables have").
    remask_rate : float in (0, 1), default=0.2
        Share of the observed cells hidden by ``remask_weight``'s penalty.
    missingness : {"ignorable", "self-masking", "self-masking-high", \
            "self-masking-low", "logistic"}, default="ignorable"
        The model of why values are missing. "ignorable" (MIWAE) assumes
        that a value's chance of being missing does not depend on the
        missing value itself (missing at random). The others are
        not-MIWAE (Ipsen, Mattei & Frellsen, 2021), which also learns
        p(s | x), the chance that each numeric value is observed:
        "self-masking", sigmoid(-w_j (x_j - b_j)) of the value itself (high
        incomes unreported, sensors saturating), with the direction chosen
        from the data: a short fit missing at random, whose imputations of
        the missing cells, above or below the observed values (a z beyond
        3 over the masked columns), name the direction fitted beside it,
        high values missing (w > 0) or low ones (w < 0); of the two, the
        one of higher bound of log p(x_o, s) is trained on
        (``chosen_missingness_``; at random, the fit is MIWAE's). At
        random, the mask is modelled by a logistic regression on the
        numeric columns observed in every row (cross-fitted), so that a
        mask that depends on those is not taken for self-masking;
        "self-masking-high" (w_j > 0) or
        "self-masking-low" (w_j < 0) when the direction is known; or
        "logistic", sigmoid(W_j . x + c_j) of the whole row. Data alone
        cannot tell missing not at random from at random: the choice is an
        assumption. The learned model is ``missingness_`` in the data's
        units (``model_.missingness`` in standardised units).
        :meth:`partial_fit` learns the sign of "self-masking" freely.
    encoder_fill : {"auto", "gaussian", "zero", "learned"}, default="auto"
        What the encoder q(z | x_o) reads at the missing numeric cells
        (iota in the paper). "gaussian": their conditional mean E[x_m | x_o]
        under a multivariate Gaussian fitted to the observed numeric cells
        by EM when the model is built, which hands the encoder the linear
        part of the answer. "zero": zeros (the column means, in standardised
        units), the paper's choice. "learned": a constant per column,
        trained with the weights by the same objective (the not-MIWAE
        authors' ``learnable_imputation``). "auto": "gaussian" for MIWAE
        (``missingness="ignorable"``, and "self-masking" where it chooses
        missing at random), "learned" for not-MIWAE with a
        stated direction ("self-masking-high" or "-low"), and "zero" for
        the others: with a learned fill, the bound's choice of direction
        picked self-masking for breast at 50% MCAR (missing at random with
        zeros, in an earlier run), and imputed it 13% worse than MIWAE. Every
        fill is a function of x_o alone, so the objective stays the bound
        (with ``remask_weight``'s penalty). The Gaussian imputed better than
        zeros on average at 20%, 30% and 50% MCAR over the tables of the
        benchmark collection, but worse on three of five sets of not-MIWAE's
        paper protocol, whose Gaussian, fitted as if missing at random, is
        biased; there, the learned fill imputed concrete and yeast 7-13%
        better than zeros (benchmarks/HISTORY.md).
    max_iter : int or "auto", default="auto"
        Maximum number of epochs (passes over the training rows). "auto" trains
        on about 192,000 rows (3000 gradient steps of 64 rows), as the paper
        trains a fixed number of steps, and for at least 200 epochs within
        1,280,000 rows (20,000 steps of 64): above 960 rows, the fit grows
        with the table, since 3000 steps left tables of 1,000 to 5,400 rows
        undertrained (see benchmarks/HISTORY.md). not-MIWAE trains on four times as
        many rows, and at least as many epochs (its direction's short fits,
        of an eighth of that each, count in the budget of the one chosen).
    batch_size : int, default=64
        Rows per gradient step.
    learning_rate : {"constant", "cosine"}, default="constant"
        Schedule of Adam's step size: constant, or cosine decay from
        ``learning_rate_init`` to 0 over ``max_iter`` epochs.
    learning_rate_init : float, default=1e-3
        Adam's initial step size.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, and stop when their bound
        has not improved by ``tol`` for ``n_iter_no_change`` epochs. The weights
        of the best epoch are kept. Off by default: on the UCI benchmark the
        held-out bound peaks long before the imputation error of the training
        rows stops falling (see benchmarks/HISTORY.md), and the paper does not stop
        early either. Turn it on to fit a density model for new rows.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=20
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimal improvement of the validation bound (nats per row).
    max_time : float or None, default=None
        Optional wall-clock budget for training, in seconds. A run stopped by
        the clock is not reproducible bit-for-bit.
    missing_values : float, default=np.nan
        Placeholder of the missing entries.
    add_indicator : bool, default=False
        Append :class:`~sklearn.impute.MissingIndicator` columns to the output.
    keep_empty_features : bool, default=False
        Keep features with no observed value at fit, imputed with 0; otherwise
        they are dropped from the output (with a warning).
    categorical_features : "from_dtype", array-like of int, str or bool, or None, \
            default="from_dtype"
        Which features are categorical. "from_dtype": a DataFrame's
        ``category``, ``bool``, ``boolean``, string and object columns holding
        labels (an array has none); a list of column indices or names (for an
        array of integer codes, say); a boolean mask; None for none. A numeric
        column is categorical only when listed. Its levels are its observed
        values (``categories_``), and it comes back with its dtype.
    round_integers : bool, default=False
        Whether an integer column of a DataFrame (NumPy, nullable or pyarrow)
        comes back in its dtype, its imputations rounded to the nearest
        integer. By default it comes back as the float64 of its family
        (float64, Float64 or double[pyarrow]), which holds the imputation
        unrounded: a conditional mean is the best guess in squared error,
        and rounding it is not.
    device : str, default="cpu"
        Torch device for training and inference, e.g. "cuda".
    random_state : int, RandomState instance or None, default=None
        Seed of the weights, minibatches and importance samples. Neither fit nor
        transform reads or advances numpy's or torch's global RNG.
    verbose : int, default=0
        Show a progress bar during fit and long transforms when > 0.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, for DataFrame input with string
        column names.
    n_iter_ : int
        Number of epochs run.
    history_ : dict of lists
        ``"train_bound"``: mean MIWAE bound (nats per row) on the training rows
        at each epoch; ``"validation_bound"``: the same on the held-out rows
        when early stopping is on; ``"pilot_bound"``: with
        ``missingness="self-masking"``, the bound of log p(x_o, s) of each
        short fit, by model (for "ignorable", the better of the short fits'
        bounds of log p(x_o), ``"pilot_observed_bound"``, plus the
        cross-fitted logistic log-likelihood of the mask), and
        ``"pilot_shift_z"`` the z of the at-random fit's imputations of the
        missing cells over those of hidden observed cells, which named the
        direction, and ``"pilot_margin_z"`` the z of self-masking's margin
        in bound over missing at random.
    chosen_missingness_ : str
        The missingness model fitted: ``missingness``, or for
        "self-masking" the one the bound chose, "self-masking-high",
        "self-masking-low" or "ignorable".
    is_categorical_ : ndarray of bool of shape (`n_features_in_`,)
        Which features are categorical (see ``categorical_features``).
    categories_ : list of (ndarray or None)
        The observed levels of each categorical feature, None for the others;
        only when some feature is categorical. A categorical feature's
        likelihood is a softmax over its levels, and the encoder sees them
        one-hot.
    mean_ : ndarray of shape (n_valid_features,)
        Mean of the observed entries of each non-empty feature (0 for a
        categorical feature, whose codes the model reads as they are).
    point_mass_values_ : ndarray of shape (n_valid_features,)
        The value of each non-empty feature that has a point mass (see
        ``point_mass_threshold``), NaN for the others, in data units.
    shrinkage_ : ndarray of shape (n_valid_features,)
        Weight of each feature's imputed deviation from its mean (see
        ``holdout_fraction``); 1 where too few entries were held out, and
        after :meth:`partial_fit` alone.
    discrete_values_ : list of (ndarray or None)
        The values of each non-empty feature modelled as discrete (see
        ``max_discrete_levels``), None for the others, in data units. A
        discrete feature has no point mass.
    scale_ : ndarray of shape (n_valid_features,)
        Standard deviation of the observed entries (for a constant feature, a
        power of two of the order of its magnitude).
    missingness_ : DataFrame
        With a missingness model (not-MIWAE), the learned p(s | x) in the
        data's units, a row per numeric feature: "weight", "intercept" and
        "bias" of the self-masking models, p(observed) = sigmoid(intercept -
        weight x) = sigmoid(-weight (x - bias)), or the logistic model's
        weights and "intercept". Not set for a MIWAE fit.
    model_ : MIWAE
        The fitted torch module, on CPU.
    indicator_ : MissingIndicator
        Indicator of missing values, when ``add_indicator=True``.

    See Also
    --------
    sklearn.impute.IterativeImputer : Multivariate imputation by chained equations.

    References
    ----------
    P.-A. Mattei and J. Frellsen. "MIWAE: Deep generative modelling and imputation
    of incomplete data sets". ICML 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import MIWAEImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = MIWAEImputer(max_iter=5, L=100, random_state=0)
    >>> X_imputed = imputer.fit_transform(X)
    >>> bool(np.isnan(X_imputed).any())
    False
    >>> X_imputed, X_std = imputer.transform(X, return_std=True)
    >>> draws = imputer.sample(X, n_imputations=3)
    >>> len(draws)
    3

    A mixed DataFrame comes back with its dtypes, and categorical entries have
    probabilities:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0] * 10})
    >>> df["c"] = pd.Categorical(["a", "b", "b", None] * 10)
    >>> imputer = MIWAEImputer(max_iter=2, L=50, random_state=0).fit(df)
    >>> df_imputed, proba = imputer.transform(df, return_proba=True)
    >>> df_imputed.dtypes.equals(df.dtypes)
    True
    >>> list(proba["c"].columns)
    ['a', 'b']
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "latent_dim": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(_ACTIVATIONS)), tuple, list],
        "decoder": [StrOptions({"mlp", "linear", "ppca"})],
        "K": [Interval(numbers.Integral, 1, None, closed="left")],
        "L": [Interval(numbers.Integral, 1, None, closed="left")],
        "sampler": [StrOptions(set(SAMPLERS))],
        "point_mass_threshold": [Interval(numbers.Real, 0, 1, closed="right"), None],
        "holdout_fraction": [Interval(numbers.Real, 0, 0.5, closed="left")],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "remask_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "remask_rate": [Interval(numbers.Real, 0, 1, closed="neither")],
        "missingness": [StrOptions({"ignorable", *MODELS})],
        "encoder_fill": [StrOptions({"auto", "zero", "gaussian", "learned"})],
        "max_discrete_levels": [
            Interval(numbers.Integral, 2, None, closed="left"),
            None,
        ],
        "max_iter": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions(set(_LR_SCHEDULES))],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _categorical_support = True

    def __init__(
        self,
        *,
        latent_dim="auto",
        hidden_layer_sizes=(128, 128),
        activation="tanh",
        decoder="mlp",
        K=20,
        L=1000,
        sampler="snis",
        point_mass_threshold=0.1,
        max_discrete_levels=None,
        holdout_fraction=0.0,
        ema_decay=0.995,
        remask_weight=1.0,
        remask_rate=0.2,
        missingness="ignorable",
        encoder_fill="auto",
        max_iter="auto",
        batch_size=64,
        learning_rate="constant",
        learning_rate_init=1e-3,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        max_time=None,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        categorical_features="from_dtype",
        round_integers=False,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
            categorical_features=categorical_features,
            round_integers=round_integers,
        )
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.decoder = decoder
        self.K = K
        self.L = L
        self.sampler = sampler
        self.point_mass_threshold = point_mass_threshold
        self.max_discrete_levels = max_discrete_levels
        self.holdout_fraction = holdout_fraction
        self.ema_decay = ema_decay
        self.remask_weight = remask_weight
        self.remask_rate = remask_rate
        self.missingness = missingness
        self.encoder_fill = encoder_fill
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.max_time = max_time
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------
    def _fit(self, X, mask):
        x, m, train, val, held_out = self._prepare_fit(X, mask)
        if self.missingness == "self-masking":
            generator = self._choose_direction(x, m, train, val, held_out)
            if self.chosen_missingness_ == "ignorable":
                # At random: MIWAE's own fit, as missingness="ignorable" makes
                # it (the point masses among the observed entries, the
                # Gaussian fill and MIWAE's budget), the pilots' figures kept.
                pilots = {k: v for k, v in self.history_.items() if "pilot" in k}
                x, m, train, val, held_out = self._prepare_fit(
                    X, mask, missingness="ignorable"
                )
                generator = self._generator(x.device)
                self._train(x, m, train, val, generator, held_out)
                self.history_ |= pilots
        else:
            generator = self._generator(x.device)
            self._train(x, m, train, val, generator, held_out)
        self._finish_fit(generator, held_out)

    def _prepare_fit(self, X, mask, fill=None, missingness=None):
        """Scaler, model and optimiser (:meth:`_initialize`), the held-out
        entries, and the training and validation rows, in the order the first
        epoch reads them; returns ``x, m, train, val, held_out``."""
        x, m = self._initialize(X, mask, fill, missingness)
        held_out = HeldOutEntries(x, m, self.holdout_fraction, self._seed + 3)
        x, m = held_out.x, held_out.m
        n = len(x)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self._seed))
        n_val = math.ceil(self.validation_fraction * n) if self.early_stopping else 0
        if n - n_val < 1:
            n_val = 0
        val, train = order[:n_val].to(x.device), order[n_val:].to(x.device)
        return x, m, train, val, held_out

    def _finish_fit(self, generator, held_out):
        """Keep the training stream's state, drop Adam, and move the trained
        model to the CPU (shrunk by ``held_out``'s fit, if any)."""
        self._generator_state = generator.get_state()
        del self._optimizer  # a later partial_fit starts Adam afresh
        self.model_.eval()
        if held_out:
            self.shrinkage_ = held_out.shrinkage(self.model_, self.L)
        self.model_.to("cpu")

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, a chunk of a larger data set.

        The first call validates the columns, fixes the standardisation from
        the observed entries of this first chunk (so make it representative),
        and builds the model; each call then runs one epoch of Adam over the
        chunk, carrying the optimiser state over. This is scikit-learn's
        incremental-learning convention, used by ``dask_ml.wrappers.Incremental``.
        ``max_iter``, ``learning_rate`` and early stopping do not apply.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            A chunk of the data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The imputer, trained one more epoch.
        """
        first = not hasattr(self, "model_")
        if first:
            self._validate_params()
        data = self._validate_input(X, reset=first)
        if first:
            self._fit_columns = data.columns
            self._fit_missing_structure(data.mask)
        X_valid = data.X[:, self._valid_features]
        mask = data.mask[:, self._valid_features]
        if first:
            x, m = self._initialize(X_valid, mask)
        else:
            x, m = self._to_tensors(X_valid, mask, self._torch_device())
            self.model_.to(x.device)
        if not hasattr(self, "_optimizer"):  # after fit, or unpickled
            self._optimizer = self._adam()
            if (saved := self.__dict__.pop("_optimizer_state", None)) is not None:
                self._optimizer.load_state_dict(saved)  # onto the weights' device
        generator = self._generator(x.device)
        bound = self._epoch(x, m, torch.arange(len(x), device=x.device), generator)
        self._generator_state = generator.get_state()
        self.n_iter_ += 1
        self.history_["train_bound"].append(bound)
        self._check_diverged(bound, self.n_iter_)
        self.model_.eval()  # stays on its device, with Adam's state
        return self

    def _generator(self, device):
        """The training generator, resumed from its saved state.

        A state saved on another kind of device (a model trained on a GPU, then
        trained on in a CPU-only process) does not fit this generator; the
        stream then restarts from the seed and the epochs done so far.
        """
        generator = torch.Generator(device)
        try:
            return generator.set_state(self._generator_state)
        except RuntimeError:  # torch checks the state's size for its device
            return generator.manual_seed(self._seed + self.n_iter_)

    @property
    def missingness_(self):
        check_is_fitted(self, "model_")
        model = self.model_.missingness
        if model is None:
            shift = self.history_.get("pilot_shift_z")
            reason = (
                "this imputer has missingness='ignorable'."
                if self.missingness == "ignorable"
                else "missing at random was chosen over self-masking for this "
                f"data (history_['pilot_shift_z']: "
                f"{shift if shift is None else round(shift, 2)}, "
                f"history_['pilot_bound']: "
                f"{self.history_.get('pilot_bound')}), so the imputer is a MIWAE fit."
            )
            raise AttributeError(
                f"missingness_ is the learned model of a not-MIWAE fit; {reason}"
            )
        columns = model.columns.cpu().numpy()
        names = _check_feature_names_in(self, None)[self._valid][columns]
        return model.in_units(self.mean_[columns], self.scale_[columns], names)
