"""The one version string of sklearn-rnn; ``setup.py`` and ``pyproject.toml`` read it."""

__version__ = "0.1.0.dev0"
