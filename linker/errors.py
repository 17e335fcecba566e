"""The one root of the errors a user can act on, and the one-line form of any error.

Every failure that reaches a person (the CLI, the nightly job's history, the dashboard) is said
in one sentence. A `LinkerError` is raised with that sentence already written: the CLI prints
it as it is. Anything else is reduced to its first line by `one_line`.
"""

from __future__ import annotations


class LinkerError(Exception):
    """A failure the user can act on; `str()` is one sentence naming what and where."""


def one_line(exc: BaseException) -> str:
    """The first line of an error's message, or its class name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
