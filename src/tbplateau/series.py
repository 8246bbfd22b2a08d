"""One scalar series: the unit every detector works on.

The reader normalises every writer's encoding (``simple_value``, TF2 tensor scalars of
any numeric dtype) into the same three aligned arrays; nothing downstream sees a
protobuf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Series"]

LONG_COLUMNS = ("run", "tag", "step", "value", "wall_time")


def _frozen(
    array: npt.ArrayLike, dtype: type[np.generic], *, owned: bool = False
) -> npt.NDArray[Any]:
    """A read-only 1-D array; copied unless ``owned`` says nobody else holds it."""
    if owned and isinstance(array, np.ndarray) and array.dtype == dtype and array.ndim == 1:
        out = array
    else:
        out = np.array(array, dtype=dtype, copy=True).reshape(-1)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False, init=False)
class Series:
    """A scalar time series of one tag in one run.

    ``steps`` (int64), ``values`` (float64) and ``wall_times`` (float64) are aligned,
    read-only arrays in the order the reader kept them: steps increase strictly,
    except in a series whose steps never advance (every point logged at the same
    step), which keeps record order. ``replaced_points`` counts the points dropped
    because a restarted run wrote the same steps again (the newest write wins);
    ``duplicate_points`` counts those of them that were the same step logged twice in a
    row with the same value (``epoch`` written once per logger call): duplicates, not
    a restart.
    ``encoding`` says how the writer stored them: ``simple_value``, ``tensor`` (TF2)
    or ``mixed``.

    >>> s = Series("train", "loss", steps=[0, 1, 2], values=[1.0, 0.5, 0.25])
    >>> len(s), s.values.dtype.name, s.steps.dtype.name
    (3, 'float64', 'int64')
    """

    run: str
    tag: str
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    wall_times: npt.NDArray[np.float64]
    replaced_points: int
    encoding: str
    duplicate_points: int

    def __init__(
        self,
        run: str,
        tag: str,
        *,
        steps: npt.ArrayLike,
        values: npt.ArrayLike,
        wall_times: npt.ArrayLike | None = None,
        replaced_points: int = 0,
        encoding: str = "simple_value",
        duplicate_points: int = 0,
        _owned: bool = False,
    ) -> None:
        s = _frozen(steps, np.int64, owned=_owned)
        v = _frozen(values, np.float64, owned=_owned)
        w = _frozen(
            np.zeros(len(s)) if wall_times is None else wall_times, np.float64, owned=_owned
        )
        if not (len(s) == len(v) == len(w)):
            raise ValueError(
                f"series {run!r}/{tag!r}: steps, values and wall_times differ in "
                f"length ({len(s)}, {len(v)}, {len(w)})"
            )
        object.__setattr__(self, "run", run)
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "steps", s)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "wall_times", w)
        object.__setattr__(self, "replaced_points", int(replaced_points))
        object.__setattr__(self, "encoding", encoding)
        object.__setattr__(self, "duplicate_points", int(duplicate_points))

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def __repr__(self) -> str:
        span = f"steps {self.steps[0]}..{self.steps[-1]}" if len(self) else "empty"
        return f"Series(run={self.run!r}, tag={self.tag!r}, {len(self)} points, {span})"

    def to_pandas(self) -> pd.DataFrame:
        """The points in tbparse's long format: ``run, tag, step, value, wall_time``."""
        from tbplateau._optional import import_pandas

        pandas = import_pandas()
        n = len(self)
        frame = pandas.DataFrame(
            {
                "run": np.full(n, self.run, dtype=object),
                "tag": np.full(n, self.tag, dtype=object),
                "step": self.steps,
                "value": self.values,
                "wall_time": self.wall_times,
            },
            columns=list(LONG_COLUMNS),
        )
        return cast("pd.DataFrame", frame)
