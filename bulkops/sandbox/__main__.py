"""``python -m bulkops.sandbox [flags]``: the sandbox command without the rest of the CLI."""

import sys

from .cli import main

sys.exit(main())
