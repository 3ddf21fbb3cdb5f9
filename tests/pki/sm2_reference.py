"""A textbook SM2 verifier over any prime curve (affine arithmetic), for standard vectors only.

Independent of Tongsuo: it checks the GB/T 32918.2 Annex A example on its own 256-bit example
curve, which no library curve table holds. Slow and not constant-time; tests only.
"""

from __future__ import annotations

from pki.sm2 import Curve

Point = tuple[int, int] | None


def _add(curve: Curve, p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % curve.p == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, curve.p)
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, curve.p)
    x3 = (slope * slope - x1 - x2) % curve.p
    return x3, (slope * (x1 - x3) - y1) % curve.p


def multiply(curve: Curve, k: int, point: Point) -> Point:
    result: Point = None
    addend = point
    while k:
        if k & 1:
            result = _add(curve, result, addend)
        addend = _add(curve, addend, addend)
        k >>= 1
    return result


def verify_e(curve: Curve, public: tuple[int, int], e: bytes, r: int, s: int) -> bool:
    """GB/T 32918.2 section 7.1 steps B1-B7 on a ready e = SM3(Z || M)."""
    if not (0 < r < curve.n and 0 < s < curve.n):
        return False
    t = (r + s) % curve.n
    if t == 0:
        return False
    point = _add(curve, multiply(curve, s, (curve.gx, curve.gy)), multiply(curve, t, public))
    if point is None:
        return False
    return (int.from_bytes(e, "big") + point[0]) % curve.n == r
