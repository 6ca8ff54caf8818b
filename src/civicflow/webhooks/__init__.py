"""Webhooks: every event of the log delivered to subscribed URLs, signed, at least once."""
