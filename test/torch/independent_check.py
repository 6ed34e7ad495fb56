"""An independent check of npas's numbers: small models written here as plain PyTorch modules
from the papers (GPT-2, a Llama-style GQA decoder, a sliding-window decoder, a Mixtral-style
MoE, DeepSeek-V2's MLA with its absorbed decode, and a token mixer built on a depthwise causal
Conv1d over the sequence), not generated from the engine. It counts
parameters (unique tensors, a tied head once), the FLOPs of every matrix product with a
__torch_dispatch__ counter (a multiply-add = 2), and the KV cache the decode step keeps, and
prints them as JSON for test/torch/torch-check.test.ts to compare with `npas budget --json`.

Conventions checked (README, "What the numbers mean"): a causal prefill of S tokens (each
position attends to itself and the positions before it, within the window), a decode step at
context S (the new token attends to S keys: S - 1 cached and its own), MLA decode in the
absorbed form. Run with Debian's python3-torch: /usr/bin/python3 test/torch/independent_check.py
"""

import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


class MatmulFlops(TorchDispatchMode):
    """Counts 2·m·k·n for every matrix product the dispatcher sees (linear layers reach it as mm/addmm)."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        packet = func._overloadpacket
        if packet in (aten.mm, aten.addmm):
            a, b = (args[1], args[2]) if packet is aten.addmm else (args[0], args[1])
            self.flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
        elif packet in (aten.bmm, aten.baddbmm):
            a, b = (args[1], args[2]) if packet is aten.baddbmm else (args[0], args[1])
            self.flops += 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
        elif packet is aten.convolution:
            # Every output element is a dot product over (c_in/groups)·kernel taps of the weight.
            w = args[1]
            self.flops += 2 * out.numel() * w.shape[1] * w.shape[2]
        elif packet in (aten.mv, aten.dot, aten.addmv):
            raise RuntimeError(f"uncounted product {packet}")
        return out


def count(fn):
    with MatmulFlops() as m:
        with torch.no_grad():
            fn()
    return m.flops


def rope(x, pos, dim):
    """Rotate-half rotary embedding of the first `dim` dims (elementwise: no FLOPs counted)."""
    half = dim // 2
    inv = 1.0 / (10000 ** (torch.arange(0, half, dtype=torch.float32) * 2 / dim))
    ang = pos[:, None].float() * inv[None, :]
    # [T, 1, dim]: one angle per position, shared by the heads (x is [T, heads, head_dim]).
    cos, sin = torch.cat([ang.cos()] * 2, -1)[:, None, :], torch.cat([ang.sin()] * 2, -1)[:, None, :]
    r, rest = x[..., :dim], x[..., dim:]
    x1, x2 = r[..., :half], r[..., half:]
    rotated = torch.cat([-x2, x1], -1)
    return torch.cat([r * cos + rotated * sin, rest], -1)


def attend(q, k, v, window):
    """Causal attention one query position at a time, so exactly the attended keys are multiplied.
    q: [T, H, dq]; k, v: [Tk, H, d] (kv heads already repeated); positions of q are the last T of k."""
    T, Tk = q.shape[0], k.shape[0]
    outs = []
    for i in range(T):
        p = Tk - T + i
        lo = 0 if window is None else max(0, p + 1 - window)
        kk, vv = k[lo : p + 1].transpose(0, 1), v[lo : p + 1].transpose(0, 1)  # [H, n, d]
        s = torch.bmm(q[i][:, None, :], kk.transpose(1, 2)) / math.sqrt(q.shape[-1])
        outs.append(torch.bmm(F.softmax(s, -1), vv)[:, 0, :])
    return torch.stack(outs)


class SelfAttention(nn.Module):
    def __init__(self, d, heads, kv_heads, head_dim, bias, use_rope, window):
        super().__init__()
        self.h, self.kvh, self.hd, self.use_rope, self.window = heads, kv_heads, head_dim, use_rope, window
        self.q = nn.Linear(d, heads * head_dim, bias=bias)
        self.k = nn.Linear(d, kv_heads * head_dim, bias=bias)
        self.v = nn.Linear(d, kv_heads * head_dim, bias=bias)
        self.o = nn.Linear(heads * head_dim, d, bias=bias)

    def forward(self, x, pos, cache):
        T = x.shape[0]
        q = self.q(x).view(T, self.h, self.hd)
        k = self.k(x).view(T, self.kvh, self.hd)
        v = self.v(x).view(T, self.kvh, self.hd)
        if self.use_rope:
            q, k = rope(q, pos, self.hd), rope(k, pos, self.hd)
        if cache is not None:
            k, v = torch.cat([cache[0], k]), torch.cat([cache[1], v])
        # The cache a decode step keeps: the last `window` tokens (all without a window).
        keep = k.shape[0] if self.window is None else min(k.shape[0], self.window)
        new_cache = (k[-keep:], v[-keep:])
        rep = self.h // self.kvh
        out = attend(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), self.window)
        return self.o(out.reshape(T, -1)), new_cache


class GatedMLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.gate, self.up, self.down = nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False), nn.Linear(hidden, d, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    """Mixtral's sparse block: a router over E SwiGLU experts, each token through its top k."""

    def __init__(self, d, hidden, experts, top_k):
        super().__init__()
        self.router = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(GatedMLP(d, hidden) for _ in range(experts))
        self.k = top_k

    def forward(self, x):
        w, idx = torch.topk(F.softmax(self.router(x), -1), self.k, -1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows, slot = (idx == e).nonzero(as_tuple=True)
            if rows.numel():
                out[rows] += w[rows, slot, None] * expert(x[rows])
        return out


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class MLA(nn.Module):
    """DeepSeek-V2 latent attention (q projected directly, as V2-Lite): prefill expands keys and
    values with kv_b; decode runs the absorbed form on the cached latent and rope key."""

    def __init__(self, d, heads, kv_rank, rope_dim, nope_dim, v_dim):
        super().__init__()
        self.h, self.r, self.rd, self.nd, self.vd = heads, kv_rank, rope_dim, nope_dim, v_dim
        self.q = nn.Linear(d, heads * (nope_dim + rope_dim), bias=False)
        self.kv_a = nn.Linear(d, kv_rank + rope_dim, bias=False)
        self.kv_a_norm = RMSNorm(kv_rank)
        self.kv_b = nn.Linear(kv_rank, heads * (nope_dim + v_dim), bias=False)
        self.o = nn.Linear(heads * v_dim, d, bias=False)

    def latent(self, x, pos):
        a = self.kv_a(x)
        c, k_rope = self.kv_a_norm(a[:, : self.r]), a[:, self.r :]
        return c, rope(k_rope[:, None, :], pos, self.rd)[:, 0, :]

    def forward(self, x, pos, cache):
        T = x.shape[0]
        q = self.q(x).view(T, self.h, self.nd + self.rd)
        q_nope, q_rope = q[..., : self.nd], rope(q[..., self.nd :], pos, self.rd)
        c, k_rope = self.latent(x, pos)
        if cache is None:  # prefill: expanded
            kv = self.kv_b(c).view(T, self.h, self.nd + self.vd)
            k = torch.cat([kv[..., : self.nd], k_rope[:, None, :].expand(T, self.h, self.rd)], -1)
            out = attend(torch.cat([q_nope, q_rope], -1), k, kv[..., self.nd :], None)
            return self.o(out.reshape(T, -1)), (c, k_rope)
        c, k_rope = torch.cat([cache[0], c]), torch.cat([cache[1], k_rope])
        w = self.kv_b.weight.view(self.h, self.nd + self.vd, self.r)
        w_uk, w_uv = w[:, : self.nd, :], w[:, self.nd :, :]  # [H, nope, r], [H, v, r]
        q_lat = torch.bmm(q_nope.transpose(0, 1), w_uk)  # [H, T, r]: W_UK absorbed into the query
        scores = torch.bmm(q_lat, c.t().expand(self.h, -1, -1)) + torch.bmm(q_rope.transpose(0, 1), k_rope.t().expand(self.h, -1, -1))
        p = F.softmax(scores / math.sqrt(self.nd + self.rd), -1)
        out_lat = torch.bmm(p, c.expand(self.h, -1, -1))  # [H, T, r]: values weight the latent
        out = torch.bmm(out_lat, w_uv.transpose(1, 2))  # [H, T, v]: W_UV on the output
        return self.o(out.transpose(0, 1).reshape(T, -1)), (c, k_rope)


class CausalConvMixer(nn.Module):
    """A token mixer without attention: a projection, a depthwise causal Conv1d over the sequence
    (left-padded by kernel - 1, so one output per token, as Mamba's conv) and an output projection.
    Decode keeps the last `kernel` inputs of the convolution as its cache."""

    def __init__(self, d, kernel):
        super().__init__()
        self.k = kernel
        self.inp = nn.Linear(d, d, bias=False)
        self.conv = nn.Conv1d(d, d, kernel, groups=d)
        self.out = nn.Linear(d, d, bias=False)

    def forward(self, x, pos, cache):
        u = self.inp(x).transpose(0, 1)[None]  # [1, d, T]
        past = cache if cache is not None else torch.zeros(1, u.shape[1], self.k - 1)
        stream = torch.cat([past[..., -(self.k - 1):], u], -1)
        y = self.conv(stream)[0].transpose(0, 1)  # [T, d]: one output per token
        return self.out(y), stream[..., -self.k:]


class Block(nn.Module):
    def __init__(self, norm, attn, ffn):
        super().__init__()
        self.n1, self.attn, self.n2, self.ffn = norm(), attn, norm(), ffn

    def forward(self, x, pos, cache):
        a, cache = self.attn(self.n1(x), pos, cache)
        x = x + a
        return x + self.ffn(self.n2(x)), cache


class Decoder(nn.Module):
    def __init__(self, vocab, d, blocks, norm, positions=None, tied=False):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(positions, d) if positions else None
        self.blocks = nn.ModuleList(blocks)
        self.norm = norm()
        self.head = nn.Linear(d, vocab, bias=False)
        if tied:
            self.head.weight = self.embed.weight

    def forward(self, ids, start, caches):
        pos = torch.arange(start, start + ids.shape[0])
        x = self.embed(ids) + (self.pos(pos) if self.pos is not None else 0)
        out = []
        for i, b in enumerate(self.blocks):
            x, c = b(x, pos, caches[i] if caches else None)
            out.append(c)
        return self.head(self.norm(x)), out


def measure(model, seq, vocab):
    torch.manual_seed(0)
    ids = torch.randint(0, vocab, (seq,))
    prefill = count(lambda: model(ids, 0, None))
    # Decode at context S: prefill S - 1 tokens, then one token attends to S keys.
    with torch.no_grad():
        _, caches = model(ids[:-1], 0, None)
    holder = {}

    def step():
        holder["caches"] = model(ids[-1:], seq - 1, caches)[1]

    decode = count(step)
    kv_elements = sum(t.numel() for c in holder["caches"] for t in c)
    return {"params": sum(p.numel() for p in model.parameters()), "prefill": prefill, "decode": decode, "kvBytes": 2 * kv_elements}


def build():
    torch.manual_seed(0)
    V, d, S = 101, 32, 16
    ln = lambda: nn.LayerNorm(d)
    rms = lambda: RMSNorm(d)

    def gpt2_mlp():
        return nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d))

    models = {
        "TinyGPT2": Decoder(V, d, [Block(ln, SelfAttention(d, 4, 4, 8, True, False, None), gpt2_mlp()) for _ in range(2)], ln, positions=64, tied=True),
        "TinyLlamaGQA": Decoder(V, d, [Block(rms, SelfAttention(d, 4, 2, 8, False, True, None), GatedMLP(d, 48)) for _ in range(2)], rms),
        "TinyWindowed": Decoder(V, d, [Block(rms, SelfAttention(d, 4, 2, 8, False, True, 6), GatedMLP(d, 48)) for _ in range(2)], rms),
        "TinyMoE": Decoder(V, d, [Block(rms, SelfAttention(d, 4, 2, 8, False, True, None), MoE(d, 24, 4, 2)) for _ in range(2)], rms),
        "TinyConvMixer": Decoder(V, d, [Block(rms, CausalConvMixer(d, 4), GatedMLP(d, 48)) for _ in range(2)], rms),
        "TinyMLA": Decoder(V, d, [Block(rms, MLA(d, 2, 16, 4, 8, 8), GatedMLP(d, 48)) for _ in range(2)], rms),
    }
    return {name: measure(m.eval(), S, V) for name, m in models.items()}


if __name__ == "__main__":
    json.dump(build(), sys.stdout)
