"""The one exception type for mistakes a user can make (bad input, bad file, bad option)."""


class StyleforgeError(ValueError):
    """A user-caused error with a message meant to be shown as one line; the CLI exits with code 2."""
