"""civicflow: community deliberation (问议定办晒评) as an event-sourced domain.

Everything public is listed in ``__all__``; other modules and names are private
and may change without notice.
"""

from civicflow.application.flow import CivicFlow
from civicflow.audit.feed import FeedWriter, append_to_file, read_feed, read_witnessed
from civicflow.audit.keys import KeyPaths, generate_keys, load_seal_key, load_signer, load_verifier
from civicflow.audit.ledger import Checkpoint
from civicflow.audit.notes import TreeHead, cosign, open_checkpoint, sign_checkpoint
from civicflow.audit.publishing import Transparency, last_in_feed
from civicflow.audit.signing import Signer, Verifier
from civicflow.audit.trail import AuditEntry
from civicflow.audit.verification import Problem, Verification
from civicflow.audit.witness import Proof, Witness, init_witness
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
    FeedError,
    ForkRefusedError,
    ImportRefusedError,
    InvalidInputError,
    InvalidKeyError,
    KeyFileError,
    MalformedNoteError,
    MissingRegistrationError,
    NewerRecordError,
    NotEligibleError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    RuleViolationError,
    SchemaMismatchError,
    SignatureError,
    StepNotAllowedError,
    StoreNotFoundError,
    UnreadableRecordError,
    ViewsEncryptionError,
    ViewsSchemaError,
    WitnessError,
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
    "FeedError",
    "FeedWriter",
    "ForkRefusedError",
    "Home",
    "ImportRefusedError",
    "InvalidInputError",
    "InvalidKeyError",
    "KeyFileError",
    "KeyPaths",
    "Level",
    "Majority",
    "MalformedNoteError",
    "Membership",
    "MissingRegistrationError",
    "NewerRecordError",
    "NotEligibleError",
    "Outcome",
    "Participation",
    "Pipeline",
    "Policy",
    "Problem",
    "Proof",
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
    "SignatureError",
    "Signer",
    "SponsorKind",
    "Sponsorship",
    "Stage",
    "Step",
    "StepNotAllowedError",
    "StoreNotFoundError",
    "Structure",
    "Transparency",
    "TreeHead",
    "UnreadableRecordError",
    "Verification",
    "Verifier",
    "Via",
    "Views",
    "ViewsEncryptionError",
    "ViewsSchemaError",
    "Vote",
    "Witness",
    "WitnessError",
    "__version__",
    "append_to_file",
    "cosign",
    "generate_keys",
    "init_witness",
    "last_in_feed",
    "load_seal_key",
    "load_signer",
    "load_verifier",
    "open_checkpoint",
    "read_feed",
    "read_witnessed",
    "sign_checkpoint",
]
