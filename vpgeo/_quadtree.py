"""Exact nearest segment for many points: a quadtree of candidate segments over the points.

The points are put in Z (Morton) order over one square; each cell of the quadtree keeps the segments that
can hold the nearest point of *some* point in it, and hands them to its children, which prune them again.
A cell stops splitting when it holds few points or few candidates; its points are then measured exactly
against its candidates only (the same point-segment formula GEOS uses). The pruning is a proof, so the
answer is exact:

For a cell of centre ``c`` and half side ``s`` (``h = s·√2`` its half diagonal) and a point ``p = c + v``
in it (``|v|∞ ≤ s``), let ``σ*`` be the candidate nearest to ``c`` (distance ``D``) and ``σ`` any candidate
at ``d_σ`` from ``c``, with unit gradients ``g*`` and ``g_σ`` of the two distance functions at ``c``.

* Lipschitz: ``d(p, σ) ≥ d_σ − h`` and ``d(p, σ*) ≤ D + h``, so ``σ`` can be nearest only if
  ``d_σ − D ≤ 2h``;
* shape: a distance to a segment is convex, so ``d(p, σ) ≥ d_σ + g_σ·v``; and with ``q`` the point of ``σ*``
  nearest to ``c``, ``d(p, σ*) ≤ |p − q| = √(D² + 2D g*·v + |v|²) ≤ D + g*·v + |v|²/(2D)``. So ``σ`` can
  be nearest only if ``d_σ − D ≤ s·‖g* − g_σ‖₁ + s²/D``.

Far from a line the second test keeps only the segments within about ``3.4·s`` of the foot of the
perpendicular (the Voronoi strips of the segments crossing the cell), whatever the distance: the reason a
quadtree over the *points* beats a k-d tree over the vertices, whose search ball meets ever more leaves
along a dense line as the points get farther. Work grows with the points, not with the vertices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

BITS = 21  # quadtree depth limit: cells down to side / 2**21 (3 cm over a 60 km square)
_BIG = np.iinfo(np.intp).max
_REFINE_PAIRS = 1 << 16  # (point, segment) pairs measured per batch: bounds the temporaries
_PRUNE_PAIRS = 1 << 16  # pairs tested per block: the block's arrays stay in the CPU cache
SPLIT_POINTS = 4  # a cell with more points than this is split ...
SPLIT_CANDIDATES = 8  # ... while it has more candidates than this (measured best, bench_nearest.py)
ALONE_POINTS = 1  # a child with this many points is measured on its parent's candidates, not pruned


def _spread(v: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Spread the low 32 bits of ``v`` to the even bits of a 64-bit word (Morton interleave)."""
    x = v.astype(np.uint64)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


@dataclass(frozen=True)
class ZOrder:
    """Points in Z order over one square (shared by every line measured from them).

    ``order`` sorts the points; ``ix``/``iy`` are their integer cells at the finest level, in that order.
    """

    order: IntArray
    ix: NDArray[np.int64]
    iy: NDArray[np.int64]
    x0: float
    y0: float
    width: float

    @classmethod
    def of(cls, px: FloatArray, py: FloatArray) -> ZOrder:
        if px.size == 0:
            e = np.empty(0, dtype=np.int64)
            return cls(np.empty(0, dtype=np.intp), e, e, 0.0, 0.0, 1.0)
        x0, y0 = float(px.min()), float(py.min())
        width = max(float(px.max()) - x0, float(py.max()) - y0) * (1 + 1e-9) + 1e-6
        scale = (1 << BITS) / width
        ix = np.minimum(((px - x0) * scale).astype(np.int64), (1 << BITS) - 1)
        iy = np.minimum(((py - y0) * scale).astype(np.int64), (1 << BITS) - 1)
        code = _spread(ix) | (_spread(iy) << np.uint64(1))
        order = np.argsort(code).astype(np.intp)  # ties (one finest cell) may go either way
        return cls(order, ix[order], iy[order], x0, y0, width)

    def batch(self, start: int, stop: int) -> ZOrder:
        """Points ``start:stop`` of this order, given already sorted (a compact patch of the square)."""
        return ZOrder(np.arange(stop - start), self.ix[start:stop], self.iy[start:stop], self.x0, self.y0, self.width)


class QuadSegments:
    """The segments of one line (or several, by label), measured through a quadtree over the points."""

    def __init__(self, a: FloatArray, b: FloatArray, label: IntArray) -> None:
        self.size = len(a)
        self.label = np.asarray(label, dtype=np.intp)
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        l2 = self.dx**2 + self.dy**2
        # 1/L² with 0 for zero-length segments, whose nearest point is then their start (t = 0).
        self.inv_l2 = np.divide(1.0, l2, out=np.zeros_like(l2), where=l2 > 0)
        # One (5, S) block: a single take() fetches a pair's segment, three times faster than five gathers.
        self.packed = np.ascontiguousarray(np.stack([self.ax, self.ay, self.dx, self.dy, self.inv_l2]))

    def _offset(self, px: FloatArray, py: FloatArray, seg: IntArray) -> tuple[FloatArray, FloatArray]:
        """Vector from the nearest point of segment ``seg[j]`` to point j."""
        ax, ay, dx, dy, inv_l2 = np.take(self.packed, seg, axis=1)
        ex, ey = px - ax, py - ay
        t = (ex * dx + ey * dy) * inv_l2
        np.clip(t, 0.0, 1.0, out=t)
        ex -= t * dx
        ey -= t * dy
        return ex, ey

    def query(
        self, px: FloatArray, py: FloatArray, bound: float | None = None, zorder: ZOrder | None = None
    ) -> tuple[FloatArray, IntArray]:
        """Exact distance from each point to these segments and the nearest one's label (lowest on ties).

        With ``bound``, points farther than it get ``inf`` and -1. ``zorder`` (of these points) may be
        shared between lines.
        """
        z = ZOrder.of(px, py) if zorder is None else zorder
        n = px.size
        dist, line = np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
        if n == 0 or self.size == 0:
            return dist, line
        sx, sy = px[z.order], py[z.order]
        sd, sl = np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
        _Descent(self, z, sx, sy, bound, sd, sl).run()
        dist[z.order], line[z.order] = sd, sl
        if bound is not None:
            far = dist > bound
            dist[far], line[far] = np.inf, -1
        return dist, line


class _Descent:
    """One top-down pass: cells of one level, their candidate (cell, segment) pairs, their points."""

    def __init__(
        self,
        segs: QuadSegments,
        z: ZOrder,
        px: FloatArray,
        py: FloatArray,
        bound: float | None,
        dist: FloatArray,
        line: IntArray,
    ) -> None:
        self.segs, self.z, self.px, self.py, self.bound = segs, z, px, py, bound
        self.dist, self.line = dist, line

    def run(self) -> None:
        n = self.px.size
        pts = np.arange(n)  # points still to answer (positions in Z order), grouped by cell
        first = np.array([0], dtype=np.intp)  # index in ``pts`` of each cell's first point
        pair_cell = np.zeros(self.segs.size, dtype=np.intp)  # candidate pairs, grouped by cell
        pair_seg = np.arange(self.segs.size)
        level = 0
        while True:
            pair_cell, pair_seg = self._prune(level, pts[first], pair_cell, pair_seg)
            counts = np.diff(np.append(first, pts.size))
            n_cand = np.bincount(pair_cell, minlength=first.size)
            split = (counts > SPLIT_POINTS) & (n_cand > SPLIT_CANDIDATES) & (level < BITS)
            in_leaf = np.repeat(~split, counts)
            cell_of = np.repeat(np.arange(first.size), counts)
            if in_leaf.any():
                self._refine(pts[in_leaf], cell_of[in_leaf], pair_seg, n_cand)
            if not split.any():
                return
            level += 1
            pts, parent, first = self._children(level, pts[~in_leaf], cell_of[~in_leaf], pair_seg, n_cand)
            if not pts.size:
                return
            pair_cell, pair_seg = self._inherit(split, parent.take(first), pair_cell, pair_seg, n_cand)

    def _children(
        self, level: int, pts: IntArray, parent: IntArray, pair_seg: IntArray, n_cand: IntArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        """The points of the split cells grouped into their children (runs of cell codes at ``level`` within
        each parent): the points left, their parent cell, and each child's first point."""
        shift = BITS - level
        key = ((self.z.ix[pts] >> shift) << 1 | (self.z.iy[pts] >> shift) & 1) & 3
        new = np.flatnonzero(np.r_[True, (parent[1:] != parent[:-1]) | (key[1:] != key[:-1])])
        size = np.diff(np.append(new, pts.size))
        # A child of ALONE_POINTS points or fewer: measuring them on the parent's candidates beats pruning.
        alone = np.repeat(size <= ALONE_POINTS, size)
        if alone.any():
            self._refine(pts[alone], parent[alone], pair_seg, n_cand)
            pts, parent, key = pts[~alone], parent[~alone], key[~alone]
            new = np.flatnonzero(np.r_[True, (parent[1:] != parent[:-1]) | (key[1:] != key[:-1])])
        return pts, parent, new

    def _prune(
        self, level: int, cell_pt: IntArray, pair_cell: IntArray, pair_seg: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Keep the pairs whose segment can be nearest to some point of the cell, in blocks of whole cells
        (blocks that fit in the CPU cache: twice as fast as one pass over every pair)."""
        side = self.z.width / (1 << level)
        shift = BITS - level
        cx = np.asarray(self.z.x0 + ((self.z.ix[cell_pt] >> shift) + 0.5) * side, dtype=np.float64)
        cy = np.asarray(self.z.y0 + ((self.z.iy[cell_pt] >> shift) + 0.5) * side, dtype=np.float64)
        s = side / 2 * (1 + 1e-9) + 1e-6  # rounding of the cell index: a point may sit a hair outside
        if not pair_cell.size:
            return pair_cell, pair_seg
        cuts = np.searchsorted(pair_cell, pair_cell[np.arange(_PRUNE_PAIRS, pair_cell.size, _PRUNE_PAIRS)])
        kept = [
            self._prune_block(cx, cy, s, c, g)
            for c, g in zip(np.split(pair_cell, cuts), np.split(pair_seg, cuts), strict=True)
            if c.size
        ]
        return np.concatenate([k[0] for k in kept]), np.concatenate([k[1] for k in kept])

    def _prune_block(
        self, cx: FloatArray, cy: FloatArray, s: float, pair_cell: IntArray, pair_seg: IntArray
    ) -> tuple[IntArray, IntArray]:
        """The tests of the module notes on one block of pairs (cell centres ``cx``, ``cy`` by cell)."""
        edge = np.empty(pair_cell.size, dtype=bool)
        edge[0], edge[1:] = True, pair_cell[1:] != pair_cell[:-1]
        starts = np.flatnonzero(edge)
        cnt = np.diff(np.append(starts, pair_cell.size))  # pairs of each cell (run) of the block
        cells = pair_cell.take(starts)
        # Per-cell values are spread to the pairs with repeat(): three times faster than a gather.
        ex, ey = self.segs._offset(np.repeat(cx.take(cells), cnt), np.repeat(cy.take(cells), cnt), pair_seg)
        d = np.sqrt(ex * ex + ey * ey)  # not np.hypot: ten times slower, and no overflow to guard against
        big_d = np.repeat(np.minimum.reduceat(d, starts), cnt)
        # Any segment at distance D serves as σ*: take the last one of each run.
        star = np.maximum.reduceat(np.where(d == big_d, np.arange(d.size), -1), starts)
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
        gx, gy = ex * inv, ey * inv
        lim = np.abs(np.repeat(gx.take(star), cnt) - gx)
        lim += np.abs(np.repeat(gy.take(star), cnt) - gy)
        lim *= s
        lim += s * s * np.divide(1.0, big_d, out=np.full_like(big_d, np.inf), where=big_d > 0)
        np.minimum(lim, 2.0 * np.sqrt(2.0) * s, out=lim)
        lim += 1e-9 * (big_d + s) + 1e-6  # float rounding: keep rather than lose a candidate
        keep = d - big_d <= lim
        if self.bound is not None:
            keep &= d - np.sqrt(2.0) * s <= self.bound + 1e-6
        at = np.flatnonzero(keep)
        return pair_cell.take(at), pair_seg.take(at)

    def _inherit(
        self, split: NDArray[np.bool_], parent: IntArray, pair_cell: IntArray, pair_seg: IntArray, n_cand: IntArray
    ) -> tuple[IntArray, IntArray]:
        """The pairs of the children: each child starts with its parent's candidates."""
        start = np.zeros(n_cand.size + 1, dtype=np.intp)
        np.cumsum(n_cand, out=start[1:])
        cnt = n_cand[parent]
        base = np.cumsum(cnt) - cnt
        seg = pair_seg.take(np.repeat(start.take(parent) - base, cnt) + np.arange(int(cnt.sum())))
        return np.repeat(np.arange(parent.size), cnt), seg

    def _refine(self, pts: IntArray, cells: IntArray, pair_seg: IntArray, n_cand: IntArray) -> None:
        """Exact distance from each point to its cell's candidates; the nearest, lowest label on ties."""
        start = np.zeros(n_cand.size + 1, dtype=np.intp)
        np.cumsum(n_cand, out=start[1:])
        cnt_all = n_cand[cells]
        keep = cnt_all > 0  # a cell whose candidates are all beyond the bound: its points stay at inf
        pts, cells, cnt_all = pts[keep], cells[keep], cnt_all[keep]
        edges = np.searchsorted(np.cumsum(cnt_all), np.arange(_REFINE_PAIRS, int(cnt_all.sum()), _REFINE_PAIRS))
        for p, c, cnt in zip(np.split(pts, edges), np.split(cells, edges), np.split(cnt_all, edges), strict=True):
            if not p.size:
                continue
            base = np.cumsum(cnt) - cnt
            row = np.repeat(p, cnt)
            seg = pair_seg.take(np.repeat(start.take(c) - base, cnt) + np.arange(int(cnt.sum())))
            ex, ey = self.segs._offset(self.px.take(row), self.py.take(row), seg)
            d2 = ex * ex + ey * ey
            best = np.minimum.reduceat(d2, base)
            lab = np.where(d2 == np.repeat(best, cnt), self.segs.label[seg], _BIG)
            self.dist[p] = np.sqrt(best)
            self.line[p] = np.minimum.reduceat(lab, base)
