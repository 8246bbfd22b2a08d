from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

def median(values: npt.NDArray[np.float64], /) -> float | None: ...
def row_medians(rows: npt.NDArray[np.float64], out: npt.NDArray[np.float64], /) -> bool: ...
def prefix_medians(
    y: npt.NDArray[np.float64], first: int, out: npt.NDArray[np.float64], /
) -> bool: ...
def segment(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    pen: float,
    min_size: int,
    max_segments: int,
    fixed: tuple[int, ...],
    /,
) -> list[int]: ...
def mean(values: npt.NDArray[np.float64], /) -> float | None: ...
def ptp(values: npt.NDArray[np.float64], /) -> float | None: ...
def centred(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    dx: npt.NDArray[np.float64],
    dy: npt.NDArray[np.float64],
    /,
) -> tuple[float, float] | None: ...
def row_means(rows: npt.NDArray[np.float64], out: npt.NDArray[np.float64], /) -> bool: ...
def winsorise(
    values: npt.NDArray[np.float64], scale: float, out: npt.NDArray[np.float64], /
) -> int: ...
def winsorise_running(
    values: npt.NDArray[np.float64], w: int, scale: float, out: npt.NDArray[np.float64], /
) -> int: ...
def winsorise_line(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    level: float,
    slope: float,
    scale: float,
    out: npt.NDArray[np.float64],
    /,
) -> int: ...
def quantiles(
    values: npt.NDArray[np.float64], qs: tuple[float, ...], /
) -> tuple[float, ...] | None: ...
def rank_autocorrelation(order: npt.NDArray[np.int64], out: npt.NDArray[np.float64], /) -> bool: ...
def moving_median(
    y: npt.NDArray[np.float64], window: int, out: npt.NDArray[np.float64], /
) -> bool: ...
def trailing_median(
    y: npt.NDArray[np.float64], w: int, out: npt.NDArray[np.float64], /
) -> bool: ...
def d2_median(y: npt.NDArray[np.float64], lag: int, /) -> float | None: ...
def local_noise(
    y: npt.NDArray[np.float64], window: int, out: npt.NDArray[np.float64], /
) -> bool: ...
def tiled_path(
    x: npt.NDArray[np.float64],
    pieces: Sequence[tuple[int, int, float, float]],
    out: npt.NDArray[np.float64],
    /,
) -> bool: ...
def block_spread(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    bx: npt.NDArray[np.float64],
    by: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    out: npt.NDArray[np.float64],
    /,
) -> bool: ...
def noise_model(
    y: npt.NDArray[np.float64],
    window: int,
    resolution: float,
    local: npt.NDArray[np.float64],
    smooth: npt.NDArray[np.float64],
    robust: npt.NDArray[np.float64],
    /,
) -> tuple[float, float, float, float] | None: ...
def many_distinct(values: npt.NDArray[np.float64], /) -> bool | None: ...
def equal_runs(y: npt.NDArray[np.float64], k: int, /) -> tuple[list[int], list[int]] | None: ...
def first_alternation(
    values: npt.NDArray[np.float64], bar: float, min_flips: int, share: float, /
) -> tuple[int, int] | None: ...
def local_lines(
    xc: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    fit_to: npt.NDArray[np.float64],
    phase: npt.NDArray[np.int64],
    h: int,
    out: npt.NDArray[np.float64],
    /,
) -> bool: ...
def best_ab(
    sf: npt.NDArray[np.float64],
    sff: npt.NDArray[np.float64],
    sfy: npt.NDArray[np.float64],
    n: float,
    sy: float,
    syy: float,
    a_lo: float,
    a_hi: float,
    b_lo: float,
    b_hi: float,
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    err: npt.NDArray[np.float64],
    /,
) -> bool: ...
def dumps_indented(doc: object, step: str, encode: Callable[[str], str], /) -> str | None: ...
def records(
    values: npt.NDArray[np.float64], minimise: bool, relative: bool, delta: float, /
) -> list[int] | None: ...
