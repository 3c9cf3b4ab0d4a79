"""The S3 provider: buckets, objects, copies, tags, multipart uploads, CORS, form uploads, event
notifications and the other bucket settings.

Each group of operations lives in its own module, as a mixin over
:class:`~kumoi.services.s3.base.S3Base`; this class only puts them together so the dispatcher
finds every operation as a method of one object.
"""

from __future__ import annotations

from typing import Any

from kumoi.auth.post_policy import PostPolicyVerifier
from kumoi.core.clock import Clock
from kumoi.services.s3.accelerate import AccelerateOperations
from kumoi.services.s3.acl import AclOperations
from kumoi.services.s3.bucket_encryption import BucketEncryptionOperations
from kumoi.services.s3.bucket_policy import BucketPolicyOperations
from kumoi.services.s3.buckets import BucketOperations
from kumoi.services.s3.cors import CorsOperations
from kumoi.services.s3.event_outbox import EventOutbox
from kumoi.services.s3.id_configurations import IdConfigurationOperations
from kumoi.services.s3.lifecycle_config import LifecycleConfigOperations
from kumoi.services.s3.lifecycle_worker import LifecycleWorker
from kumoi.services.s3.logging_config import LoggingOperations
from kumoi.services.s3.multipart import MultipartOperations
from kumoi.services.s3.notifications import NotificationOperations
from kumoi.services.s3.object_attributes import ObjectAttributesOperations
from kumoi.services.s3.object_lock_ops import ObjectLockOperations
from kumoi.services.s3.ownership import OwnershipOperations
from kumoi.services.s3.post_object import PostObjectOperations
from kumoi.services.s3.public_access import PublicAccessOperations
from kumoi.services.s3.request_payment import RequestPaymentOperations
from kumoi.services.s3.restore import RestoreOperations
from kumoi.services.s3.tagging import TaggingOperations
from kumoi.services.s3.versioning_config import VersioningOperations
from kumoi.services.s3.versions_listing import VersionListingOperations
from kumoi.services.s3.website import WebsiteOperations
from kumoi.storage.blob import crypto
from kumoi.storage.blob.contract import BlobStore
from kumoi.storage.meta.contract import MetadataStore


class S3Provider(
    BucketOperations,
    BucketEncryptionOperations,
    TaggingOperations,
    CorsOperations,
    PostObjectOperations,
    MultipartOperations,
    NotificationOperations,
    BucketPolicyOperations,
    PublicAccessOperations,
    OwnershipOperations,
    AclOperations,
    VersioningOperations,
    VersionListingOperations,
    ObjectLockOperations,
    ObjectAttributesOperations,
    LifecycleConfigOperations,
    RestoreOperations,
    AccelerateOperations,
    RequestPaymentOperations,
    WebsiteOperations,
    LoggingOperations,
    IdConfigurationOperations,
):
    """Every implemented S3 operation (see the mixins for each group's rules)."""

    def __init__(
        self,
        meta: MetadataStore,
        blobs: BlobStore,
        clock: Clock,
        post_policy: PostPolicyVerifier,
        keyring: crypto.Keyring | None = None,
        *,
        seal_at_rest: bool = True,
        events: EventOutbox | None = None,
    ) -> None:
        super().__init__(meta, blobs, clock, keyring, seal_at_rest=seal_at_rest, events=events)
        self._post_policy = post_policy
        self.lifecycle = LifecycleWorker(meta, blobs, clock, self._events)

    async def run_lifecycle(self) -> dict[str, Any]:
        """One lifecycle pass and one round of restore work, now (``POST /_kumoi/lifecycle``)."""
        report = await self.lifecycle.run_pass()
        report.update(await self.run_restores())
        return report
