"""``python -m tbplateau``: the same as the ``tbplateau`` command."""

from tbplateau.cli import console_main

if __name__ == "__main__":  # pragma: no cover
    console_main()
