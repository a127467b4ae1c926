"""Many MIWAE fits trained side by side, as one model of stacked networks.

Each member is a fit of its own: its own seed (weights, data order and
noise, drawn through :class:`~miwae_impute._random.MemberGenerators` in the
order its training alone would draw them) and its own training rows. Their
weights are stacked on a leading member axis, so that a layer of all M
networks is one batched matmul (``torch.baddbmm``) and a gradient step pays
the step's fixed cost (Python, autograd, about 150 small ops) once for all.
Adam and the moving average act elementwise, so each member's update is the
one it would get alone; only the matmuls' summation order can differ, in the
last bits of float32.

The members share their preparation (standardisation, likelihoods, the
encoder's Gaussian fill), fitted on the whole of ``X``: only the weights and
the training rows differ. Tensors of the batch are laid out (..., member,
row, feature), so the shared buffers broadcast over the member axis.
"""

import copy
import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from torch import nn

from ._miwae import MIWAEImputer
from ._random import MemberGenerators
from ._training import _LR_SCHEDULES, _descend, _MovingAverage

__all__ = ["fit_side_by_side"]


def _stacked_linear(x, weight, bias):
    """x W_i^T + b_i for member i, ``x`` of shape (..., M, rows, in)."""
    if x.dim() == 3:
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
    members = x.movedim(-3, 0)  # (M, ..., rows, in), a view
    shape = members.shape
    out = torch.baddbmm(
        bias.unsqueeze(1),
        members.reshape(shape[0], -1, shape[-1]),
        weight.transpose(1, 2),
    )
    return out.view(*shape[:-1], -1).movedim(0, -3)


class _StackedMLP(nn.Module):
    """The Linear layers of M ``_MLP`` of one shape, stacked on a member axis.

    Evaluates what each member's ``_MLP`` evaluates, with the same folding of
    tanh into sigmoid (see ``_model._MLP``).

    Parameters
    ----------
    mlps : list of _MLP
        The members' networks, of identical shapes.
    """

    def __init__(self, mlps):
        super().__init__()
        first = mlps[0]
        self.activations = nn.ModuleList(first[1::2])
        self.weights = nn.ParameterList(
            torch.stack([mlp[i].weight.detach() for mlp in mlps])
            for i in range(0, len(first), 2)
        )
        self.biases = nn.ParameterList(
            torch.stack([mlp[i].bias.detach() for mlp in mlps])
            for i in range(0, len(first), 2)
        )
        self._tanh = all(isinstance(a, nn.Tanh) for a in self.activations)

    def forward(self, x):
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            if self._tanh:
                if i:  # the input is g = sigmoid(2a), and tanh(a) = 2g - 1
                    weight, bias = 2.0 * weight, bias - weight.sum(-1)
                if i < last:
                    weight, bias = 2.0 * weight, 2.0 * bias
            x = _stacked_linear(x, weight, bias)
            if i < last:
                x = x.sigmoid() if self._tanh else self.activations[i](x)
        return x

    def output_bias(self):
        """The members' last biases, ``(M, 1, width)``: see ``_MLP.output_bias``."""
        return self.biases[-1].unsqueeze(-2)

    def member_state(self, member, prefix):
        """Member ``member``'s weights, as its ``_MLP``'s state dict entries."""
        state = {}
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            state[f"{prefix}.{2 * i}.weight"] = weight[member].detach().clone()
            state[f"{prefix}.{2 * i}.bias"] = bias[member].detach().clone()
        return state


def _stack(models):
    """One model whose encoder and decoder are the members' stacked networks,
    and whose other modules (likelihood, fill) are the first member's."""
    stacked = copy.deepcopy(models[0])
    stacked.encoder = _StackedMLP([model.encoder for model in models])
    stacked.decoder = _StackedMLP([model.decoder for model in models])
    return stacked


def _unstack(stacked, models):
    """Load each member's trained weights into its own model."""
    for i, model in enumerate(models):
        state = model.state_dict()
        state.update(stacked.encoder.member_state(i, "encoder"))
        state.update(stacked.decoder.member_state(i, "decoder"))
        model.load_state_dict(state)


def _check_batchable(imputer):
    """Raise for the settings whose training the batch does not run."""
    if (reason := _not_batchable(imputer)) is not None:
        raise ValueError(reason)


def _not_batchable(imputer):
    """Why ``imputer``'s copies cannot train side by side, or None."""
    if type(imputer) is not MIWAEImputer:
        return (
            "fit_side_by_side trains MIWAEImputer itself, got "
            f"{type(imputer).__name__}."
        )
    supported = {  # name: (the imputer's value, the values the batch trains)
        "missingness": (imputer.missingness, ("ignorable",)),
        "early_stopping": (imputer.early_stopping, (False,)),
        "holdout_fraction": (imputer.holdout_fraction, (0.0,)),
        "max_time": (imputer.max_time, (None,)),
        "encoder_fill": (imputer.encoder_fill, ("auto", "zero", "gaussian")),
    }
    for name, (value, values) in supported.items():
        if value not in values:
            needed = f"={values[0]!r}" if len(values) == 1 else f" in {values}"
            return (
                f"fit_side_by_side trains MIWAEImputer with {name}{needed} "
                f"only; this imputer has {name}={value!r}. Fit its copies one "
                "by one with fit instead."
            )
    return None


def _can_fit_side_by_side(imputer):
    """Whether :func:`fit_side_by_side` can train copies of ``imputer``."""
    return _not_batchable(imputer) is None


def _seeds(random_state, n_models):
    rng = check_random_state(random_state)
    return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n_models)]


def fit_side_by_side(imputer, X, *, n_models=None, random_states=None, rows=None):
    """Fit several copies of a MIWAE imputer at once, as one batched model.

    The copies' networks are trained side by side: each step of Adam is one
    pass of M stacked networks, which pays the step's fixed cost (Python,
    autograd, small ops) once. Five fits cost about 3 to 3.5 times one on a
    2-core CPU, against 5 times one after another (benchmarks/HISTORY.md,
    "Fits side by side"). Each
    copy is a fit in its own right, with its own seed (weights, order of the
    rows, noise) and its own training rows: it is what ``fit`` would train
    from the same seed, up to float32 rounding in the matmuls. All copies
    share the preparation fitted on the whole of ``X``: the standardisation,
    the likelihood of each column and the encoder's Gaussian fill.

    Parameters
    ----------
    imputer : MIWAEImputer
        The imputer to copy (cloned; not fitted here). It must train on the
        bound without a missingness model, early stopping,
        ``holdout_fraction`` or ``max_time``.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Data with missing entries marked by ``imputer.missing_values``.
    n_models : int, default=None
        Number of copies; with ``random_states``, its length, else with
        ``rows``, its length.
    random_states : sequence of int, default=None
        The ``random_state`` of each copy. None draws them from
        ``imputer.random_state``.
    rows : sequence of array-like of int, default=None
        Each copy's training rows, indices into ``X`` (for example a
        bootstrap resample, with repeats); all of one length. None trains
        every copy on all rows.

    Returns
    -------
    imputers : list of MIWAEImputer
        The fitted copies, each usable alone (``transform``, ``sample``,
        ``save``); ``random_state`` is its seed.

    Examples
    --------
    >>> import numpy as np
    >>> from miwae_impute import MIWAEImputer, fit_side_by_side
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputers = fit_side_by_side(
    ...     MIWAEImputer(max_iter=2), X, random_states=[0, 1, 2]
    ... )
    >>> X_mean = np.mean([imp.transform(X) for imp in imputers], axis=0)
    """
    _check_batchable(imputer)
    sizes = {len(v) for v in (random_states, rows) if v is not None}
    if n_models is not None:
        if not isinstance(n_models, numbers.Integral) or n_models < 1:
            raise ValueError(f"n_models must be a positive integer, got {n_models!r}.")
        sizes.add(int(n_models))
    if len(sizes) > 1:
        raise ValueError(
            f"n_models, random_states and rows disagree on the number of "
            f"copies: {sorted(sizes)}."
        )
    if not sizes:
        raise ValueError("Pass n_models, random_states or rows.")
    (size,) = sizes
    if size < 1:
        raise ValueError("fit_side_by_side needs at least one copy.")
    if random_states is None:
        random_states = _seeds(imputer.random_state, size)
    members = [clone(imputer).set_params(random_state=s) for s in random_states]
    prepared = [_prepare(members[0], X)]
    if prepared[0] is not None:  # the others copy the first's Gaussian fill
        fill = members[0].model_.fill
        prepared += [_prepare(member, X, fill) for member in members[1:]]
    if any(p is None for p in prepared):  # no feature to learn from
        return [member.fit(X) for member in members]
    x, m = prepared[0][0], prepared[0][1]  # one preparation, the same for all
    rows = [np.arange(len(x))] * size if rows is None else rows
    rows = [_check_rows(r, len(x)) for r in rows]
    if len({len(r) for r in rows}) > 1:
        lengths = sorted({len(r) for r in rows})
        raise ValueError(f"Every copy's rows must have one length, got {lengths}.")
    device = x.device
    index = torch.as_tensor(np.stack(rows), device=device)
    # The order of the first epoch, as fit on X[rows] draws it (_prepare_fit).
    train = torch.stack(
        [
            torch.randperm(
                index.shape[1], generator=torch.Generator().manual_seed(member._seed)
            )
            for member in members
        ]
    ).to(device)
    filled = members[0].model_.filled(x, m)[index]  # the fill is fixed
    x, m = x[index], m[index]
    generators = [member._generator(device) for member in members]
    _train_side_by_side(members, x, m, filled, train, generators)
    for member, generator, p in zip(members, generators, prepared):
        member._finish_fit(generator, p[3])
    return members


def _prepare(member, X, fill=None):
    """What ``fit`` does before training: ``x, m, train, held_out``, or None
    when ``X`` has no feature to learn from; ``fill``, a Gaussian fill
    fitted to the same ``X``, is copied rather than fitted again."""
    member._validate_params()
    valid = member._valid_data(member._validate_input(X, reset=True))
    if valid is None:
        return None
    x, m, train, _, held_out = member._prepare_fit(*valid, fill)
    return x, m, train, held_out


def _check_rows(rows, n):
    rows = np.asarray(rows)
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer) or not len(rows):
        raise ValueError(
            "Each copy's rows must be a non-empty 1-D array of integer indices "
            f"into X, got shape {rows.shape} and dtype {rows.dtype}."
        )
    if rows.min() < 0 or rows.max() >= n:
        raise ValueError(
            f"Row indices must lie in [0, {n}), got {rows.min()} to {rows.max()}."
        )
    return rows


def _train_side_by_side(members, x, m, filled, train, generators):
    """The epochs of ``_Training._train`` for M members at once.

    ``x``, ``m`` and ``filled`` (the encoder's fill of ``x``) are (M, n, p),
    ``train`` the (M, n) order of each member's rows; each member's
    ``model_`` and ``history_`` are updated.
    """
    first = members[0]
    stacked = _stack([member.model_ for member in members]).train()
    optimizer = torch.optim.Adam(
        stacked.parameters(), lr=first.learning_rate_init, foreach=True
    )
    n_members, n = train.shape
    steps_per_epoch = math.ceil(n / first.batch_size)
    max_iter = first._max_iter(n)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _LR_SCHEDULES[first.learning_rate](max_iter * steps_per_epoch)
    )
    average = None
    if first.ema_decay is not None:
        average = _MovingAverage(stacked, first.ema_decay)
    streams = MemberGenerators(generators)
    members_axis = torch.arange(n_members, device=x.device).unsqueeze(1)
    epochs = 0
    try:
        for _ in range(max_iter):
            perm = train.gather(1, streams.randperm(n, x.device))
            total = x.new_zeros(n_members, dtype=torch.float64)
            for batch in perm.split(first.batch_size, dim=1):
                at = (members_axis, batch)
                loss, bound = first._loss(stacked, x[at], m[at], filled[at], streams)
                _descend(loss, optimizer, schedule, average)
                total += bound.detach().sum(-1).double()  # bound: (M, rows)
            epochs += 1
            for member, value in zip(members, (total / n).tolist()):
                member.n_iter_ += 1
                member.history_["train_bound"].append(value)
                member._check_diverged(value, member.n_iter_)
    except KeyboardInterrupt:
        if epochs == 0:
            raise
        warnings.warn(
            f"MIWAE training interrupted after {epochs} epoch(s); the imputers "
            "keep the weights reached so far.",
            UserWarning,
            stacklevel=3,
        )
    trained = stacked if average is None else average.module
    _unstack(trained, [member.model_ for member in members])
