"""The result journal: the one writer of result logs, the one reader, and what they sum to.

A result log is JSON Lines, one record per row result (``results/*.jsonl``).
This subpackage owns everything about it:

* :mod:`.writer`: :class:`ResultJournal`, which appends records (and writes
  ``<results>.failed.csv``), and the paths next to a log; :mod:`.line` spells
  a result as its log line.
* :mod:`.reader`: the one reader, with one rule for a torn last line (see its
  docstring), used by ``--resume`` (:func:`check_results_path`, then
  :func:`read_done_keys`, by :func:`record_key`)
  and by the summaries (:func:`read_results`).
* :mod:`.tally`: the figures gathered record by record (:class:`Tally`), from a
  log read back or from a fresh run's journal as it writes.
* :mod:`.summary`: the figures of a log (:class:`RunReport`), as JSON
  (``<results>.summary.json``) and as the one line a run ends with. Showing them
  as tables is the commands' business (:mod:`bulkops.commands.report`).

It imports only the shared top-level modules (:mod:`bulkops.model`,
:mod:`bulkops.errors`, :mod:`bulkops.keys`, :mod:`bulkops.files`): never
:mod:`bulkops.engine`, :mod:`bulkops.twilio`, :mod:`bulkops.commands`,
:mod:`bulkops.sandbox`, nor :mod:`rich`.
"""

from __future__ import annotations

from .reader import (
    DONE,
    ResultsReader,
    check_results_path,
    read_done_keys,
    read_results,
    record_key,
)
from .summary import (
    Latency,
    RunReport,
    report_of,
    summarize,
    summary_line,
    summary_path,
    to_json,
    write_summary_json,
)
from .tally import Tally
from .writer import ResultJournal, default_results_path, failed_path

__all__ = [
    "DONE",
    "Latency",
    "ResultJournal",
    "ResultsReader",
    "RunReport",
    "Tally",
    "check_results_path",
    "default_results_path",
    "failed_path",
    "read_done_keys",
    "read_results",
    "record_key",
    "report_of",
    "summarize",
    "summary_line",
    "summary_path",
    "to_json",
    "write_summary_json",
]
