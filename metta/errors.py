"""The one error type users see for bad input."""


class ConfigError(ValueError):
    """A game file, override, preset parameter or map option is invalid.

    The message names the file (when there is one), the key, and what was expected.
    """
