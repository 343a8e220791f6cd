"""What the database layer raises when it cannot do its job."""

from newhomie.store.redact import redact


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or set up; the message says which one and why (never a password)."""


class SchemaDamaged(DatabaseUnavailable):
    """Tables or views of applied migrations are missing: `migrate` cannot bring them back."""


def reason_of(exc: BaseException) -> str:
    """What went wrong, in one line, never empty, never a password: the database's message with its code,
    else the exception's name."""
    text = " ".join(str(exc).split())
    code = getattr(exc, "pgcode", None)
    if not text:
        diag = getattr(exc, "diag", None)
        text = getattr(diag, "message_primary", None) or ""
    text = redact(text) or f"{type(exc).__name__} (the database gave no message)"
    return f"{text} [SQLSTATE {code}]" if code else text
