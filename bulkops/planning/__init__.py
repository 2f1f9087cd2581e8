"""Planning: from where senders should be to the exact rows of a job that puts them there.

It owns, one module each:

- :mod:`~bulkops.planning.values`: the values a plan is made of and from
  (:class:`Wanted`, :class:`Held`, :class:`Current`, :class:`Step`,
  :class:`Conflict`, :class:`Plan`);
- :mod:`~bulkops.planning.planner`: :func:`make_plan`, pure: desired rows and
  the current state in, steps, conflicts and counts out;
- :mod:`~bulkops.planning.order`: the run order, what leaves a service before
  what enters it;
- :mod:`~bulkops.planning.output`: the plan as a job file and its summary JSON.

Nothing here does I/O but writing those two files: the commands gather the
current state (:mod:`bulkops.commands.survey`) and hand it in. It may import
only the shared top-level modules (:mod:`bulkops.model`, :mod:`bulkops.files`,
…), never the engine, the Twilio layer, the journal, the commands or the sandbox.
"""

from .output import summary_document, summary_path, write_plan, write_summary
from .planner import make_plan
from .values import (
    SENDER_LIMIT,
    Conflict,
    Current,
    Held,
    Plan,
    Problem,
    ServiceCount,
    Step,
    Wanted,
)

__all__ = [
    "SENDER_LIMIT",
    "Conflict",
    "Current",
    "Held",
    "Plan",
    "Problem",
    "ServiceCount",
    "Step",
    "Wanted",
    "make_plan",
    "summary_document",
    "summary_path",
    "write_plan",
    "write_summary",
]
