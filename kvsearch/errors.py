"""All exceptions kvsearch raises. Every message says what to do next."""

from __future__ import annotations


class KvsearchError(Exception):
    """Base class of every error kvsearch raises on purpose."""


class ParseError(KvsearchError):
    """A file is not a Kamervraag in the expected layout."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}")


class IndexNotFoundError(KvsearchError):
    """There is no index at the given location."""


class IndexVersionError(KvsearchError):
    """The index was built by another analyzer version or stemmer."""


class IndexCorruptError(KvsearchError):
    """The index is damaged or incomplete."""


class IndexIntegrityError(KvsearchError):
    """A build did not store every parsed document."""


class NotAnIndexError(KvsearchError):
    """A folder given as index is not a kvsearch index and is not empty."""


class IndexWriteError(KvsearchError):
    """The index folder cannot be written (no space left, read-only, permissions)."""


class LockError(KvsearchError):
    """Another process is writing the index."""


class QueryError(KvsearchError):
    """A query or filter value cannot be used."""


class NotFoundError(KvsearchError):
    """A Kamervraag or question that was asked for does not exist."""


class SourceError(KvsearchError):
    """The source folder cannot be used."""
