"""The one exception a user ever sees: a plain Chinese message, no traceback."""


class UserError(Exception):
    """A problem with the user's input or set-up, explained in Chinese."""
