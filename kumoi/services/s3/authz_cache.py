"""The authorizer's cache of what it read about buckets, shared with the operations that change it.

The authorizer (``authz.py``) keeps what it read of a bucket (policy, owner, tags, ACL, Block
Public Access settings) for up to a second, so a burst of requests costs one metadata read. The
operations that change those facts (Put/DeleteBucketPolicy, Put/DeletePublicAccessBlock,
Put/DeleteBucketOwnershipControls, PutBucketAcl, S3 Control's account settings) call
:func:`forget`, so within one process a change applies to the next request. There is one cache per
metadata store (a test process may run several servers).
"""

from __future__ import annotations

import weakref
from typing import Any

from kumoi.storage.meta.contract import MetadataStore

#: Bucket name → (monotonic expiry, facts).
FactsCache = dict[str, tuple[float, Any]]

_CACHES: weakref.WeakKeyDictionary[MetadataStore, FactsCache] = weakref.WeakKeyDictionary()


def cache_of(meta: MetadataStore) -> FactsCache:
    found = _CACHES.get(meta)
    if found is None:
        found = _CACHES[meta] = {}
    return found


def forget(meta: MetadataStore, bucket: str | None = None) -> None:
    """Drop what is cached of ``bucket`` (of every bucket when None: an account setting changed)."""
    cache = _CACHES.get(meta)
    if cache is None:
        return
    if bucket is None:
        cache.clear()
    else:
        cache.pop(bucket, None)
