"""Webhooks: the log pushed to subscribed URLs, signed as Standard Webhooks define.

``Webhooks(flow)`` adds, lists, pauses, resumes and removes subscriptions, kept in
a table beside the events; ``Relay(flow)`` delivers each event to each subscription
at least once, in log order, with a stable ``webhook-id``. See docs/webhooks.md.
"""

from civicflow.webhooks.delivery import Delivery, webhook_id
from civicflow.webhooks.names import public_name, public_names
from civicflow.webhooks.privacy import Residents, pseudonym
from civicflow.webhooks.relay import Relay
from civicflow.webhooks.retrying import RetryPolicy
from civicflow.webhooks.subscribing import Webhooks
from civicflow.webhooks.subscription import State, Subscription

__all__ = [
    "Delivery",
    "Relay",
    "Residents",
    "RetryPolicy",
    "State",
    "Subscription",
    "Webhooks",
    "pseudonym",
    "public_name",
    "public_names",
    "webhook_id",
]
