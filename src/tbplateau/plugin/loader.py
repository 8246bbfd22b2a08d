"""The ``tensorboard_plugins`` entry point of the "Plateaus" tab.

TensorBoard imports every entry point of the group without error handling, so a
failing import here would break ``tensorboard`` for everyone in the environment. This
module therefore imports only ``tensorboard.plugins.base_plugin`` (and the standard
library); the plugin itself is imported in :meth:`PlateauLoader.load`, which returns
``None`` (no tab, a warning in TensorBoard's log) when a part it needs is missing.
TensorBoard itself catches an exception raised by ``load`` and starts without the tab.
"""

from __future__ import annotations

import logging
from typing import Any

from tensorboard.plugins import base_plugin

__all__ = ["PLUGIN_NAME", "PlateauLoader"]

PLUGIN_NAME = "tbplateau"
"""The plugin's name: its routes are under ``data/plugin/tbplateau/``, its tab ``#tbplateau``."""

logger = logging.getLogger(__name__)


class PlateauLoader(base_plugin.TBLoader):  # type: ignore[misc]
    """Makes the tab's plugin; nothing when the ``tensorboard`` extra is incomplete or
    there is no data to read (neither a logdir nor a data provider).

    It adds one flag to ``tensorboard``: ``--tbplateau_goal TAG_PATTERN=min|max|none``
    (repeatable), the ``--goal`` of ``tbplateau report``, so that both judge the same.
    """

    def define_flags(self, parser: Any) -> None:
        group = parser.add_argument_group("tbplateau (the Plateaus tab)")
        group.add_argument(
            "--tbplateau_goal",
            action="append",
            default=[],
            metavar="TAG_PATTERN=min|max|none",
            help="override the goal inferred from tag names, as `tbplateau report "
            "--goal` (fnmatch glob; repeatable)",
        )

    def fix_flags(self, flags: Any) -> None:
        goals = getattr(flags, "tbplateau_goal", None) or []
        if not goals:
            return
        try:
            from tbplateau.goals import parse_goal_override
        except ImportError:  # the tab will be off anyway (see load)
            return
        for goal in goals:
            try:
                parse_goal_override(goal)
            except ValueError as exc:
                raise base_plugin.FlagsError(f"--tbplateau_goal: {exc}") from None

    def load(self, context: Any) -> Any:
        try:
            from tbplateau.plugin.tab import make_plugin
        except ImportError as exc:
            logger.warning(
                "tbplateau: the Plateaus tab is off (%s); install it with "
                "pip install 'tbplateau[tensorboard]'",
                exc,
            )
            return None
        return make_plugin(context)
