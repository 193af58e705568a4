"""A Faust app's broker and credentials from the same settings as every dirigent client."""

from __future__ import annotations

from typing import Any

import faust

from dirigent.transport.security import Bootstrap, as_endpoint

__all__ = ["faust_broker"]


def faust_broker(bootstrap: Bootstrap) -> dict[str, Any]:
    """``faust.App`` keyword arguments (``broker``, ``broker_credentials``) for ``bootstrap``.

    Example::

        app = faust.App("shop", **faust_broker(settings.kafka()), store="memory://")
        bridge = FaustBridge(service)  # the service's own clients use settings.kafka() too
    """
    endpoint = as_endpoint(bootstrap)
    broker = ";".join(f"kafka://{h.strip()}" for h in endpoint.bootstrap.split(","))
    s, options = endpoint.security, endpoint.security.options()
    credentials: Any = None
    if s.protocol == "SSL":
        credentials = faust.SSLCredentials(options["ssl_context"])
    elif s.sasl and s.sasl_mechanism == "OAUTHBEARER":
        credentials = faust.OAuthCredentials(
            oauth_cb=options["sasl_oauth_token_provider"], ssl_context=options.get("ssl_context")
        )
    elif s.sasl:
        credentials = faust.SASLCredentials(
            username=options["sasl_plain_username"], password=options["sasl_plain_password"],
            ssl_context=options.get("ssl_context"), mechanism=s.sasl_mechanism,
        )  # fmt: skip
    if credentials is None:
        return {"broker": broker}
    return {"broker": broker, "broker_credentials": credentials}
