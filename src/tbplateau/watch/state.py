"""The watcher's memory across restarts: one JSON file per logdir, written atomically.

It lives under the user's state directory (``$XDG_STATE_HOME/tbplateau/watch/``, else
``~/.local/state/tbplateau/watch/``), named after the logdir, and never inside the
logdir: a logdir may be shared, read-only or synced, and is not ours to write to. Each
save writes a temporary file next to the target, flushes it to disk and renames it
over the target, so an interrupted watcher leaves either the old state or the new one.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "s.json")
>>> save_state(path, WatchState(logdir_key("logs")))
>>> state, problem = load_state(path, "logs")
>>> state.logdir == logdir_key("logs"), problem
(True, None)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tbplateau.watch.alerts import Alert

__all__ = [
    "STATE_SCHEMA",
    "IssueKey",
    "WatchState",
    "default_state_path",
    "inside",
    "load_state",
    "logdir_key",
    "save_state",
]

STATE_SCHEMA = "tbplateau.watch-state/1"

IssueKey = tuple[str, str, int, str]
"""A read issue already reported: run, file, offset, problem."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class WatchState:
    """What a restarted watcher must remember: alerts, issues reported, what was evaluated."""

    logdir: str
    alerts: list[Alert] = field(default_factory=list)
    issues: set[IssueKey] = field(default_factory=set)
    evaluated: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": STATE_SCHEMA,
            "logdir": self.logdir,
            "alerts": [a.to_dict() for a in self.alerts],
            "issues": [list(k) for k in sorted(self.issues)],
            "evaluated": {
                run: {tag: list(v) for tag, v in sorted(tags.items())}
                for run, tags in sorted(self.evaluated.items())
            },
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> WatchState:
        if doc.get("schema") != STATE_SCHEMA:
            raise ValueError(f"not a {STATE_SCHEMA} file (schema {doc.get('schema')!r})")
        return cls(
            logdir=str(doc["logdir"]),
            alerts=[Alert.from_dict(a) for a in doc["alerts"]],
            issues={(str(r), str(f), int(o), str(p)) for r, f, o, p in doc["issues"]},
            evaluated={
                str(run): {str(t): (int(v[0]), int(v[1])) for t, v in tags.items()}
                for run, tags in doc["evaluated"].items()
            },
        )


def logdir_key(logdir: str | os.PathLike[str]) -> str:
    """The logdir as the state knows it: an absolute real path, or the URL as given."""
    text = os.fspath(logdir)
    if "://" in text and not text.startswith("file://"):
        return text.rstrip("/")
    return os.path.realpath(os.path.expanduser(text.removeprefix("file://")))


def state_home() -> Path:
    """``$XDG_STATE_HOME/tbplateau/watch``, else ``~/.local/state/tbplateau/watch``."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "tbplateau" / "watch"


def default_state_path(logdir: str | os.PathLike[str]) -> Path:
    """The state file of ``logdir``: its base name (for people) and a hash of its path.

    >>> default_state_path("/data/runs/exp 1").name[:6]
    'exp_1-'
    """
    key = logdir_key(logdir)
    stem = _UNSAFE.sub("_", os.path.basename(key.rstrip("/")) or "root")[:40]
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return state_home() / f"{stem}-{digest}.json"


def inside(path: str | os.PathLike[str], logdir: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is inside the local directory ``logdir`` (or is it)."""
    key = logdir_key(logdir)
    if "://" in key:
        return False
    target = os.path.realpath(os.path.expanduser(os.fspath(path)))
    return target == key or target.startswith(key.rstrip(os.sep) + os.sep)


def load_state(
    path: str | os.PathLike[str], logdir: str | os.PathLike[str]
) -> tuple[WatchState | None, str | None]:
    """The state saved at ``path`` for ``logdir``, and a problem (one line) if any.

    A missing file is a first start: ``(None, None)``. A file that cannot be read, is
    not a state file or belongs to another logdir gives ``(None, problem)``: the
    caller says so and starts afresh (so nothing already there is announced again).
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            doc = json.load(fh)
        state = WatchState.from_dict(doc)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"state file {name}: cannot read it: {exc.strerror or exc}"
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        return None, f"state file {name}: not a valid {STATE_SCHEMA} file ({exc})"
    key = logdir_key(logdir)
    if state.logdir != key:
        return None, f"state file {name} belongs to logdir {state.logdir}, not {key}"
    return state, None


def save_state(path: str | os.PathLike[str], state: WatchState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(state.to_dict(), ensure_ascii=True, allow_nan=False, indent=1)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
