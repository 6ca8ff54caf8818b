"""civicflow: community deliberation (问议定办晒评) as an event-sourced domain.

Everything public is listed in ``__all__``; other modules and names are private
and may change without notice.
"""

from civicflow.application import CivicFlow
from civicflow.areas import AreaKind
from civicflow.audit import AuditEntry
from civicflow.councils import Council, Membership, Role, Via
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
from civicflow.ledger import Checkpoint
from civicflow.lifecycle import TRANSITIONS, Stage, Step
from civicflow.policy import Majority, Policy
from civicflow.proposal import Proposal, ProposalState
from civicflow.resident import Home
from civicflow.sponsorship import SponsorKind, Sponsorship
from civicflow.structure import AreaView, Structure
from civicflow.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote
from civicflow.verification import Problem, Verification

__version__ = "0.1.0"

__all__ = [
    "TRANSITIONS",
    "AreaKind",
    "AreaView",
    "AuditEntry",
    "BackendUnavailableError",
    "Budget",
    "Channel",
    "Checkpoint",
    "CivicFlow",
    "CivicflowError",
    "ConcurrencyError",
    "ConfigurationError",
    "Council",
    "Home",
    "InvalidInputError",
    "Level",
    "Majority",
    "Membership",
    "MissingRegistrationError",
    "NotEligibleError",
    "Outcome",
    "Policy",
    "Problem",
    "Proposal",
    "ProposalAlreadyExistsError",
    "ProposalNotFoundError",
    "ProposalState",
    "PublicationChannel",
    "Role",
    "RuleViolationError",
    "SponsorKind",
    "Sponsorship",
    "Stage",
    "Step",
    "StepNotAllowedError",
    "Structure",
    "Verification",
    "Via",
    "Vote",
    "__version__",
]
