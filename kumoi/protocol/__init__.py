"""Wire protocols (rest-xml, query, json) driven by botocore's service models.

Each protocol module compiles a service's model (read through :mod:`kumoi.protocol.spec`) into
per-operation plans, each at its operation's first use, and exposes a
:class:`~kumoi.protocol.base.ServiceCodec`. Nothing here knows any service's business rules.
"""
