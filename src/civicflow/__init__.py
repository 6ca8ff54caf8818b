"""civicflow: community deliberation (问议定办晒评) as an event-sourced domain.

Everything public is listed in ``__all__``; other modules and names are private
and may change without notice.
"""

from civicflow.application import CivicFlow
from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    ConcurrencyError,
    ConfigurationError,
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    RuleViolationError,
    StepNotAllowedError,
)
from civicflow.lifecycle import TRANSITIONS, Stage, Step
from civicflow.proposal import Proposal, ProposalState
from civicflow.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote

__version__ = "0.1.0"

__all__ = [
    "TRANSITIONS",
    "BackendUnavailableError",
    "Budget",
    "Channel",
    "CivicFlow",
    "CivicflowError",
    "ConcurrencyError",
    "ConfigurationError",
    "InvalidInputError",
    "Level",
    "MissingRegistrationError",
    "NotEligibleError",
    "Outcome",
    "Proposal",
    "ProposalAlreadyExistsError",
    "ProposalNotFoundError",
    "ProposalState",
    "PublicationChannel",
    "RuleViolationError",
    "Stage",
    "Step",
    "StepNotAllowedError",
    "Vote",
    "__version__",
]
