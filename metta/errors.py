"""The two error types users see, and what every command does with them.

Every ``python -m metta...`` command prints ``error: <message>`` on stderr, never a traceback, and exits
2 when the command line cannot run as given (``UsageError``, argparse's own status for a bad flag: an unknown
preset, a malformed or out-of-range flag value, an override naming no value of the game, a file it names that
is not there, contradictory flags, an experiment another run holds) and 1 for bad data or failed work
(``ConfigError``: what is inside a game file, level, checkpoint or config.json; a run that failed).
128 + N means stopped by signal N (metta.runtime.lifetime.run_command).
"""


class ConfigError(ValueError):
    """A game file, override, preset parameter, map option, config or checkpoint is invalid.

    The message names the file (when there is one), the key, and what was expected.
    """

    problems: list | None = None  # a typed config's nested validation problems, for its parent (metta.config)


class UsageError(ConfigError):
    """The command line asks for something that cannot run: an unknown preset, contradictory flags, an
    experiment another run holds. A ConfigError, so that library callers catch both alike."""


USAGE_EXIT = 2
DATA_EXIT = 1
