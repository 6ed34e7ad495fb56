#!/usr/bin/env python3
"""Runs an exported NPAS graph (the JSON from `npas export-onnx --graph-json`) in PyTorch, node by
node, so that the ONNX Runtime probe has a side-by-side baseline on the same machine running the
same graph: same ops, shapes, dtype, inputs (token ids) and output (last-token values).

Weights are drawn on the device from each initializer's distribution (uniform ±scale around
offset, as the exporter draws them), or read from the JSON when it embeds them (--with-weights).
Shape arithmetic (Shape, Concat of shapes, Gather of a dim) stays on the host as integers, so
the forward pass has no device-host sync and can be captured in a CUDA graph: the timing is the
device work, as PyTorch would run it without Python overhead. Eager timing is reported too.

usage: gpu-probe-torch.py GRAPH.json --batch B --seq S [--device cuda|cpu] [--runs N] [--warmup N]
                          [--backend torch|numpy] [--ids-mod V] [--print-output]
Prints one JSON object: {"model", "device", "dtype", "batch", "seq", "eagerMs", "graphMs", ...}.
The numpy backend exists to test this interpreter against ONNX Runtime on a machine without torch.
"""
import argparse
import base64
import json
import math
import statistics
import sys
import time


class Host:
    """An int64 tensor kept on the host (shapes, indices): a tuple of ints plus its dims."""

    def __init__(self, values, dims):
        self.values = [int(v) for v in values]
        self.dims = list(dims)

    def scalar(self):
        return self.values[0]


# ---- backends ---------------------------------------------------------------------------

class NumpyBackend:
    def __init__(self, dtype):
        import numpy as np
        self.np = np
        self.dt = np.float16 if dtype == 'fp16' else np.float32

    def weight(self, dims, scale, offset, raw, seed):
        np = self.np
        if raw is not None:
            return np.frombuffer(base64.b64decode(raw), dtype=self.dt).reshape(dims).copy()
        rng = np.random.default_rng(seed)
        return (rng.uniform(-scale, scale, size=dims) + offset).astype(self.dt)

    def const(self, t):
        np = self.np
        if t['dtype'] == 'float16-bits':
            return np.array(t['data'], dtype=np.uint16).view(np.float16).reshape(t['dims'])
        # A float32 constant is float32 in every graph (an fp16 graph's rotary inverse
        # frequencies: the angles are computed in float32, then cast), as ONNX Runtime holds it.
        return np.array(t['data'], dtype=np.float32 if t['dtype'] == 'float32' else self.dt).reshape(t['dims'])

    def ids(self, data, dims):
        return self.np.array(data, dtype=self.np.int64).reshape(dims)

    def to_dev(self, h):
        return self.np.array(h.values, dtype=self.np.int64).reshape(h.dims)

    def arange(self, a, b, c):
        return self.np.arange(a, b, c, dtype=self.np.int64)

    def gather(self, x, idx, axis):
        return self.np.take(x, idx, axis=axis)

    def select(self, x, axis, i):
        return self.np.take(x, i, axis=axis)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def shape(self, x):
        return list(x.shape)

    def linear(self, x, w, b, trans_b):
        y = x @ (w.T if trans_b else w)
        return y + b if b is not None else y

    def layer_norm(self, x, scale, bias, eps):
        np = self.np
        xf = x.astype(np.float32)
        mu = xf.mean(-1, keepdims=True)
        var = ((xf - mu) ** 2).mean(-1, keepdims=True)
        y = ((xf - mu) / np.sqrt(var + eps)).astype(x.dtype) * scale
        return y + bias if bias is not None else y

    def softmax(self, x, axis):
        np = self.np
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def rms_norm(self, x, scale, eps):
        np = self.np
        xf = x.astype(np.float32)
        return (xf / np.sqrt((xf * xf).mean(-1, keepdims=True) + eps)).astype(x.dtype) * scale

    def attention(self, q, k, v, scale, causal, window):
        # q [B, H, S, hd]; k, v [B, KV, T, hd] (T = cached + S; query i sits at T - S + i).
        np = self.np
        heads, kv_heads, s_len, t_len = q.shape[1], k.shape[1], q.shape[2], k.shape[2]
        if heads != kv_heads:
            k = np.repeat(k, heads // kv_heads, axis=1)
            v = np.repeat(v, heads // kv_heads, axis=1)
        scores = (q.astype(np.float32) @ k.astype(np.float32).transpose(0, 1, 3, 2)) * scale
        if causal:
            qi = np.arange(s_len)[:, None] + (t_len - s_len)
            kj = np.arange(t_len)[None, :]
            blocked = kj > qi
            if window > 0:
                blocked = blocked | (qi - kj >= window)
            scores = np.where(blocked, -np.inf, scores)
        return (self.softmax(scores, -1) @ v.astype(np.float32)).astype(q.dtype)

    def gelu(self, x, tanh):
        np = self.np
        if tanh:
            return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        from math import erf
        verf = np.vectorize(erf, otypes=[np.float64])
        return (0.5 * x * (1 + verf(x / math.sqrt(2)))).astype(x.dtype)

    def sigmoid(self, x):
        return 1 / (1 + self.np.exp(-x))

    def relu(self, x):
        return self.np.maximum(x, 0)

    def mean(self, x, axes, keepdims):
        return x.mean(axis=tuple(axes), keepdims=keepdims)

    def permute(self, x, perm):
        return x.transpose(perm)

    def cat(self, xs, axis):
        return self.np.concatenate(xs, axis=axis)

    def where(self, c, a, b):
        r = self.np.where(c, a, b)
        return r if r.dtype.kind in 'iub' else r.astype(self.dt)  # integer selects (T5's buckets) stay integer

    def narrow(self, x, axis, start, length):
        return self.np.take(x, range(start, start + length), axis=axis)

    def unsqueeze(self, x, axes):
        for a in sorted(axes):
            x = self.np.expand_dims(x, a)
        return x

    def to_float32(self, x):
        return x.astype(self.np.float32)

    def to_model_float(self, x):
        return x.astype(self.dt)

    def sqrt(self, x):
        return self.np.sqrt(x)

    def sin(self, x):
        return self.np.sin(x)

    def cos(self, x):
        return self.np.cos(x)

    def topk(self, x, k, axis, largest=True):
        np = self.np
        idx = np.argsort(-x if largest else x, axis=axis, kind='stable')[..., :k]
        return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)

    def gather_elements(self, x, idx, axis):
        return self.np.take_along_axis(x, idx, axis=axis)

    def maximum(self, a, b):
        return self.np.maximum(a, b)

    def minimum(self, a, b):
        return self.np.minimum(a, b)

    def abs(self, x):
        return self.np.abs(x)

    def log(self, x):
        return self.np.log(x)

    def amax(self, x, axes, keepdims):
        return x.max(axis=tuple(axes), keepdims=keepdims)

    def rsum(self, x, axes, keepdims):
        return x.sum(axis=tuple(axes), keepdims=keepdims).astype(x.dtype)

    def to_int32(self, x):
        return x.astype(self.np.int32)

    def to_int64(self, x):
        # ONNX Cast float -> int truncates toward zero, as astype does.
        return self.np.asarray(x).astype(self.np.int64)

    def amin_all(self, x):
        return self.np.asarray(x).min()

    def nonzero(self, x):
        return self.np.array(self.np.nonzero(x), dtype=self.np.int64)

    def scatter_add_rows(self, data, rows, updates):
        out = data.copy()
        self.np.add.at(out, rows, updates)
        return out

    def scatter_rows(self, data, rows, updates):
        out = data.copy()
        out[rows] = updates
        return out

    # Convolutional ops (NCHW / NCL): Conv, MaxPool/AveragePool without padding, BatchNormalization.
    def _windows(self, xp, k, strides, dilations):
        """[N, C, *k, *out] patches of a padded [N, C, *sides] array (1 or 2 spatial dims)."""
        np = self.np
        n = xp.ndim - 2
        out = [(xp.shape[2 + i] - dilations[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(n)]
        idx = [(np.arange(k[i]) * dilations[i])[:, None] + (np.arange(out[i]) * strides[i])[None, :] for i in range(n)]
        if n == 1:
            return xp[:, :, idx[0]]
        return xp[:, :, idx[0][:, None, :, None], idx[1][None, :, None, :]]

    def conv(self, x, w, b, strides, pads, dilations, group):
        np = self.np
        n = x.ndim - 2
        xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[i], pads[i + n]) for i in range(n)])
        p = self._windows(xp, list(w.shape[2:]), strides, dilations)
        cg, mg = x.shape[1] // group, w.shape[0] // group
        spec = 'ncio,mci->nmo' if n == 1 else 'ncijhw,mcij->nmhw'
        y = np.concatenate([np.einsum(spec, p[:, g * cg:(g + 1) * cg], w[g * mg:(g + 1) * mg]) for g in range(group)], axis=1).astype(x.dtype)
        return y + b.reshape([-1] + [1] * n) if b is not None else y

    def pool(self, x, kind, k, strides):
        n = x.ndim - 2
        p = self._windows(x, k, strides, [1] * n)
        axes = tuple(range(2, 2 + n))
        return (p.max(axis=axes) if kind == 'max' else p.mean(axis=axes)).astype(x.dtype)

    def global_pool(self, x, kind):
        axes = tuple(range(2, x.ndim))
        return x.max(axis=axes, keepdims=True) if kind == 'max' else x.mean(axis=axes, keepdims=True).astype(x.dtype)

    def batch_norm(self, x, scale, bias, mean, var, eps):
        np = self.np
        shape = [-1] + [1] * (x.ndim - 2)
        r = lambda t: t.reshape(shape)
        return ((x - r(mean)) / np.sqrt(r(var) + eps) * r(scale) + r(bias)).astype(x.dtype)

    def flatten(self, x, axis):
        return x.reshape(list(x.shape[:axis]) + [-1])

    def sync(self):
        pass

    def numpy(self, x):
        return x


class TorchBackend:
    def __init__(self, dtype, device):
        import torch
        import torch.nn.functional as F
        self.torch = torch
        self.F = F
        self.dev = torch.device(device)
        self.dt = torch.float16 if dtype == 'fp16' else torch.float32

    def weight(self, dims, scale, offset, raw, seed):
        torch = self.torch
        if raw is not None:
            import numpy as np
            a = np.frombuffer(base64.b64decode(raw), dtype=np.float16 if self.dt == torch.float16 else np.float32).reshape(dims).copy()
            return torch.from_numpy(a).to(self.dev)
        g = torch.Generator(device=self.dev).manual_seed(seed)
        w = torch.empty(dims, dtype=self.dt, device=self.dev)
        w.uniform_(-scale, scale, generator=g)
        return w.add_(offset) if offset else w

    def const(self, t):
        torch = self.torch
        if t['dtype'] == 'float16-bits':
            import numpy as np
            a = np.array(t['data'], dtype=np.uint16).view(np.float16).reshape(t['dims'])
            return torch.from_numpy(a.copy()).to(self.dev, self.dt)
        dt = torch.float32 if t['dtype'] == 'float32' else self.dt  # as the numpy backend
        return torch.tensor(t['data'], dtype=dt, device=self.dev).reshape(t['dims'])

    def ids(self, data, dims):
        return self.torch.tensor(data, dtype=self.torch.int64, device=self.dev).reshape(dims)

    def to_dev(self, h):
        return self.torch.tensor(h.values, dtype=self.torch.int64, device=self.dev).reshape(h.dims)

    def arange(self, a, b, c):
        return self.torch.arange(a, b, c, dtype=self.torch.int64, device=self.dev)

    def gather(self, x, idx, axis):
        if axis == 0 and x.dim() == 2 and x.is_floating_point():
            return self.F.embedding(idx, x)
        flat = self.torch.index_select(x, axis, idx.reshape(-1))
        return flat.reshape(list(x.shape[:axis]) + list(idx.shape) + list(x.shape[axis + 1:]))

    def select(self, x, axis, i):
        return x.select(axis, i)

    def reshape(self, x, shape):
        return x.reshape(shape)

    def shape(self, x):
        return list(x.shape)

    def linear(self, x, w, b, trans_b):
        if trans_b:
            return self.F.linear(x, w, b)
        y = x @ w
        return y + b if b is not None else y

    def layer_norm(self, x, scale, bias, eps):
        return self.F.layer_norm(x, (x.shape[-1],), scale, bias, eps)

    def softmax(self, x, axis):
        return self.torch.softmax(x, dim=axis)

    def rms_norm(self, x, scale, eps):
        xf = x.float()
        return (xf * self.torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * scale

    def attention(self, q, k, v, scale, causal, window):
        # scaled_dot_product_attention (flash / memory-efficient kernels on CUDA): the fair
        # PyTorch counterpart of ORT's GroupQueryAttention / MultiHeadAttention.
        torch, F = self.torch, self.F
        s_len, t_len = q.shape[2], k.shape[2]
        mask, is_causal = None, False
        if causal and window <= 0 and s_len == t_len:
            is_causal = True
        elif causal and (s_len > 1 or window > 0):
            qi = torch.arange(s_len, device=self.dev).unsqueeze(1) + (t_len - s_len)
            kj = torch.arange(t_len, device=self.dev).unsqueeze(0)
            mask = kj <= qi
            if window > 0:
                mask = mask & (qi - kj < window)
        heads, kv_heads = q.shape[1], k.shape[1]
        if heads != kv_heads:
            try:
                return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale, enable_gqa=True)
            except TypeError:  # torch < 2.5: no enable_gqa
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale)

    def gelu(self, x, tanh):
        return self.F.gelu(x, approximate='tanh' if tanh else 'none')

    def sigmoid(self, x):
        return self.torch.sigmoid(x)

    def relu(self, x):
        return self.torch.relu(x)

    def mean(self, x, axes, keepdims):
        return x.mean(dim=tuple(axes), keepdim=keepdims)

    def permute(self, x, perm):
        return x.permute(*perm)

    def cat(self, xs, axis):
        return self.torch.cat(xs, dim=axis)

    def where(self, c, a, b):
        return self.torch.where(c, a, b)

    def narrow(self, x, axis, start, length):
        return x.narrow(axis, start, length)

    def unsqueeze(self, x, axes):
        for a in sorted(axes):
            x = x.unsqueeze(a)
        return x

    def to_float32(self, x):
        return x.float()

    def to_model_float(self, x):
        return x.to(self.dt)

    def sqrt(self, x):
        return self.torch.sqrt(x)

    def sin(self, x):
        return self.torch.sin(x)

    def cos(self, x):
        return self.torch.cos(x)

    def topk(self, x, k, axis, largest=True):
        v, i = self.torch.topk(x, k, dim=axis, largest=largest)
        return v, i

    def gather_elements(self, x, idx, axis):
        return self.torch.gather(x, axis, idx)

    def maximum(self, a, b):
        torch = self.torch
        if not torch.is_tensor(a):
            a, b = b, a
        return torch.clamp(a, min=b) if not torch.is_tensor(b) else torch.maximum(a, b)

    def minimum(self, a, b):
        torch = self.torch
        if not torch.is_tensor(a):
            a, b = b, a
        return torch.clamp(a, max=b) if not torch.is_tensor(b) else torch.minimum(a, b)

    def abs(self, x):
        return self.torch.abs(x)

    def log(self, x):
        return self.torch.log(x)

    def amax(self, x, axes, keepdims):
        return self.torch.amax(x, dim=tuple(axes), keepdim=keepdims)

    def rsum(self, x, axes, keepdims):
        return x.sum(dim=tuple(axes), keepdim=keepdims)

    def to_int32(self, x):
        return x.to(self.torch.int32)

    def to_int64(self, x):
        # ONNX Cast float -> int truncates toward zero, as .to(int64) does.
        return x.to(self.torch.int64)

    def amin_all(self, x):
        # Tensor.min() without a dim reduces every element to a 0-d tensor (no host sync).
        return x.min()

    def nonzero(self, x):
        return self.torch.nonzero(x).t().contiguous()

    def scatter_add_rows(self, data, rows, updates):
        return data.index_add(0, rows, updates)

    def scatter_rows(self, data, rows, updates):
        return data.index_copy(0, rows, updates)

    # Convolutional ops (NCHW / NCL), as the numpy backend.
    def conv(self, x, w, b, strides, pads, dilations, group):
        n = x.dim() - 2
        if list(pads[:n]) != list(pads[n:]):
            raise SystemExit('gpu-probe-torch: asymmetric Conv padding')
        f = self.F.conv1d if n == 1 else self.F.conv2d
        return f(x, w, b, stride=tuple(strides), padding=tuple(pads[:n]), dilation=tuple(dilations), groups=group)

    def pool(self, x, kind, k, strides):
        n = x.dim() - 2
        if kind == 'max':
            f = self.F.max_pool1d if n == 1 else self.F.max_pool2d
        else:
            f = self.F.avg_pool1d if n == 1 else self.F.avg_pool2d
        return f(x, tuple(k), tuple(strides))

    def global_pool(self, x, kind):
        dims = tuple(range(2, x.dim()))
        return self.torch.amax(x, dim=dims, keepdim=True) if kind == 'max' else x.mean(dim=dims, keepdim=True)

    def batch_norm(self, x, scale, bias, mean, var, eps):
        return self.F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)

    def flatten(self, x, axis):
        return x.flatten(axis)

    def sync(self):
        if self.dev.type == 'cuda':
            self.torch.cuda.synchronize()

    def numpy(self, x):
        return x.float().cpu().numpy()


# ---- the interpreter ----------------------------------------------------------------------

ELEMENTWISE = {'Add': lambda a, b: a + b, 'Sub': lambda a, b: a - b, 'Mul': lambda a, b: a * b, 'Div': lambda a, b: a / b}
COMPARE = {'Greater': lambda a, b: a > b, 'GreaterOrEqual': lambda a, b: a >= b, 'Less': lambda a, b: a < b, 'Or': lambda a, b: a | b}


class Graph:
    def __init__(self, spec, be):
        self.spec = spec
        self.be = be
        self.weights = {}
        for i, t in enumerate(spec['initializers']):
            self.weights[t['name']] = be.weight(t['dims'], t['scale'], t['offset'], t.get('raw'), 1000 + i)
        # Constants: int64 ones stay on the host.
        self.consts = {}
        self.scalars = {}  # float scalar constants by name, read on the host (no device sync)
        for n in spec['nodes']:
            if n['op'] == 'Constant':
                t = n['attrs']['value']
                if t['dims'] == [] and t['dtype'] == 'float32':
                    self.scalars[n['outputs'][0]] = float(t['data'][0])
                elif t['dims'] == [] and t['dtype'] == 'float16-bits':
                    import numpy as np
                    self.scalars[n['outputs'][0]] = float(np.array(t['data'], dtype=np.uint16).view(np.float16)[0])
                self.consts[n['outputs'][0]] = Host(t['data'], t['dims']) if t['dtype'] in ('int64', 'int32') else be.const(t)

    def forward(self, feeds):
        """feeds: input name -> int64 ids (an encoder-decoder has input_ids and decoder_input_ids)."""
        be = self.be
        env = dict(self.weights)
        env.update(self.consts)
        env.update(feeds)

        def val(name):
            return env[name] if name else None

        def dev(x):
            return be.to_dev(x) if isinstance(x, Host) else x

        def arg(x):
            # A one-value host tensor joins device math as a Python scalar: no host-to-device copy,
            # which a CUDA graph capture would refuse.
            return x.values[0] if isinstance(x, Host) and len(x.values) == 1 else dev(x)

        for n in self.spec['nodes']:
            op, a, ins = n['op'], n['attrs'], [val(i) for i in n['inputs']]
            if op == 'Constant':
                continue
            if op == 'Shape':
                x = ins[0]
                dims = be.shape(x)
                out = Host(dims, [len(dims)])
            elif op == 'Gather':
                x, idx, axis = ins[0], ins[1], a.get('axis', 0)
                if isinstance(x, Host) and isinstance(idx, Host):
                    out = Host([x.values[i] for i in idx.values], idx.dims)
                elif isinstance(idx, Host) and idx.dims == []:
                    out = be.select(x, axis, idx.scalar())
                elif isinstance(idx, Host) and idx.values == list(range(idx.values[0], idx.values[0] + len(idx.values))):
                    # consecutive host indices (a decode step's position): a view, no index tensor
                    shape = be.shape(x)
                    out = be.reshape(be.narrow(x, axis, idx.values[0], len(idx.values)), shape[:axis] + idx.dims + shape[axis + 1:])
                else:
                    out = be.gather(x, dev(idx), axis)
            elif op in ('Max', 'Min') and all(isinstance(x, Host) for x in ins):
                f = max if op == 'Max' else min
                out = Host([f(p, q) for p, q in zip(ins[0].values, ins[1].values)], ins[0].dims)
            elif op in ('Max', 'Min'):
                out = (be.maximum if op == 'Max' else be.minimum)(arg(ins[0]), arg(ins[1]))
            elif op == 'Div' and isinstance(ins[0], Host) and isinstance(ins[1], Host):
                # int64 Div truncates (MoR capacities: k = (2·num·S + den) div 2·den, non-negative)
                out = Host([(abs(p) // abs(q)) * (1 if (p >= 0) == (q >= 0) else -1) for p, q in zip(ins[0].values, ins[1].values)], ins[0].dims)
            elif op in ELEMENTWISE and isinstance(ins[0], Host) and isinstance(ins[1], Host):
                f = ELEMENTWISE[op]
                out = Host([f(p, q) for p, q in zip(ins[0].values, ins[1].values)], ins[0].dims)
            elif op in ELEMENTWISE:
                out = ELEMENTWISE[op](arg(ins[0]), arg(ins[1]))
            elif op in COMPARE:
                out = COMPARE[op](arg(ins[0]), arg(ins[1]))
            elif op == 'Mod':
                out = dev(ins[0]) % ins[1].scalar()
            elif op == 'Concat':
                if all(isinstance(x, Host) for x in ins):
                    out = Host([v for x in ins for v in x.values], [sum(len(x.values) for x in ins)])
                else:
                    out = be.cat([dev(x) for x in ins], a['axis'])
            elif op == 'Reshape':
                x, shape = ins[0], list(ins[1].values)
                cur = be.shape(x)
                shape = [cur[i] if s == 0 else s for i, s in enumerate(shape)]
                out = be.reshape(x, shape)
            elif op == 'Gemm':
                out = be.linear(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get('transB', 0))
            elif op == 'MatMul':
                out = ins[0] @ ins[1]
            elif op == 'LayerNormalization':
                out = be.layer_norm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get('epsilon', 1e-5))
            elif op == 'ReduceMean':
                out = be.mean(ins[0], a['axes'], bool(a.get('keepdims', 1)))
            elif op == 'Pow':
                e = self.scalars.get(n['inputs'][1])
                out = ins[0] * ins[0] if e == 2.0 else ins[0] ** (e if e is not None else ins[1])
            elif op == 'Cos':
                out = be.cos(ins[0])
            elif op == 'RotaryEmbedding':
                out = self.rotary_embedding(a, ins)
            elif op == 'Sin':
                out = be.sin(ins[0])
            elif op == 'Sqrt':
                out = be.sqrt(ins[0])
            elif op == 'Reciprocal':
                out = 1 / ins[0]
            elif op == 'Sigmoid':
                out = be.sigmoid(ins[0])
            elif op == 'Relu':
                out = be.relu(ins[0])
            elif op == 'SimplifiedLayerNormalization':
                out = be.rms_norm(ins[0], ins[1], a.get('epsilon', 1e-5))
            elif op == 'SkipSimplifiedLayerNormalization':
                s = ins[0] + ins[1]
                out = (be.rms_norm(s, ins[2], a.get('epsilon', 1e-5)), None, None, s)
            elif op == 'SkipLayerNormalization':
                s = ins[0] + ins[1]
                if len(ins) > 4 and ins[4] is not None:
                    s = s + ins[4]
                out = (be.layer_norm(s, ins[2], ins[3] if len(ins) > 3 else None, a.get('epsilon', 1e-5)), None, None, s)
            elif op == 'QuickGelu':
                out = ins[0] * be.sigmoid(ins[0] * a.get('alpha', 1.702))
            elif op in ('GroupQueryAttention', 'MultiHeadAttention'):
                out = self.attention(op, a, ins)
            elif op == 'MoE':
                out = self.moe(a, ins)
            elif op == 'Gelu':
                out = be.gelu(ins[0], False)
            elif op == 'FastGelu':
                out = be.gelu(ins[0], True)
            elif op == 'Softmax':
                out = be.softmax(ins[0], a.get('axis', -1))
            elif op == 'Transpose':
                out = be.permute(ins[0], a['perm'])
            elif op == 'Unsqueeze':
                out = be.unsqueeze(dev(ins[0]), ins[1].values)
            elif op == 'Range':
                out = be.arange(ins[0].scalar(), ins[1].scalar(), ins[2].scalar())
            elif op == 'Where':
                out = be.where(ins[0], ins[1], ins[2])
            elif op == 'Slice':
                x = ins[0]
                for s, e, ax in zip(ins[1].values, ins[2].values, ins[3].values):
                    size = be.shape(x)[ax]
                    e = min(e, size)
                    out = x = be.narrow(x, ax, s, e - s)
            elif op == 'Cast' and isinstance(ins[0], Host) and a.get('to') in (6, 7):
                out = ins[0]  # integer shape arithmetic (GroupQueryAttention's lengths) stays on the host
            elif op == 'Expand' and isinstance(ins[0], Host):
                dims = ins[1].values
                total = math.prod(dims)
                out = Host(ins[0].values * (total // len(ins[0].values)), dims)
            elif op == 'Cast':
                to = a.get('to')
                out = be.to_int32(ins[0]) if to == 6 else be.to_int64(dev(ins[0])) if to == 7 else be.to_model_float(dev(ins[0])) if to == 10 else be.to_float32(dev(ins[0]))
            elif op == 'TopK':
                out = be.topk(ins[0], ins[1].scalar(), a.get('axis', -1), bool(a.get('largest', 1)))
            elif op == 'GatherElements':
                out = be.gather_elements(ins[0], dev(ins[1]), a.get('axis', 0))
            elif op == 'Abs':
                out = be.abs(ins[0])
            elif op == 'Log':
                out = be.log(ins[0])
            elif op == 'Equal':
                out = arg(ins[0]) == arg(ins[1])
            elif op == 'ReduceSum':
                out = be.rsum(ins[0], ins[1].values, bool(a.get('keepdims', 1)))
            elif op == 'ReduceMin':
                # Only as generated weights' live mode uses it: min over every element (no axes, keepdims 0).
                if a.get('axes') or a.get('keepdims', 1):
                    raise SystemExit('gpu-probe-torch: ReduceMin is implemented over all axes with keepdims=0 only')
                out = be.amin_all(dev(ins[0]))
            elif op == 'ReduceMax':
                out = be.amax(ins[0], a['axes'], bool(a.get('keepdims', 1)))
            elif op == 'Identity':
                out = ins[0]
            elif op == 'Conv':
                nsp = len(a['kernel_shape'])
                out = be.conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get('strides', [1] * nsp), a.get('pads', [0] * 2 * nsp), a.get('dilations', [1] * nsp), a.get('group', 1))
            elif op in ('MaxPool', 'AveragePool'):
                if any(a.get('pads', [0])):
                    raise SystemExit(f'gpu-probe-torch: padded {op} is not implemented')
                out = be.pool(ins[0], 'max' if op == 'MaxPool' else 'avg', a['kernel_shape'], a.get('strides', [1] * len(a['kernel_shape'])))
            elif op in ('GlobalAveragePool', 'GlobalMaxPool'):
                out = be.global_pool(ins[0], 'max' if op == 'GlobalMaxPool' else 'avg')
            elif op == 'BatchNormalization':
                out = be.batch_norm(ins[0], ins[1], ins[2], ins[3], ins[4], a.get('epsilon', 1e-5))
            elif op == 'Flatten':
                out = be.flatten(ins[0], a.get('axis', 1))
            elif op == 'NonZero':
                out = be.nonzero(ins[0])
            elif op == 'GatherND':
                out = ins[0][ins[1][:, 0]]
            elif op == 'ScatterND' and a.get('reduction', 'none') == 'none':
                out = be.scatter_rows(ins[0], ins[1][:, 0], ins[2])  # MoR routing writes its distinct rows back
            elif op == 'ScatterND':
                out = be.scatter_add_rows(ins[0], ins[1][:, 0], ins[2])
            else:
                raise SystemExit(f'gpu-probe-torch: op {op} is not implemented')
            if isinstance(out, tuple):
                for name, o in zip(n['outputs'], out):
                    env[name] = o
            else:
                env[n['outputs'][0]] = out
        return env[self.spec['outputs'][0]]

    def moe(self, a, ins):
        """com.microsoft MoE as ONNX Runtime's CPU kernel computes it (contrib_ops/cpu/moe/moe_cpu.cc):
        softmax over ALL experts' router_probs (in float32), the top k, divided by their sum when
        normalize_routing_weights; per expert, on the rows that chose it, fc1 [E, fc1_out, d]
        (transposed, + bias), the activation (gelu is the tanh form; swiglu reads interleaved fc1
        rows: gate 2j, linear 2j+1, min(g, limit)·σ(alpha·g)·(clamp(u, ±limit) + beta)), fc2
        [E, d, f] (+ bias), scaled by the gate and summed. FC3 (a third bank) is not supported,
        as on ORT's CPU provider."""
        be = self.be
        ins = list(ins) + [None] * (8 - len(ins))
        x, logits, w1, b1, w2, b2 = ins[:6]
        if ins[6] is not None:
            raise SystemExit('gpu-probe-torch: MoE with fc3 weights is not implemented')
        if a.get('use_sparse_mixer', 0):
            raise SystemExit('gpu-probe-torch: MoE with use_sparse_mixer is not implemented')
        act = a['activation_type']
        k = a['k']
        shape = be.shape(x)
        d = shape[-1]
        experts = be.shape(logits)[-1]
        x2 = be.reshape(x, [-1, d])
        probs = be.softmax(be.to_float32(be.reshape(logits, [-1, experts])), -1)
        top, idx = be.topk(probs, k, -1)
        if a.get('normalize_routing_weights', 0):
            top = top / be.rsum(top, [1], True)
        out = x2 * 0
        for e in range(experts):
            gate = be.rsum(top * be.to_float32(idx == e), [1], False)  # [T]: the token's weight for e, 0 when not chosen
            rows = be.nonzero(gate > 0)[0]
            if be.shape(rows)[0] == 0:
                continue
            h = be.linear(be.gather(x2, rows, 0), w1[e], b1[e] if b1 is not None else None, 1)
            if act == 'swiglu':
                if not a.get('swiglu_fusion', 0) == 1:
                    raise SystemExit('gpu-probe-torch: MoE swiglu is implemented for interleaved fc1 (swiglu_fusion = 1) only')
                limit = a.get('swiglu_limit', float('inf'))
                g = be.minimum(h[:, 0::2], limit)
                u = be.minimum(be.maximum(h[:, 1::2], -limit), limit)
                h = g * be.sigmoid(g * a.get('activation_alpha', 1.0)) * (u + a.get('activation_beta', 0.0))
            elif act == 'relu':
                h = be.relu(h)
            elif act == 'silu':
                h = h * be.sigmoid(h)
            elif act == 'gelu':
                h = be.gelu(h, True)
            elif act != 'identity':
                raise SystemExit(f'gpu-probe-torch: MoE activation {act} is not implemented')
            y = be.linear(h, w2[e], b2[e] if b2 is not None else None, 1)
            w = be.to_model_float(be.unsqueeze(be.gather(gate, rows, 0), [1]))
            out = be.scatter_add_rows(out, rows, y * w)
        return be.reshape(out, shape)

    def attention(self, op, a, ins):
        """com.microsoft GroupQueryAttention (causal; past_key/past_value [B, KV, L, hd] before the
        new tokens; seqlens_k and total_sequence_length are implied by the shapes: no padding) and
        MultiHeadAttention (bidirectional, q/k/v [B, S, H·hd])."""
        be = self.be
        heads = a['num_heads']
        kv_heads = a.get('kv_num_heads', heads)
        q, k, v = ins[0], ins[1], ins[2]
        b, s, width = be.shape(q)
        hd = width // heads
        t = be.shape(k)[1]
        qh = be.permute(be.reshape(q, [b, s, heads, hd]), [0, 2, 1, 3])
        kh = be.permute(be.reshape(k, [b, t, kv_heads, hd]), [0, 2, 1, 3])
        vh = be.permute(be.reshape(v, [b, t, kv_heads, hd]), [0, 2, 1, 3])
        scale = a.get('scale', 0.0) or 1 / math.sqrt(hd)
        if op == 'MultiHeadAttention':
            y = be.attention(qh, kh, vh, scale, False, -1)
            return be.reshape(be.permute(y, [0, 2, 1, 3]), [b, s, heads * hd])
        past_len = be.shape(ins[3])[2] if len(ins) > 4 and ins[3] is not None else 0
        if a.get('do_rotary', 0):
            # do_rotary: q and the new k rotate at positions past_len.. (seqlens_k of a decode
            # step; 0.. in a prefill), reading rows of cos_cache/sin_cache [rows, rotary_dim/2].
            if a.get('rotary_interleaved', 0):
                raise SystemExit('gpu-probe-torch: interleaved rotary is not implemented')
            cos, sin = ins[7], ins[8]
            rd = be.shape(cos)[1] * 2
            c, sn = be.narrow(cos, 0, past_len, s), be.narrow(sin, 0, past_len, s)
            qh, kh = self.rotate(qh, c, sn, rd), self.rotate(kh, c, sn, rd)
        if past_len:
            kh = be.cat([ins[3], kh], 2)
            vh = be.cat([ins[4], vh], 2)
        y = be.attention(qh, kh, vh, scale, True, a.get('local_window_size', -1))
        return be.reshape(be.permute(y, [0, 2, 1, 3]), [b, s, heads * hd]), kh, vh

    def rotate(self, x, cos, sin, rd):
        """Rotate-half (GPT-NeoX / Llama) of x [B, N, S, hd] on its first rd dims with cos, sin
        [S, rd/2] (row s is token s's angle); the other dims pass through."""
        be = self.be
        hd, half = be.shape(x)[3], rd // 2
        c, sn = be.unsqueeze(cos, [0, 1]), be.unsqueeze(sin, [0, 1])
        x1, x2 = be.narrow(x, 3, 0, half), be.narrow(x, 3, half, half)
        parts = [x1 * c - x2 * sn, x2 * c + x1 * sn]
        if rd < hd:
            parts.append(be.narrow(x, 3, rd, hd - rd))
        return be.cat(parts, 3)

    def rotary_embedding(self, a, ins):
        """com.microsoft RotaryEmbedding on x [B, S, N·hd] with one position offset (token s at
        offset + s), cos/sin caches [rows, rotary_dim/2], rotate-half (interleaved 0)."""
        be = self.be
        x, pos, cos, sin = ins[0], ins[1], ins[2], ins[3]
        if a.get('interleaved', 0):
            raise SystemExit('gpu-probe-torch: interleaved RotaryEmbedding is not implemented')
        if not (isinstance(pos, Host) and len(pos.values) == 1):
            raise SystemExit('gpu-probe-torch: RotaryEmbedding with per-token position_ids is not implemented')
        b, s, width = be.shape(x)
        heads = a['num_heads']
        hd = width // heads
        rd = a.get('rotary_embedding_dim', 0) or be.shape(cos)[1] * 2
        off = int(pos.values[0])
        xh = be.permute(be.reshape(x, [b, s, heads, hd]), [0, 2, 1, 3])
        y = self.rotate(xh, be.narrow(cos, 0, off, s), be.narrow(sin, 0, off, s), rd)
        return be.reshape(be.permute(y, [0, 2, 1, 3]), [b, s, width])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('graph')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--seq', type=int, default=128)
    ap.add_argument('--src-seq', type=int, default=None, help="an encoder-decoder's source length (input_ids); default: --seq, as the engine's src_seq")
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--backend', default='torch', choices=['torch', 'numpy'])
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--ids-mod', type=int, default=None, help='token ids below this (the vocabulary); default: the first embedding rows')
    ap.add_argument('--print-output', action='store_true')
    args = ap.parse_args()
    with open(args.graph) as f:
        spec = json.load(f)
    be = NumpyBackend(spec['dtype']) if args.backend == 'numpy' else TorchBackend(spec['dtype'], args.device)
    graph = Graph(spec, be)
    vocab = args.ids_mod or spec['initializers'][0]['dims'][0]
    # One int64 tensor per graph input ([batch, seq]; an encoder-decoder's input_ids is
    # [batch, src_seq]; a decode step's [B, 1] is fixed). Same ids as the probe host:
    # (i * 2654435761) mod vocab for prefill, (i * 7919 + 1) for decode.
    ids = {}
    for inp in spec['inputs']:
        fixed = inp['dims']
        decode = all(isinstance(d, int) for d in fixed)
        length = args.src_seq or args.seq if fixed[1] == 'src_seq' else args.seq
        b, s = (fixed[0], fixed[1]) if decode else (args.batch, length)
        data = [((i * 7919 + 1) if decode else (i * 2654435761)) % vocab for i in range(b * s)]
        ids[inp['name']] = be.ids(data, [b, s])
        if inp['name'] != 'input_ids' or len(spec['inputs']) == 1:
            batch, seq = b, s  # the target stream's shape is the one reported
    result = {'model': spec['model'], 'backend': args.backend, 'device': args.device, 'dtype': spec['dtype'], 'batch': batch, 'seq': seq}
    if args.backend == 'torch':
        import torch
        result['torch'] = torch.__version__
        if args.device == 'cuda':
            result['gpu'] = torch.cuda.get_device_name(0)
        ctx = torch.inference_mode()
        ctx.__enter__()
    out = None
    for _ in range(max(1, args.warmup)):
        out = graph.forward(ids)
    be.sync()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        out = graph.forward(ids)
        be.sync()
        times.append((time.perf_counter() - t) * 1e3)
    result['eagerMs'] = statistics.median(times)
    result['eagerMinMs'] = min(times)
    if args.backend == 'torch' and args.device == 'cuda':
        import torch
        try:
            static_ids = {k: v.clone() for k, v in ids.items()}
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(2):
                    graph.forward(static_ids)
            torch.cuda.current_stream().wait_stream(s)
            cg = torch.cuda.CUDAGraph()
            with torch.cuda.graph(cg):
                static_out = graph.forward(static_ids)
            for _ in range(3):
                cg.replay()
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            gt = []
            for _ in range(args.runs):
                start.record()
                cg.replay()
                end.record()
                end.synchronize()
                gt.append(start.elapsed_time(end))
            result['graphMs'] = statistics.median(gt)
            result['graphMinMs'] = min(gt)
            out = static_out
        except Exception as e:  # capture is an optimisation; eager timing still stands
            result['graphError'] = str(e).splitlines()[0][:300]
        result['gpuMemoryBytes'] = torch.cuda.max_memory_allocated()
    if args.print_output:
        result['output'] = [float(v) for v in be.numpy(out).reshape(-1)]
    print(json.dumps(result))


if __name__ == '__main__':
    sys.exit(main())
