"""The domain: proposals, their lifecycle, the community around them, and their values.

Pure: no module here does I/O or knows a database. Aggregates record events and
check their rules; everything else is a value or a function of values.
"""
