"""The commands: bulkops' command line, on top of everything else.

It owns, one module each:

- :mod:`~bulkops.commands.cli`: the ``bulkops`` parser and the dispatch to each
  command, mapping errors to :class:`~bulkops.errors.Exit` codes;
- :mod:`~bulkops.commands.run`: ``bulkops run``, from flags to
  :func:`bulkops.run_job` and back to an exit code, and
  :mod:`~bulkops.commands.dry_run` for ``--dry-run``;
- :mod:`~bulkops.commands.export`: ``bulkops export``, services as a snapshot job;
- :mod:`~bulkops.commands.verify`: ``bulkops verify``, listing the job's services,
  with its checks, free of I/O, in :mod:`~bulkops.commands.checks`;
- :mod:`~bulkops.commands.connection`: the flags export and verify share and the
  :class:`~bulkops.commands.connection.Connection` they list through;
- :mod:`~bulkops.commands.report`: ``bulkops report``, a result log as tables;
- :mod:`~bulkops.commands.progress`: the progress display of a run.

It may import anything below it: :mod:`bulkops.run`, :mod:`bulkops.engine`,
:mod:`bulkops.twilio`, :mod:`bulkops.journal` and the shared top-level modules.
The sandbox only lazily (inside a function), for ``--sandbox`` and ``bulkops
sandbox``; at load time just its flags (:mod:`bulkops.sandbox.flags`,
:mod:`bulkops.sandbox.profile`) and the plain data they name (the world's
default credentials, the fault kinds), which bring the world, its problems and
stats along but never the server (:mod:`bulkops.sandbox.app`,
:mod:`bulkops.sandbox.server`, ``aiohttp.web``): a run against Twilio never loads it.
Nothing outside imports the commands. Inside, :mod:`~bulkops.commands.cli`
dispatches to each; ``run`` uses ``dry_run``, ``progress`` and ``report``'s
tables; export and verify never import each other, only what they share
(:mod:`~bulkops.commands.connection`).
"""
