"""`python -m minitransformer`: the command line (see commands/)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
