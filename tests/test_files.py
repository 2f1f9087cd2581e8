"""The one atomic file write: the target is replaced whole or left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkops.files import atomic_write


def test_the_target_is_replaced_when_the_block_succeeds(tmp_path: Path) -> None:
    """The new content replaces the old, and no temporary file is left."""
    target = tmp_path / "snapshot.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_write(target) as handle:
        handle.write("new ✓\n")
        assert target.read_text(encoding="utf-8") == "old\n"  # not before the block ends
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.csv"]


def test_a_missing_target_is_created(tmp_path: Path) -> None:
    """No old file is needed."""
    target = tmp_path / "state.json"
    with atomic_write(target) as handle:
        handle.write("{}\n")
    assert target.read_text(encoding="utf-8") == "{}\n"


@pytest.mark.parametrize("error", [ValueError("bad row"), KeyboardInterrupt()])
def test_the_target_is_untouched_when_the_block_raises(
    tmp_path: Path, error: BaseException
) -> None:
    """An exception (Ctrl-C included) propagates, keeps the old file and removes the temporary."""
    target = tmp_path / "snapshot.csv"
    target.write_text("old\n", encoding="utf-8")

    def write_half_then_fail() -> None:
        with atomic_write(target) as handle:
            handle.write("half a snap")
            raise error

    with pytest.raises(type(error)):
        write_half_then_fail()
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.csv"]


@pytest.mark.parametrize(("newline", "written"), [("", b"a\r\nb\n"), ("\r\n", b"a\r\r\nb\r\n")])
def test_newline_is_passed_to_open(tmp_path: Path, newline: str, written: bytes) -> None:
    """``newline`` translates line ends as :func:`open` does (``""`` for the csv module)."""
    target = tmp_path / "a.csv"
    with atomic_write(target, newline=newline) as handle:
        handle.write("a\r\nb\n")
    assert target.read_bytes() == written


def test_a_missing_directory_raises_before_the_block(tmp_path: Path) -> None:
    """The temporary file lives beside the target, so its directory must exist."""
    ran = False
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "no" / "x.json"):
        ran = True
    assert not ran
