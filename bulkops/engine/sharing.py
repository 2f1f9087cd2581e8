"""How a run shares the account with others, once a round trip: a pure policy.

:class:`~bulkops.engine.inflight.InFlightController` works out what is left of
the account's limit for this run (its ``cap``: the learnt limit less the others
its counts show) and, once a round trip (a tick), asks :meth:`Sharing.decide`
what the window should be. The rules, in order:

1. A slot left free last tick for a newcomer is taken back unless someone did.
2. Full (no room): one tick in ``share_every_ticks`` leave a slot free.
3. Held (:meth:`Sharing.hold`): for ``hold_ticks`` the larger share takes no
   room, unless its answers come to show the crowd the 429 did
   (:meth:`Sharing.answers_showed`).
4. Room: taken half a tick, or a quarter (at least one slot) within twice
   ``hold_ticks`` of a hold; the larger share first waits ``patience_ticks``.
5. Full with others: a share two larger than theirs gives a slot back, half as
   often each time nobody takes it.

Nothing here reads a clock: ticks are counted by the caller.
"""

from __future__ import annotations

from .inflight_settings import InFlightSettings


class Sharing:
    """The per-tick window decisions of one run on a shared account (see the module)."""

    __slots__ = (
        "_calm_from", "_gift_open", "_gift_tick", "_gift_wait", "_hold_crowd", "_hold_until",
        "_released", "_room_ticks", "settings", "ticks",
    )  # fmt: skip

    def __init__(self, settings: InFlightSettings) -> None:
        self.settings = settings
        #: Ticks (round trips) so far.
        self.ticks = 0
        self._room_ticks = 0  # ticks the larger share has waited for room
        self._gift_tick = 0  # the tick a slot was last given back
        self._gift_wait = 1  # ticks between slots given back; doubles when one goes unclaimed
        self._gift_open = self._released = False
        self._hold_until = 0  # the tick growth may resume after a 429 at a full account
        self._calm_from = 0  # the tick from which room comes back half at a time again
        self._hold_crowd = 0  # the others the 429 that set the hold showed (0: no hold)

    def tick(self) -> None:
        """A round trip ended."""
        self.ticks += 1

    def wait_for_room(self) -> None:
        """The window just shrank: the larger share's patience starts again."""
        self._room_ticks = 0

    def hold(self, larger: bool, crowd: int) -> None:
        """A 429 at a full account this run could not fill; ``larger``: it held the larger share.

        ``crowd`` is the others that 429 showed. If this run held the larger
        share, the others may be ones its counts never show (their calls always
        reach Twilio after its own): for ``hold_ticks`` it takes no room while it
        is the larger share, and for ``hold_ticks`` more room comes back a quarter
        at a time, unless its answers come to show that crowd after all (see
        :meth:`answers_showed`). Otherwise (a crowd larger than this run, which its
        counts do show) any hold, and the slow growth after it, ends.
        """
        if larger:
            self._hold_until = self.ticks + self.settings.hold_ticks
            self._calm_from = self.ticks + 2 * self.settings.hold_ticks
            self._hold_crowd = crowd
        else:
            self._hold_until = self._calm_from = self._hold_crowd = 0
        self._room_ticks = 0

    def answers_showed(self, others: int) -> None:
        """The most others this run's answers (not its 429s) showed since the last hold.

        Once they show the crowd the 429 that set the hold did, that crowd is not
        a run the counts miss (a burst of other traffic, say): the cap already
        leaves it room, so the hold and the slow growth after it end.
        """
        if self._hold_crowd and others >= self._hold_crowd:
            self._hold_until = self._calm_from = self._hold_crowd = 0

    def decide(self, limit: int, cap: int, others: int) -> int:
        """The window for the next round trip, from ``limit`` now and ``cap``, ``others`` seen."""
        settings = self.settings
        held = self.ticks < self._hold_until
        fast = self.ticks >= self._calm_from
        if self._released:  # the slot left free last tick: take it back unless someone did
            self._released = False
            if limit < cap:
                limit += 1
        room = cap - limit
        if room == 0 and self.ticks % settings.share_every_ticks == 0:
            if limit > settings.floor:  # full: leave a slot for a newcomer, one tick
                self._released = True
                return limit - 1
            return limit
        if room > 0 and held and limit >= others:
            return limit  # a 429 at a full account lately: the room may be another run's
        if others == 0:  # alone, as far as the counts show
            self._room_ticks = 0
            return limit + _growth(room, fast)
        if room > 0:
            return self._take_room(limit, others, room, fast=fast)
        return self._give_back(limit, others)

    def _take_room(self, limit: int, others: int, room: int, *, fast: bool) -> int:
        if limit > others and self._room_ticks < self.settings.patience_ticks:
            self._room_ticks += 1  # the larger share waits its turn
            return limit
        if self._gift_open:  # nobody took what was given back: give less often
            self._gift_open = False
            self._gift_wait = min(self._gift_wait * 2, 1024)
        self._room_ticks = 0
        return limit + _growth(room, fast)

    def _give_back(self, limit: int, others: int) -> int:
        """Full, with others on the account: a share two larger than theirs gives one back."""
        if self._gift_open:  # the slot given back was taken: the others want room
            self._gift_open = False
            self._gift_wait = 1
        self._room_ticks = 0
        due = self.ticks - self._gift_tick >= self._gift_wait
        if limit - others >= 2 and limit > self.settings.floor and due:
            self._gift_tick = self.ticks
            self._gift_open = True
            return limit - 1
        return limit


def _growth(room: int, fast: bool) -> int:
    """Slots to take of ``room`` this round trip: half, or a quarter (at least one) after a hold.

    Half, as long as no hold came lately: a run that only paused, or that a
    visible crowd left, finds most of its slots at once. A quarter within
    ``2 × hold_ticks`` of a hold: its others may be ones its counts miss, and
    each slot too many is a 429.
    """
    if room <= 0:
        return 0
    return (room + 1) // 2 if fast else max(1, room // 4)
