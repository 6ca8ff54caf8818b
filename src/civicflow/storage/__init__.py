"""Storage adapters: events to bytes and back, store URLs, database set-up and errors.

The only layer that knows eventsourcing's persistence, SQLite or PostgreSQL.
"""
