"""Wire protocols (rest-xml, query, json) driven by botocore's service models.

Each protocol module compiles a service's model into per-operation plans at start-up and exposes a
:class:`~kumoi.protocol.base.ServiceCodec`. Nothing here knows any service's business rules.
"""
