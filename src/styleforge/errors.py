"""The one exception type for mistakes a user can make (bad input, bad file, bad option), and how
another library's error becomes part of one line."""


class StyleforgeError(ValueError):
    """A user-caused error with a message meant to be shown as one line; the CLI exits with code 2."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
