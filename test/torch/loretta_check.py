"""An independent check of npas's LoRETTA adapters, written here as plain PyTorch modules after
the reference code (yifanycc/loretta@c66bbb3fe0a717d04dd02e4c5278bf2b61016348), not generated
from the engine:
- TensorTrain (tensor_layers/low_rank_tensors.py): cores [r_{k-1}, n_k, r_k], r_0 = r_d = 1, one
  rank inside; TensorizedLinear_module (tensor_layers/layers.py): the full tensor merged core by
  core (tensordot left to right), reshaped to (in_features, out_features), x @ M, plus a bias of
  out_features when bias=True;
- LoRETTA_rep's Linear (tuners/loretta_rep.py): lora_A = TT(in -> r), lora_B = TT(r -> out), no
  bias; LoRETTA_adp's Linear (tuners/loretta_adp.py): adapter_down TT(d -> b) and adapter_up
  TT(b -> d), each with its bias, relu between, residual added;
- the default modes of utils/tensor_util.py TRANSFORMERS_HIDDEN_SIZE_TO_TENSOR_SHAPE for the
  Llama-2 width 4096 at r = 8 ([16, 16, 8, 4, 4]) and b = 64 ([16, 16, 16, 4, 4, 4]).
It counts trainable parameters (p.numel() of what requires grad) and, with independent_check.py's
__torch_dispatch__ matrix-product counter (a multiply-add = 2), the FLOPs of materialising each
matrix in either merge order and of applying a train split at the prefix that spans its rows
(x @ L @ R), checking the split computes x @ M. Prints JSON for test/torch/loretta-check.test.ts.
Run with /usr/bin/python3.
"""

import json

import torch
import torch.nn as nn

from independent_check import count

torch.manual_seed(0)


class TensorTrain(nn.Module):
    def __init__(self, modes, rank):
        super().__init__()
        ranks = [1] + [rank] * (len(modes) - 1) + [1]
        self.modes, self.ranks = modes, ranks
        self.factors = nn.ParameterList(
            [nn.Parameter(torch.randn(ranks[k], modes[k], ranks[k + 1], dtype=torch.float64) / 2) for k in range(len(modes))]
        )

    def merge_left(self, upto=None):
        """Cores 0..upto-1 merged left to right: [prod n, r_upto]."""
        upto = len(self.modes) if upto is None else upto
        out = self.factors[0].reshape(self.modes[0], self.ranks[1])
        for k in range(1, upto):
            out = (out @ self.factors[k].reshape(self.ranks[k], -1)).reshape(-1, self.ranks[k + 1])
        return out

    def merge_right(self, start=0):
        """Cores start..d-1 merged right to left: [r_start, prod n]."""
        d = len(self.modes)
        out = self.factors[d - 1].reshape(self.ranks[d - 1], -1)
        for k in range(d - 2, start - 1, -1):
            out = (self.factors[k].reshape(-1, self.ranks[k + 1]) @ out).reshape(self.ranks[k], -1)
        return out


class TensorizedLinear(nn.Module):
    def __init__(self, d_in, d_out, modes, rank, bias):
        super().__init__()
        assert int(torch.tensor(modes).prod()) == d_in * d_out
        self.d_in, self.d_out = d_in, d_out
        self.tensor = TensorTrain(modes, rank)
        self.bias = nn.Parameter(torch.zeros(d_out, dtype=torch.float64)) if bias else None

    def matrix(self):
        return self.tensor.merge_left().reshape(self.d_in, self.d_out)

    def forward(self, x):
        out = x @ self.matrix()
        return out + self.bias if self.bias is not None else out

    def split(self):
        prefix = 1
        for s, n in enumerate(self.tensor.modes[:-1], start=1):
            prefix *= n
            if prefix == self.d_in:
                return s
            if prefix > self.d_in:
                return None
        return None


class LorettaRep(nn.Module):
    def __init__(self, d_in, d_out, r, rank, modes_a, modes_b):
        super().__init__()
        self.lora_A = TensorizedLinear(d_in, r, modes_a, rank, bias=False)
        self.lora_B = TensorizedLinear(r, d_out, modes_b, rank, bias=False)


class LorettaAdp(nn.Module):
    def __init__(self, d, b, rank, modes_down, modes_up):
        super().__init__()
        self.adapter_down = TensorizedLinear(d, b, modes_down, rank, bias=True)
        self.adapter_up = TensorizedLinear(b, d, modes_up, rank, bias=True)

    def forward(self, h):
        return h + self.adapter_up(torch.relu(self.adapter_down(h)))


def train_costs(layer):
    """FLOPs of materialising M (min of the two sweeps), and of the split form: setup and per token."""
    t = layer.tensor
    left = count(lambda: t.merge_left())
    right = count(lambda: t.merge_right())
    full = layer.matrix()
    out = {"reconstructFlops": min(left, right), "denseFlopsPerToken": 2 * layer.d_in * layer.d_out}
    s = layer.split()
    if s is not None:
        x = torch.randn(1, layer.d_in, dtype=torch.float64)
        L = t.merge_left(s)
        R = t.merge_right(s)
        assert torch.allclose(x @ L @ R, x @ full)
        out["chainSetupFlops"] = count(lambda: t.merge_left(s)) + count(lambda: t.merge_right(s))
        out["chainFlopsPerToken"] = count(lambda: x @ L @ R)
    return out


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


result = {}
for tt_rank in (5, 8):
    rep = LorettaRep(4096, 4096, 8, tt_rank, [16, 16, 8, 4, 4], [16, 16, 8, 4, 4])
    adp = LorettaAdp(4096, 64, tt_rank, [16, 16, 16, 4, 4, 4], [16, 16, 16, 4, 4, 4])
    h = torch.randn(2, 4096, dtype=torch.float64)
    assert adp(h).shape == h.shape
    result[f"t{tt_rank}"] = {
        "rep": {"params": trainable(rep), "a": train_costs(rep.lora_A), "b": train_costs(rep.lora_B)},
        "adp": {"params": trainable(adp), "down": train_costs(adp.adapter_down), "up": train_costs(adp.adapter_up)},
    }
print(json.dumps(result))
