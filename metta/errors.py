"""The two error types users see, and what every command does with them.

Every ``python -m metta...`` command prints ``error: <message>`` on stderr, never a traceback, and exits
2 for a command line that cannot run (argparse's own status for a bad flag; ``UsageError``) and 1 for bad
data or failed work (``ConfigError``: a game file, override, level, config, checkpoint; a run that failed).
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
