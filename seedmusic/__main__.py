"""`python -m seedmusic` is the `seedmusic` command."""

from __future__ import annotations

import sys

from seedmusic.cli import main

sys.exit(main())
