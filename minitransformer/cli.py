"""The entry point of the `minitransformer` script and of `python -m minitransformer`.

The commands themselves live in commands/ (one module each); this module stays so that
setup.cfg's `minitransformer.cli:main` and `from minitransformer.cli import main` keep working.
"""

from .commands import build_parser, main

__all__ = ["main", "build_parser"]
