"""``tbplateau watch``: live diagnosis of a logdir being written, with alerts people can trust.

Layers, in the order data flows: :mod:`~tbplateau.watch.alerts` (alert identity and
the state machine), :mod:`~tbplateau.watch.engine` (:class:`Watcher`: poll, analyse
what grew, move alerts), :mod:`~tbplateau.watch.state` (the state file),
:mod:`~tbplateau.watch.events` (the ``tbplateau.watch/1`` events),
:mod:`~tbplateau.watch.notify` (webhook and command, in worker threads) and
:mod:`~tbplateau.watch.views` (JSON lines, text lines, the live table).
"""

from tbplateau.watch.alerts import Alert, AlertBook, AlertState
from tbplateau.watch.engine import Watcher
from tbplateau.watch.events import WATCH_SCHEMA, Event, EventType

__all__ = ["WATCH_SCHEMA", "Alert", "AlertBook", "AlertState", "Event", "EventType", "Watcher"]
