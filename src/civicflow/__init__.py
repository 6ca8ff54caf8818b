"""civicflow: community deliberation (问议定办晒评) as an event-sourced domain.

Everything public is listed in ``__all__``; other modules and names are private
and may change without notice.
"""

from civicflow.application.flow import CivicFlow
from civicflow.audit.ledger import Checkpoint
from civicflow.audit.trail import AuditEntry
from civicflow.audit.verification import Problem, Verification
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.councils import Council, Membership, Role, Via
from civicflow.domain.community.policy import Majority, Policy
from civicflow.domain.community.residents import Home
from civicflow.domain.community.sponsorship import SponsorKind, Sponsorship
from civicflow.domain.community.structure import AreaView, Structure
from civicflow.domain.lifecycle import TRANSITIONS, Stage, Step
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote
from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    CommandOutcomeUnknownError,
    ConcurrencyError,
    ConfigurationError,
    InvalidInputError,
    MissingRegistrationError,
    NewerRecordError,
    NotEligibleError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    RuleViolationError,
    SchemaMismatchError,
    StepNotAllowedError,
    StoreNotFoundError,
    UnreadableRecordError,
    ViewsEncryptionError,
    ViewsSchemaError,
)
from civicflow.views import Participation, Pipeline, Review, Satisfaction, Views

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
    "CommandOutcomeUnknownError",
    "ConcurrencyError",
    "ConfigurationError",
    "Council",
    "Home",
    "InvalidInputError",
    "Level",
    "Majority",
    "Membership",
    "MissingRegistrationError",
    "NewerRecordError",
    "NotEligibleError",
    "Outcome",
    "Participation",
    "Pipeline",
    "Policy",
    "Problem",
    "Proposal",
    "ProposalAlreadyExistsError",
    "ProposalNotFoundError",
    "ProposalState",
    "PublicationChannel",
    "Review",
    "Role",
    "RuleViolationError",
    "Satisfaction",
    "SchemaMismatchError",
    "SponsorKind",
    "Sponsorship",
    "Stage",
    "Step",
    "StepNotAllowedError",
    "StoreNotFoundError",
    "Structure",
    "UnreadableRecordError",
    "Verification",
    "Via",
    "Views",
    "ViewsEncryptionError",
    "ViewsSchemaError",
    "Vote",
    "__version__",
]
