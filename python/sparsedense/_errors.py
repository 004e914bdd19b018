"""The exceptions of sparsedense: one class per C++ ErrorKind, each also a subclass of the fitting builtin, so
`except ValueError` catches bad input and `except OSError` a bad file. Every instance has `.kind` (the ErrorKind name,
e.g. "invalid_data") and the C++ message ("sparsedense: <kind>: <message naming the value at fault>")."""
from __future__ import annotations


class Error(Exception):
    """Base class of every error the library raises (sparsedense::Error in C++)."""

    kind: str = ""


class InvalidArgumentError(Error, ValueError):
    """A parameter out of its domain (k <= 0, an unknown option)."""


class InvalidDataError(Error, ValueError):
    """Input violates an invariant (unsorted or duplicate term ids, NaN / inf values, ...)."""


class DimensionMismatchError(Error, ValueError):
    """Sizes of two inputs disagree (query dimension, array shape)."""


class OutOfRangeError(Error, IndexError):
    """An id or index beyond the valid range."""


class IoError(Error, OSError):
    """A file could not be opened, read or written."""


class CorruptFileError(Error, OSError):
    """A file is truncated, has a bad magic / checksum or inconsistent sizes."""


class VersionMismatchError(Error, OSError):
    """A file written by an incompatible format version."""


class UnsupportedError(Error, NotImplementedError):
    """A valid request this build or CPU cannot serve."""


def _classes_by_kind():
    return {
        "invalid_argument": InvalidArgumentError,
        "invalid_data": InvalidDataError,
        "dimension_mismatch": DimensionMismatchError,
        "out_of_range": OutOfRangeError,
        "io": IoError,
        "corrupt_file": CorruptFileError,
        "version_mismatch": VersionMismatchError,
        "unsupported": UnsupportedError,
    }
