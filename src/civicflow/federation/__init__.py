"""A city of district stores: the registry of its districts, and routing among them."""
