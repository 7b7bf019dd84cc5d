class UserError(Exception):
    """Bad input from the user (a missing file, an empty corpus, a bad config value).

    The CLI prints the message as one line and exits 1, without a traceback. Raise it
    before writing anything, so that no half-written output is left behind.
    """
