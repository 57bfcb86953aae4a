"""Ctrl-C and SIGTERM during training: the first asks the loop to stop after the current step.

The trainer (train.py) then saves a checkpoint and stops; a second signal stops at once.  In
data-parallel runs the workers ignore both signals (distributed/), so Ctrl-C in a terminal,
which reaches every process of the group, is handled here alone.
"""

from __future__ import annotations

import signal
import threading


class TrainingInterrupted(KeyboardInterrupt):
    """A second Ctrl-C (or SIGTERM): training stopped at once, without saving the current step."""


class StopOnCtrlC:
    """While active, the first Ctrl-C (or SIGTERM) only asks the loop to stop after the current step.

    A second one stops at once with TrainingInterrupted, whose message is `second_message()`: the
    checkpoint on disk is whole either way, since saves are atomic.  Python delivers signals to the
    main thread only; elsewhere (train() run in a worker thread) Ctrl-C keeps its usual meaning.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, second_message=lambda: "interrupted twice: stopped at once"):
        self.second_message = second_message

    def __enter__(self):
        self.requested = False
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            self._previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C: stop at once
            raise TrainingInterrupted(self.second_message())
        self.requested = True

    def __exit__(self, *exc):
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        return False


