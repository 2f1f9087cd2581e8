"""bulkops: bulk operations on the senders of Twilio Messaging Services.

Data flows one way: a job file (:mod:`bulkops.jobs`) → the engine
(:mod:`bulkops.engine`) → the Twilio layer (:mod:`bulkops.twilio`) → the result
journal (:mod:`bulkops.journal`), wired once by :func:`run_job`; the commands
(:mod:`bulkops.commands`) sit on top and the sandbox (:mod:`bulkops.sandbox`)
beside. The shared values live at the top: :mod:`.model`, :mod:`.config`,
:mod:`.errors`.

::

    summary = await bulkops.run_job(
        "jobs/attach-example.csv",
        config=bulkops.RunConfig(base_url=url, concurrency=16, rate_per_s=25.0),
        credentials=bulkops.Credentials.from_env(),
        results="results/attach.jsonl",
    )
    print(summary.line())

:class:`RunHooks` takes an :class:`Observer` (told each result) and an
:class:`EngineClock`; :attr:`RunSummary.report` is the log's :class:`RunReport`.
"""

from ._version import __version__
from .config import Credentials, RunConfig
from .engine import EngineClock, Observer
from .errors import (
    ApiError,
    BulkopsError,
    Exit,
    JobFileError,
    PermanentError,
    RunAborted,
    TransientError,
    UsageError,
)
from .jobs import Job, open_job
from .journal import RunReport
from .model import Detail, InvalidRow, ItemResult, Op, Outcome, Row, SenderKind
from .run import RunHooks, RunSummary, run_job

__all__ = [
    "ApiError",
    "BulkopsError",
    "Credentials",
    "Detail",
    "EngineClock",
    "Exit",
    "InvalidRow",
    "ItemResult",
    "Job",
    "JobFileError",
    "Observer",
    "Op",
    "Outcome",
    "PermanentError",
    "Row",
    "RunAborted",
    "RunConfig",
    "RunHooks",
    "RunReport",
    "RunSummary",
    "SenderKind",
    "TransientError",
    "UsageError",
    "__version__",
    "open_job",
    "run_job",
]
