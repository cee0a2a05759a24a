"""Least squares for the controller's online models (beer_model, air_share): the
normal equations of a fit that forgets, and a small linear solver."""

from __future__ import annotations


class ForgettingNormalEquations:
    """X'X, X'y and y'y of a least-squares fit in which every sample weighs
    ``keep`` times less with each newer one (exponential forgetting), and
    ``count``, the effective number of samples so weighted."""

    def __init__(self, size: int, keep: float) -> None:
        self.xx = [[0.0] * size for _ in range(size)]
        self.xy = [0.0] * size
        self.yy = 0.0
        self.count = 0.0
        self._keep = keep

    def add(self, x: list[float], y: float) -> None:
        keep = self._keep
        for i, xi in enumerate(x):
            self.xy[i] = keep * self.xy[i] + xi * y
            row = self.xx[i]
            for j, xj in enumerate(x):
                row[j] = keep * row[j] + xi * xj
        self.yy = keep * self.yy + y * y
        self.count = keep * self.count + 1.0

    def xx_plus_diagonal(self, diagonal: list[float]) -> list[list[float]]:
        """A copy of X'X with ``diagonal`` added (a ridge, or a prior's precision)."""
        a = [row[:] for row in self.xx]
        for i, d in enumerate(diagonal):
            a[i][i] += d
        return a


def solve_linear(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Solve a small linear system by Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x
