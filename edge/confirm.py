"""End-to-end confirmation, the agent's side: reading the ingest's ``stored``
reports and deciding when an unconfirmed outbox row is overdue.

The ingest reports, per durable batch, the seqs of this agent it made durable
(``core.messages.Stored``). The agent deletes exactly those rows. Rows the
broker acknowledged and nobody confirmed are sent again in two cases:

* on every (re)connection, all of them (the agent cannot tell a broker that
  restarted cleanly from one that lost its queue in a crash): the pump's
  ordinary pass;
* when overdue (``overdue``): the row was already below the highest
  confirmed seq a whole ``confirm_timeout_s`` ago. The ingest got past the
  row, so its message or its confirmation was lost without the agent's
  connection dropping (the broker dropped it from a full queue, the ingest's
  session expired, a replica's confirmation did not get out). Such rows are
  sent again once, and again every ``confirm_timeout_s`` only while
  confirmations keep coming: while none comes the ingest is away, and sending
  again would only pile duplicates into the broker's queue for it.

Time here is the monotonic clock (passed in), not the agent's event clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pydantic import ValidationError

from core.messages import Stored

log = logging.getLogger(__name__)


class Confirmations:
    """Owned by the agent's main loop, like the outbox (not thread-safe)."""

    def __init__(
        self, *, agent_id: str, timeout_s: float, clock: Callable[[], float] = time.monotonic
    ):
        self.agent_id = agent_id
        self.timeout_s = timeout_s
        self.clock = clock
        #: highest seq confirmed since the agent started
        self.frontier = -1
        self.received = 0
        self.invalid = 0
        self.last_at: float | None = None
        self._prev_frontier = -1
        self._since_sweep = 0
        # every row up to this seq was sent again since the last confirmation
        self._resent_upto = -1
        self._next_sweep = clock() + timeout_s

    def take(self, payload: bytes) -> list[tuple[int, int]]:
        """The seq ranges a ``stored`` payload confirms for this agent; [] for
        anything else (counted and logged: the ACL lets only the ingest write
        the topic, so it is a bug or a misconfiguration)."""
        try:
            msg = Stored.model_validate_json(payload)
        except ValidationError as exc:
            return self._refuse(f"not a Stored message ({exc.error_count()} problem(s))")
        if msg.agent_id != self.agent_id:
            return self._refuse(f"it is for agent {msg.agent_id!r}")
        self.received += 1
        self._since_sweep += 1
        self.last_at = self.clock()
        self.frontier = max(self.frontier, msg.seqs[-1][1])
        return list(msg.seqs)

    def _refuse(self, why: str) -> list[tuple[int, int]]:
        self.invalid += 1
        if self.invalid == 1 or self.invalid % 1000 == 0:
            log.warning("ignored %d confirmation(s) on the stored topic: %s", self.invalid, why)
        return []

    def reconnected(self) -> None:
        """Every unconfirmed row is being sent again: none is overdue for a while."""
        self._prev_frontier = -1
        self._since_sweep = 0
        self._resent_upto = self.frontier
        self._next_sweep = self.clock() + self.timeout_s

    def overdue(self) -> int | None:
        """Once per ``timeout_s``: the highest seq whose unconfirmed rows are
        overdue (send them again), or None."""
        now = self.clock()
        if now < self._next_sweep:
            return None
        self._next_sweep = now + self.timeout_s
        upto, self._prev_frontier = self._prev_frontier, self.frontier
        fresh, self._since_sweep = self._since_sweep > 0, 0
        if upto < 0 or (not fresh and upto <= self._resent_upto):
            return None
        self._resent_upto = upto
        return upto
