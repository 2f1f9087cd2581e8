"""When a run is clearly going wrong: the failure brake.

``--max-failures N`` stops the run at the N-th failed row; ``--max-failure-rate P``
stops it when more than P of the last ``window_rows`` rows that reached the API
failed. Invalid rows never reached the API and skipped rows were not sent, so
neither counts.
"""

from __future__ import annotations

from collections import deque

from ..model import Outcome

_COUNTED = frozenset({Outcome.SUCCEEDED, Outcome.FAILED})


class FailureBrake:
    """Watches outcomes; :meth:`observe` returns the reason once a limit trips."""

    def __init__(
        self,
        *,
        max_failures: int | None = None,
        max_failure_rate: float | None = None,
        window_rows: int = 100,
    ) -> None:
        self._max_failures = max_failures
        self._max_rate = max_failure_rate
        self._window: deque[bool] = deque(maxlen=window_rows)
        self._failed_in_window = 0
        self.failures = 0

    def observe(self, outcome: Outcome) -> str | None:
        """Count one row's outcome; the reason to stop, or None."""
        if outcome not in _COUNTED:
            return None
        failed = outcome is Outcome.FAILED
        self.failures += failed
        window = self._window
        if len(window) == window.maxlen:
            self._failed_in_window -= window[0]
        window.append(failed)
        self._failed_in_window += failed
        if self._max_failures is not None and self.failures >= self._max_failures:
            return f"--max-failures {self._max_failures} reached"
        if (
            self._max_rate is not None
            and len(window) == window.maxlen
            and self._failed_in_window / len(window) > self._max_rate
        ):
            return (
                f"--max-failure-rate {self._max_rate:g} exceeded: {self._failed_in_window} "
                f"of the last {len(window)} rows failed"
            )
        return None
