"""Puts ``tests/`` on the import path, so every test folder imports :mod:`support` the same way.

pytest's default ("prepend") import mode adds the folder of each conftest.py
to ``sys.path``; this one, at the top of the tests, makes ``import support``
work when only ``tests/e2e`` or ``tests/sandbox`` is collected.
"""
