# Parts of an inference chunk of 4,096 codes of one row (issue 27,
# twenty-third session; "A row's needed outputs alone" in
# benchmarks/HISTORY.md): the decoder's last layer four ways, and the
# (2, 4096, 1, 29) float32 uniforms of the codes from torch and numpy.
# One thread, mean of 300 calls after 10 warm-ups.
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
h = torch.randn(4096, 1, 128)
w, b = torch.randn(90, 128), torch.randn(90)
# the 60 read: every location, and the scales and dfs of 15 observed columns
idx = torch.cat(
    [torch.arange(30), 30 + torch.arange(0, 30, 2), 60 + torch.arange(0, 30, 2)]
)
ws, bs = w[idx].contiguous(), b[idx].contiguous()


def bench(f, n=300):
    for _ in range(10):
        f()
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n * 1e3


def scattered():
    return h.new_zeros(4096, 1, 90).index_copy_(-1, idx, F.linear(h, ws, bs))


def transposed():
    some = torch.addmm(bs[:, None], ws, h.view(-1, 128).t())
    return h.new_zeros(90, 4096).index_copy_(0, idx, some).t().unsqueeze(1)


print(f"all 90        {bench(lambda: F.linear(h, w, b)):.3f} ms")
print(f"the 60 alone  {bench(lambda: F.linear(h, ws, bs)):.3f} ms")
print(f"60 scattered  {bench(scattered):.3f} ms")
print(f"60 transposed {bench(transposed):.3f} ms")

shape = (2, 4096, 1, 29)
g = torch.Generator().manual_seed(1)
pcg, sfc = (np.random.Generator(bits(1)) for bits in (np.random.PCG64, np.random.SFC64))
print(f"uniforms, torch {bench(lambda: torch.rand(shape, generator=g)):.3f} ms")
for name, rng in (("PCG64", pcg), ("SFC64", sfc)):
    draw = lambda: torch.from_numpy(rng.random(shape, dtype=np.float32))  # noqa: E731
    print(f"uniforms, {name} {bench(draw):.3f} ms")
