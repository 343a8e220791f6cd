"""What the database layer raises when it cannot do its job."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or set up; the message says which one and why (never a password)."""
