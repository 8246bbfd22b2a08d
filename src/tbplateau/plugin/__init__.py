"""The "Plateaus" tab inside TensorBoard: the findings of ``tbplateau report`` on the curves.

``pip install 'tbplateau[tensorboard]'`` registers :class:`~tbplateau.plugin.loader.PlateauLoader`
as a ``tensorboard_plugins`` entry point; ``tensorboard --logdir LOGDIR`` then shows the tab.

The modules, from the bottom up:

- :mod:`~tbplateau.plugin.points`: the points of one series for a chart (display
  downsampling that keeps each bucket's minimum and maximum);
- :mod:`~tbplateau.plugin.document`: the tab's report document, the one place the view
  model is serialised;
- :mod:`~tbplateau.plugin.sources`: where the data comes from (the logdir, read by
  tbplateau's own reader, or TensorBoard's data provider as a fallback);
- :mod:`~tbplateau.plugin.worker`: the background thread that polls, re-analyses what
  grew and publishes the document;
- :mod:`~tbplateau.plugin.tab`: the TensorBoard plugin and its HTTP routes;
- :mod:`~tbplateau.plugin.loader`: the entry point, which imports nothing but
  ``tensorboard.plugins.base_plugin`` (TensorBoard imports entry points without error
  handling).

This package imports nothing on purpose: importing the entry point must stay cheap
and must not fail.
"""
