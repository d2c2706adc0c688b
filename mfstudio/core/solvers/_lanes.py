"""Dot products summed in four SIMD lanes, in an order fixed in the source (numba intrinsics).

A dot x . v of length K is summed here as: lane l (l = 0..3) the sum of x[k] * v[k] for k = l, l + 4, ...
below top = K - K mod 4, in that order; then (l0 + l1) + (l2 + l3); then the last K mod 4 terms in order.
The four lanes are one 4-wide vector register, so a dot runs four products at a time, yet each lane's
products and sums are the scalar ones in a fixed order: the bits are those of that scalar recipe whatever
the compiler inlines or the thread that runs it. fastmath's ``reassoc`` would give the compiler the same
speed but lets it choose the order anew in each context a loop is compiled in (inlined or not, cached or
not), which changed results between processes; these intrinsics never leave the order to the compiler.
Rows are read as one block of memory: every array is C-contiguous float64 (anything else is a typing error).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from mfstudio.core import _cache_guard  # noqa: F401  (before anything compiles)

_OPTS = dict(cache=True, nogil=True)


def _is_matrix(arr, ndim: int) -> bool:
    return (isinstance(arr, types.Array) and arr.ndim == ndim and arr.layout == "C"
            and arr.dtype == types.float64)


def _row_pointer(context, builder, ty, arr, idx, idx_ty):
    """A pointer to the first double of row ``idx`` (of integer type ``idx_ty``) of a 2-D array."""
    a = context.make_array(ty)(context, builder, arr)
    stride = cgutils.unpack_tuple(builder, a.strides, 2)[0]
    idx = context.cast(builder, idx, idx_ty, types.intp)
    start = builder.gep(builder.bitcast(a.data, ir.IntType(8).as_pointer()), [builder.mul(idx, stride)])
    return builder.bitcast(start, ir.DoubleType().as_pointer())


def _lane_sums(builder, pairs, n4):
    """For each (x, v) pointer pair, the four-lane sum of x[k] * v[k] over k < 4 n4, lanes then reduced."""
    dbl = ir.DoubleType()
    vec = ir.VectorType(dbl, 4)
    accs = [cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * 4)) for _ in pairs]
    with cgutils.for_range(builder, n4) as loop:
        k = builder.mul(loop.index, ir.Constant(loop.index.type, 4))
        for (px, pv), acc in zip(pairs, accs):
            a = builder.load(builder.bitcast(builder.gep(px, [k]), vec.as_pointer()), align=8)
            b = builder.load(builder.bitcast(builder.gep(pv, [k]), vec.as_pointer()), align=8)
            builder.store(builder.fadd(builder.load(acc), builder.fmul(a, b)), acc)
    out = []
    for acc in accs:
        s = builder.load(acc)
        lane = [builder.extract_element(s, ir.Constant(ir.IntType(32), n)) for n in range(4)]
        out.append(builder.fadd(builder.fadd(lane[0], lane[1]), builder.fadd(lane[2], lane[3])))
    return out


@intrinsic
def _four_lanes(typingctx, X, u, Y, j, n4):
    """The lanes of X[u] . Y[j] over the first 4 n4 terms (X, Y 2-D)."""
    if not (_is_matrix(X, 2) and _is_matrix(Y, 2)):
        return None
    sig = types.float64(X, u, Y, j, n4)

    def codegen(context, builder, signature, args):
        xv, uv, yv, jv, nv = args
        px = _row_pointer(context, builder, signature.args[0], xv, uv, signature.args[1])
        py = _row_pointer(context, builder, signature.args[2], yv, jv, signature.args[3])
        return _lane_sums(builder, [(px, py)], nv)[0]

    return sig, codegen


@intrinsic
def _rows_lanes(typingctx, Y, rows, v, n4):
    """The lanes of Y[r] . v for each index r of the tuple ``rows`` (Y 2-D, v 1-D), as a tuple."""
    if not (_is_matrix(Y, 2) and _is_matrix(v, 1) and isinstance(rows, types.UniTuple)
            and isinstance(rows.dtype, types.Integer)):
        return None
    sig = types.UniTuple(types.float64, rows.count)(Y, rows, v, n4)

    def codegen(context, builder, signature, args):
        yv, rv, vv, nv = args
        vec_ty = signature.args[2]
        pv = builder.bitcast(context.make_array(vec_ty)(context, builder, vv).data, ir.DoubleType().as_pointer())
        pairs = [(_row_pointer(context, builder, signature.args[0], yv, r, rows.dtype), pv)
                 for r in cgutils.unpack_tuple(builder, rv, rows.count)]
        return context.make_tuple(builder, signature.return_type, _lane_sums(builder, pairs, nv))

    return sig, codegen


@njit(inline="always", **_OPTS)
def dot_lanes(P, u, Qt, i):
    """P[u] . Qt[i] (u, i unsigned) in four lanes, then the last K mod 4 terms in order."""
    K = np.uint64(P.shape[1])
    top = K - K % np.uint64(4)
    s = _four_lanes(P, u, Qt, i, top // np.uint64(4))
    k = top
    while k < K:
        s += P[u, k] * Qt[i, k]
        k += np.uint64(1)
    return s


@njit(inline="always", **_OPTS)
def dot_row(Y, r, v):
    """Y[r] . v in four lanes, then the last K mod 4 terms in order."""
    K = v.shape[0]
    top = K - K % 4
    (s,) = _rows_lanes(Y, (r,), v, top // 4)
    for k in range(top, K):
        s += Y[r, k] * v[k]
    return s


@njit(inline="always", **_OPTS)
def dot_rows4(Y, r0, r1, r2, r3, v):
    """(Y[r0] . v, ..., Y[r3] . v), each as :func:`dot_row` (the four dots share the loop and v's loads)."""
    K = v.shape[0]
    top = K - K % 4
    s0, s1, s2, s3 = _rows_lanes(Y, (r0, r1, r2, r3), v, top // 4)
    for k in range(top, K):
        vk = v[k]
        s0 += Y[r0, k] * vk
        s1 += Y[r1, k] * vk
        s2 += Y[r2, k] * vk
        s3 += Y[r3, k] * vk
    return s0, s1, s2, s3
