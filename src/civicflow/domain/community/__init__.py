"""The community a proposal lives in: areas, councils, residents, policies, sponsors.

The ``Directory`` aggregate keeps the structure with its history; ``Resident``
aggregates keep where each resident lived when; ``rules`` judges a step
against the structure as it stood at the moment the step happened.
"""
