"""An independent check of npas's factorised weights, written here as plain PyTorch modules from
the papers (not generated from the engine): FedPara's low-rank Hadamard product for a matrix
(Proposition 1) and a convolution kernel (Proposition 3), and a tensor-train matrix (Novikov et
al. 2015). For each it counts the stored parameters, and — with the same __torch_dispatch__
matrix-product counter as independent_check.py (a multiply-add = 2) — the FLOPs of materialising
W from the factors in either merge order and of applying the factors to one input vector without
materialising W; it checks the two executions agree numerically and that FedPara's W reaches rank
R². Prints JSON for test/torch/factorized-check.test.ts. Run with /usr/bin/python3.
"""

import json
import sys

import torch
import torch.nn as nn

from independent_check import count

torch.manual_seed(0)


class FedParaLinear(nn.Module):
    def __init__(self, d_in, d_out, rank):
        super().__init__()
        self.x1 = nn.Parameter(torch.randn(d_out, rank, dtype=torch.float64))
        self.y1 = nn.Parameter(torch.randn(d_in, rank, dtype=torch.float64))
        self.x2 = nn.Parameter(torch.randn(d_out, rank, dtype=torch.float64))
        self.y2 = nn.Parameter(torch.randn(d_in, rank, dtype=torch.float64))

    def weight(self):
        return (self.x1 @ self.y1.T) * (self.x2 @ self.y2.T)

    def chain(self, x):
        # (X1 • X2)(Y1 • Y2)ᵀ x: the face-splitting products, then two thin products.
        u = (self.x1[:, :, None] * self.x2[:, None, :]).reshape(self.x1.shape[0], -1)
        v = (self.y1[:, :, None] * self.y2[:, None, :]).reshape(self.y1.shape[0], -1)
        return u @ (v.T @ x)


class FedParaConv(nn.Module):
    def __init__(self, c_in, c_out, k, rank):
        super().__init__()
        self.t = nn.ParameterList([nn.Parameter(torch.randn(rank, rank, k, k)) for _ in range(2)])
        self.x = nn.ParameterList([nn.Parameter(torch.randn(rank, c_out)) for _ in range(2)])
        self.y = nn.ParameterList([nn.Parameter(torch.randn(rank, c_in)) for _ in range(2)])


class TTLinear(nn.Module):
    def __init__(self, modes_out, modes_in, ranks):
        super().__init__()
        self.mo, self.mi, self.r = modes_out, modes_in, ranks
        self.cores = nn.ParameterList(
            [nn.Parameter(torch.randn(ranks[k], modes_out[k], modes_in[k], ranks[k + 1], dtype=torch.float64)) for k in range(len(modes_out))]
        )

    def _finish(self, merged):
        d = len(self.mo)
        t = merged.reshape([x for k in range(d) for x in (self.mo[k], self.mi[k])])
        t = t.permute(list(range(0, 2 * d, 2)) + list(range(1, 2 * d, 2)))
        return t.reshape(int(torch.tensor(self.mo).prod()), int(torch.tensor(self.mi).prod()))

    def weight_left(self):
        a = self.cores[0].reshape(-1, self.r[1])
        for k in range(1, len(self.mo)):
            a = (a @ self.cores[k].reshape(self.r[k], -1)).reshape(-1, self.r[k + 1])
        return self._finish(a)

    def weight_right(self):
        d = len(self.mo)
        b = self.cores[d - 1].reshape(self.r[d - 1], -1)
        for k in range(d - 2, -1, -1):
            b = (self.cores[k].reshape(-1, self.r[k + 1]) @ b).reshape(self.r[k], -1)
        return self._finish(b)

    def chain(self, x, order):
        # Contract the input (n1…nd) with one core at a time, as (batched) matrix products.
        d = len(self.mo)
        if order == "right":
            # state [n1..n_{k}, (m_{k+1}..m_d), r_k]; start with x as [n1..nd, 1].
            t = x.reshape(*self.mi, 1)
            for k in range(d - 1, -1, -1):
                lead = int(torch.tensor(self.mi[:k]).prod()) if k else 1
                tail = int(torch.tensor(self.mo[k + 1:]).prod()) if k < d - 1 else 1
                # [lead, n_k, tail, r_k] → [lead·tail, n_k·r_k] · [n_k·r_k, r_{k-1}·m_k]
                s = t.reshape(lead, self.mi[k], tail, self.r[k + 1]).permute(0, 2, 1, 3).reshape(lead * tail, -1)
                g = self.cores[k].permute(2, 3, 0, 1).reshape(self.mi[k] * self.r[k + 1], self.r[k] * self.mo[k])
                t = (s @ g).reshape(lead, tail, self.r[k], self.mo[k]).permute(0, 3, 1, 2)  # [lead, m_k, tail, r_{k-1}]
            return t.reshape(-1)
        t = x.reshape(1, *self.mi)
        for k in range(d):
            lead = int(torch.tensor(self.mo[:k]).prod()) if k else 1
            tail = int(torch.tensor(self.mi[k + 1:]).prod()) if k < d - 1 else 1
            s = t.reshape(lead, self.r[k], self.mi[k], tail).permute(0, 3, 1, 2).reshape(lead * tail, -1)
            g = self.cores[k].permute(0, 2, 1, 3).reshape(self.r[k] * self.mi[k], self.mo[k] * self.r[k + 1])
            t = (s @ g).reshape(lead, tail, self.mo[k], self.r[k + 1]).permute(0, 2, 3, 1)  # [lead, m_k, r_k, tail]
        return t.reshape(-1)


def params(m):
    return sum(p.numel() for p in m.parameters())


def build():
    out = {}
    fed = FedParaLinear(40, 48, 3)
    w = fed.weight()
    x = torch.randn(40, 1, dtype=torch.float64)
    assert torch.allclose(w @ x, fed.chain(x)), "FedPara: the factor chain computes W·x"
    assert int(torch.linalg.matrix_rank(w)) == 9, "FedPara: rank R² = 9"
    out["fedpara"] = {"params": params(fed), "chainFlops": count(lambda: fed.chain(x))}
    conv = FedParaConv(6, 10, 3, 2)
    out["fedparaConv"] = {"params": params(conv)}
    tt = TTLinear([4, 3, 2], [2, 5, 4], [1, 3, 2, 1])
    wl, wr = tt.weight_left(), tt.weight_right()
    assert torch.allclose(wl, wr)
    x = torch.randn(40, dtype=torch.float64)
    right, left = tt.chain(x, "right"), tt.chain(x, "left")
    assert torch.allclose(wl @ x, right) and torch.allclose(wl @ x, left), "TT: the chain computes W·x"
    out["tt"] = {
        "params": params(tt),
        "reconstructFlops": min(count(tt.weight_left), count(tt.weight_right)),
        "chainFlops": min(count(lambda: tt.chain(x, "right")), count(lambda: tt.chain(x, "left"))),
    }
    return out


if __name__ == "__main__":
    json.dump(build(), sys.stdout)
