"""Kept so that `from minitransformer import info` keeps working.

The FLOP and MFU accounting lives in flops.py (the trainer uses it); the `info` command, which
prints it for a preset, lives in commands/info.py.
"""

from .flops import matmul_flops_per_second, training_efficiency, training_flops_per_token

__all__ = ["matmul_flops_per_second", "training_flops_per_token", "training_efficiency"]
