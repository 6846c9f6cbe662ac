"""When the command line draws progress bars: on a terminal only, unless asked.

Bars are ``\\r`` frames; in a cron log, a pipe or CI output they are noise, so they are
drawn only when stderr is a terminal, never with ``--quiet``, and always with
``related-posts --progress`` (or ``RELATED_POSTS_PROGRESS=1``).
"""

from __future__ import annotations

import sys
from typing import TextIO

#: Environment variable that forces progress bars on (as ``related-posts --progress``).
PROGRESS_ENV = "RELATED_POSTS_PROGRESS"


def progress_wanted(quiet: bool, forced: bool = False, stream: TextIO | None = None) -> bool:
    """Whether to draw progress bars on ``stream`` (default stderr)."""
    if quiet:
        return False
    stream = stream if stream is not None else sys.stderr
    return forced or bool(getattr(stream, "isatty", lambda: False)())
