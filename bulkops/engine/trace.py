"""The concurrency limit over a run: a small series of points, sampled on change, bounded.

Each point is ``(t_s, rows, throttled, limit, account_limit, account_in_flight)``:
seconds since the run started, rows finished and 429s met so far, this run's
window, the account's limit as learnt (None until a 429 taught it) and the
account's requests in flight as the latest answer counted them (None without
``Twilio-Concurrent-Requests``). ``bulkops report --plot`` draws rows per second,
429s and the limit from them.

A point is added when any figure moved, at most one per ``spacing_s``; when the
series reaches ``max_points`` every other point is dropped and the spacing
doubles, so a run of any length keeps at most ``max_points`` (an hour at the
default spacing keeps a point about every four seconds). The last point is
always the run's end (:meth:`LimitTrace.finish`).
"""

from __future__ import annotations

from typing import Any

#: What each point holds, in order.
COLUMNS = ("t_s", "rows", "throttled", "limit", "account_limit", "account_in_flight")
Point = tuple[float, int, int, int, int | None, int | None]


class LimitTrace:
    """Points of one run; ``start_s`` is the run's start on the clock ``sample`` is given."""

    __slots__ = ("_last", "_spacing_s", "due_s", "max_points", "points", "rows", "start_s",
                 "throttled")  # fmt: skip

    def __init__(self, start_s: float, *, spacing_s: float = 0.1, max_points: int = 1000) -> None:
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points!r}")
        self.start_s = start_s
        self.max_points = max_points
        self.points: list[Point] = []
        #: Rows finished and 429s met so far (the engine counts them here).
        self.rows = 0
        self.throttled = 0
        self._spacing_s = spacing_s
        #: When the next point may be added (the clock ``sample`` is given).
        self.due_s = start_s
        self._last: tuple[int, int, int, int | None, int | None] | None = None

    def sample(
        self, now_s: float, limit: int, account_limit: int | None, account_in_flight: int | None
    ) -> None:
        """Add a point at ``now_s`` if the spacing allows and a figure moved since the last."""
        if now_s < self.due_s:
            return
        figures = (self.rows, self.throttled, limit, account_limit, account_in_flight)
        if figures == self._last:
            return
        self._add(now_s, figures)

    def finish(
        self, now_s: float, limit: int, account_limit: int | None, account_in_flight: int | None
    ) -> None:
        """Add the run's last point, whatever the spacing."""
        self._add(now_s, (self.rows, self.throttled, limit, account_limit, account_in_flight))

    def _add(self, now_s: float, figures: tuple[int, int, int, int | None, int | None]) -> None:
        self._last = figures
        self.points.append((round(now_s - self.start_s, 3), *figures))
        self.due_s = now_s + self._spacing_s
        if len(self.points) >= self.max_points:
            self.points = self.points[::2]
            self._spacing_s *= 2

    def to_json(self) -> dict[str, Any]:
        """``{"columns": [...], "points": [[...], ...]}`` for the run's summary JSON."""
        return {"columns": list(COLUMNS), "points": [list(point) for point in self.points]}
