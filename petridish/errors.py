"""User errors: printed as one line on stderr with exit code 2, never as a traceback."""


class UserError(Exception):
    """Something the user can fix (a config value, a path, a name). The message says what and how."""
