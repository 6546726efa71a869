"""Errors a user can fix (bad file, unknown label, bad config); the CLI prints them without a traceback."""


class PenaltyError(Exception):
    """Base class for every expected, user-fixable failure."""


class InputError(PenaltyError):
    """A file could not be read or decoded; the message names the file."""


class AnnotationError(PenaltyError):
    """An annotation record is malformed or uses a label outside the label set; the message names file:line."""


class ModelError(PenaltyError):
    """A model directory is missing, incomplete, corrupt or was trained on another label set."""
