"""civicflow: community deliberation (问议定办晒评) as an event-sourced domain.

Everything public is listed in ``__all__``; other modules and names are private
and may change without notice.

The errors are imported here (the audit's, ``civicflow.audit.errors``, on first use
like the rest); every other public name is imported from its
module on first use (PEP 562), so that ``import civicflow`` and the ``civicflow``
command do not pay for the application, the views and the audit code that a
given command never touches (docs/performance.md, "CLI start-up"). Type checkers
read the imports under ``TYPE_CHECKING``; ``_HOMES`` says the same for run time,
and tests/test_startup.py checks that the two and ``__all__`` agree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    CommandOutcomeUnknownError,
    ConcurrencyError,
    ConfigurationError,
    ImportRefusedError,
    InvalidInputError,
    MissingRegistrationError,
    NewerRecordError,
    NotEligibleError,
    OutputExistsError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    RuleViolationError,
    SchemaMismatchError,
    StepNotAllowedError,
    StoreNotFoundError,
    SubscriptionNotFoundError,
    UnreadableRecordError,
    ViewsEncryptionError,
    ViewsSchemaError,
)

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.audit.errors import (
        FeedError,
        ForkRefusedError,
        InvalidKeyError,
        KeyFileError,
        MalformedNoteError,
        SignatureError,
        WitnessError,
    )
    from civicflow.audit.feed import FeedWriter, append_to_file, read_feed, read_witnessed
    from civicflow.audit.keys import (
        KeyPaths,
        generate_keys,
        load_seal_key,
        load_signer,
        load_verifier,
    )
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
    from civicflow.views import Participation, Pipeline, Review, Satisfaction, Views

_HOMES: dict[str, tuple[str, ...]] = {
    "civicflow.application.flow": ("CivicFlow",),
    "civicflow.audit.errors": (
        "FeedError",
        "ForkRefusedError",
        "InvalidKeyError",
        "KeyFileError",
        "MalformedNoteError",
        "SignatureError",
        "WitnessError",
    ),
    "civicflow.audit.feed": ("FeedWriter", "append_to_file", "read_feed", "read_witnessed"),
    "civicflow.audit.keys": (
        "KeyPaths",
        "generate_keys",
        "load_seal_key",
        "load_signer",
        "load_verifier",
    ),
    "civicflow.audit.ledger": ("Checkpoint",),
    "civicflow.audit.notes": ("TreeHead", "cosign", "open_checkpoint", "sign_checkpoint"),
    "civicflow.audit.publishing": ("Transparency", "last_in_feed"),
    "civicflow.audit.signing": ("Signer", "Verifier"),
    "civicflow.audit.trail": ("AuditEntry",),
    "civicflow.audit.verification": ("Problem", "Verification"),
    "civicflow.audit.witness": ("Proof", "Witness", "init_witness"),
    "civicflow.domain.community.areas": ("AreaKind",),
    "civicflow.domain.community.councils": ("Council", "Membership", "Role", "Via"),
    "civicflow.domain.community.policy": ("Majority", "Policy"),
    "civicflow.domain.community.residents": ("Home",),
    "civicflow.domain.community.sponsorship": ("SponsorKind", "Sponsorship"),
    "civicflow.domain.community.structure": ("AreaView", "Structure"),
    "civicflow.domain.lifecycle": ("TRANSITIONS", "Stage", "Step"),
    "civicflow.domain.proposal": ("Proposal",),
    "civicflow.domain.proposal_state": ("ProposalState",),
    "civicflow.domain.values": (
        "Budget",
        "Channel",
        "Level",
        "Outcome",
        "PublicationChannel",
        "Vote",
    ),
    "civicflow.views": ("Participation", "Pipeline", "Review", "Satisfaction", "Views"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

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
    "OutputExistsError",
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
    "SubscriptionNotFoundError",
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


# Only at run time: type checkers read the imports above, and a module ``__getattr__``
# would let them accept any name, a typo included.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Import a public name's module on first use (PEP 562), then keep the name here."""
        module = _HOME.get(name)
        if module is None:
            raise AttributeError(f"module 'civicflow' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # the next lookup is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
