"""The callback every long-running step accepts to report how far it has got."""

from __future__ import annotations

from collections.abc import Callable

# progress(step, done, total): ``step`` names what is running now, ``done`` of ``total`` units are
# finished. The command line turns it into a progress bar; library callers may pass their own.
Progress = Callable[[str, int, int], None]
