"""Same-process A/B timings of rejected training-step candidates.

Each candidate is timed against the current step, interleaved: 12 rounds of
100 steps each (after 10 warm-up steps), medians reported. Usage::

    python -m benchmarks.experiments.step_ab --threads 1 --p 30
"""

import argparse
import math
import statistics
import time

import torch
from torch.nn import functional as F

from miwae_impute import _model


def _marsaglia_tsang(alpha, generator):
    """Gamma(alpha, 1) draws for alpha >= 1 by vectorised rejection."""
    d = (alpha - 1 / 3).reshape(-1)
    c = torch.rsqrt(9 * d)
    out, todo = d.new_empty(d.shape), None
    while todo is None or todo.numel():
        d_t, c_t = (d, c) if todo is None else (d[todo], c[todo])
        eps = torch.randn(d_t.shape, generator=generator, dtype=d.dtype)
        log_u = torch.rand(d_t.shape, generator=generator, dtype=d.dtype).log()
        v = (1 + c_t * eps).pow(3)
        accept = (v > 0) & (log_u < 0.5 * eps.square() + d_t - d_t * v + d_t * v.log())
        if todo is None:
            out, todo = d_t * v, (~accept).nonzero().squeeze(1)
        else:
            out[todo[accept]] = (d_t * v)[accept]
            todo = todo[~accept]
    return out.view(alpha.shape)


class _Gamma(torch.autograd.Function):
    """Marsaglia-Tsang draws with torch's implicit reparameterisation gradient."""

    @staticmethod
    def forward(ctx, alpha, generator):
        sample = _marsaglia_tsang(alpha, generator)
        ctx.save_for_backward(alpha, sample)
        return sample

    @staticmethod
    def backward(ctx, grad):
        alpha, sample = ctx.saved_tensors
        return grad * torch._standard_gamma_grad(alpha, sample), None


def _rsample_marsaglia_tsang(loc, scale, df, n_samples, generator, row_dim=0):
    shape = (n_samples, *loc.shape)
    alpha = (0.5 * df).expand(shape).contiguous()
    eps = torch.randn(shape, generator=generator, dtype=loc.dtype)
    chi2 = (2.0 * _Gamma.apply(alpha, generator)).clamp_min(torch.finfo(loc.dtype).tiny)
    return loc + scale * eps * torch.rsqrt(chi2 / df)


class _FusedStudentT(torch.autograd.Function):
    """Masked Student-t log density summed over features, closed-form backward."""

    @staticmethod
    def forward(ctx, x, loc, scale, df, mask):
        y = (x - loc) / scale
        y2 = y.square()
        log1p_term = torch.log1p(y2 / df)
        out = (
            torch.lgamma(0.5 * df + 0.5)
            - torch.lgamma(0.5 * df)
            - 0.5 * torch.log(math.pi * df)
            - torch.log(scale)
            - (0.5 * df + 0.5) * log1p_term
        )
        ctx.save_for_backward(y, y2, scale, df, mask, log1p_term)
        return (out * mask).sum(-1)

    @staticmethod
    def backward(ctx, grad):
        y, y2, scale, df, mask, log1p_term = ctx.saved_tensors
        g = grad.unsqueeze(-1) * mask
        w = (df + 1) / (df + y2)
        g_loc = g * w * y / scale
        g_scale = g * (w * y2 - 1) / scale
        g_df = (
            g
            * 0.5
            * (
                torch.digamma(0.5 * df + 0.5)
                - torch.digamma(0.5 * df)
                - 1 / df
                - log1p_term
                + w * y2 / df
            )
        )
        return None, g_loc, g_scale, g_df, None


def _round_ms(step, steps=100):
    """ms per call of ``step`` over one round of ``steps`` calls, after a warm-up."""
    for _ in range(10):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def _step_maker(p, adam_kwargs):
    torch.manual_seed(0)
    model = _model.MIWAE(p, p - 1, (128, 128))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **adam_kwargs)
    x = torch.randn(64, p)
    mask = (torch.rand(64, p) > 0.5).float()
    x = x * mask
    generator = torch.Generator().manual_seed(0)

    def step():
        log_r = model.log_weights(x, mask, 20, generator)[0]
        optimizer.zero_grad(set_to_none=True)
        (-_model.miwae_bound(log_r).mean()).backward()
        optimizer.step()

    return step


def _density_ab(rounds):
    """Forward and backward of the decoder's density: autograd against fused."""
    x, mask = torch.randn(64, 30), (torch.rand(64, 30) > 0.5).float()
    out = torch.randn(20, 64, 90, requires_grad=True)

    def params():
        loc, scale, df = out.chunk(3, -1)
        return loc, F.softplus(scale) + 1e-3, F.softplus(df) + 3

    def autograd():
        loc, scale, df = params()
        log_p = (_model.student_t_log_prob(x, loc, scale, df) * mask).sum(-1)
        log_p.sum().backward()

    def fused():
        _FusedStudentT.apply(x, *params(), mask).sum().backward()

    times = {"autograd": [], "fused": []}
    for _ in range(rounds):
        for name, function in (("autograd", autograd), ("fused", fused)):
            times[name].append(_round_ms(function))
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.step_ab")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--p", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    current = _model.student_t_rsample
    candidates = {
        "marsaglia-tsang gamma": ({}, _rsample_marsaglia_tsang),
        "Adam(fused=True)": ({"fused": True}, current),
        "Adam(foreach=True)": ({"foreach": True}, current),
    }
    print(f"threads {args.threads}, p {args.p}: ms per step, median of rounds")
    for name, (adam_kwargs, rsample) in candidates.items():
        steps = {
            "current": _step_maker(args.p, {}),
            name: _step_maker(args.p, adam_kwargs),
        }
        times = {key: [] for key in steps}
        for _ in range(args.rounds):
            for key, step in steps.items():
                _model.student_t_rsample = rsample if key == name else current
                times[key].append(_round_ms(step))
        base, new = (statistics.median(times[key]) for key in steps)
        print(
            f"  {name}: current {base:.2f}, candidate {new:.2f}, ratio {new / base:.3f}"
        )
    _model.student_t_rsample = current
    density = _density_ab(args.rounds)
    print(
        "  decoder density fwd+bwd (20 x 64 x 30): "
        f"autograd {density['autograd']:.2f} ms, fused {density['fused']:.2f} ms"
    )


if __name__ == "__main__":
    main()
