"""Types shared by every layer: HTTP messages, body streams, errors, request context, clock.

Nothing here imports anything else of kumoi's.
"""
