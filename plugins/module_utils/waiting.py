# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting with a timeout and a reason when it fails."""

import time

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitFailedError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitTimeoutError


def wait_for(poll, what, timeout, delay=2.0, max_delay=15.0, clock=time.monotonic, sleep=time.sleep):
    """Call ``poll()`` until it reports done.

    ``poll()`` returns ``(done, state)``: ``state`` is a short text of what it saw (kept for the
    timeout message). To stop with a failure, ``poll()`` raises ``WaitFailedError`` with the reason.
    Raises ``WaitTimeoutError`` naming ``what``, the time waited and the last state seen.
    The first poll happens at once, later ones back off from ``delay`` to ``max_delay``.
    """
    deadline = clock() + timeout
    state = None
    while True:
        done, state = poll()
        if done:
            return state
        if clock() >= deadline:
            raise WaitTimeoutError(message=f"Timed out after {timeout}s waiting for {what}; last state: {state}")
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 1.5, max_delay)


def fail_wait(reason):
    """Raise from a ``poll()`` to end the wait with ``reason``."""
    raise WaitFailedError(message=reason)


def wait_until_gone(describe, id_key, gone_states, what, timeout, state_key="State"):
    """Wait until every resource ``describe()`` returns is in one of ``gone_states`` (or not returned)."""

    def poll():
        left = [f"{item[id_key]}={item.get(state_key)}" for item in describe()
                if str(item.get(state_key, "")).lower() not in gone_states]
        return not left, ", ".join(left)

    return wait_for(poll, what, timeout)
