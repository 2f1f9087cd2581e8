"""One module per scenario; each has ``run(bench) -> dict`` and ``markdown(section) -> str``."""
