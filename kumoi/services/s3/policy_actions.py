"""S3's IAM actions and the resource types each applies to, for validating bucket policies.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for Amazon
S3"). A bucket policy may only name ``s3:`` actions that exist ("Policy has invalid action"), and
each action must apply to at least one of the statement's resources ("Action does not apply to any
resource(s) in statement"): object actions to ``arn:aws:s3:::bucket/key`` resources, bucket actions
to ``arn:aws:s3:::bucket``. Actions on other resource types (access points, batch jobs, Storage
Lens, Multi-Region Access Points, Access Grants) or on none (``s3:ListAllMyBuckets``) exist but
apply to no resource a bucket policy can name.
"""

from __future__ import annotations

from functools import lru_cache

from kumoi.auth.policy.glob import glob_match

BUCKET = "bucket"
OBJECT = "object"

_OBJECT_ACTIONS = """
AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectTagging DeleteObjectVersion
DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold
GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl
GetObjectVersionAttributes GetObjectVersionForReplication GetObjectVersionTagging
GetObjectVersionTorrent InitiateReplication ListMultipartUploadParts
ObjectOwnerOverrideToBucketOwner PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention
PutObjectTagging PutObjectVersionAcl PutObjectVersionTagging RenameObject ReplicateDelete
ReplicateObject ReplicateTags RestoreObject UpdateObjectEncryption
"""
_BUCKET_ACTIONS = """
CreateBucket CreateBucketMetadataTableConfiguration CreateBucketMetadataConfiguration DeleteBucket
DeleteBucketMetadataTableConfiguration DeleteBucketMetadataConfiguration DeleteBucketPolicy
DeleteBucketWebsite GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAbac GetBucketAcl
GetBucketCORS GetBucketLocation GetBucketLogging GetBucketMetadataTableConfiguration
GetBucketMetadataConfiguration GetBucketNotification GetBucketObjectLockConfiguration
GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite
GetEncryptionConfiguration GetIntelligentTieringConfiguration GetInventoryConfiguration
GetLifecycleConfiguration GetMetricsConfiguration GetReplicationConfiguration ListBucket
ListBucketMultipartUploads ListBucketVersions PutAccelerateConfiguration PutAnalyticsConfiguration
PutBucketAbac PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy
PutBucketPublicAccessBlock PutBucketRequestPayment PutBucketTagging PutBucketVersioning
PutBucketWebsite PutEncryptionConfiguration PutIntelligentTieringConfiguration
PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration
PutReplicationConfiguration UpdateBucketMetadataInventoryTableConfiguration
UpdateBucketMetadataJournalTableConfiguration
"""
#: Real S3 actions on resources a bucket policy cannot name, or on none.
_OTHER_ACTIONS = """
AssociateAccessGrantsIdentityCenter CreateAccessGrant CreateAccessGrantsInstance
CreateAccessGrantsLocation CreateAccessPoint CreateAccessPointForObjectLambda CreateJob
CreateMultiRegionAccessPoint CreateStorageLensGroup DeleteAccessGrant DeleteAccessGrantsInstance
DeleteAccessGrantsInstanceResourcePolicy DeleteAccessGrantsLocation DeleteAccessPoint
DeleteAccessPointForObjectLambda DeleteAccessPointPolicy DeleteAccessPointPolicyForObjectLambda
DeleteJobTagging DeleteMultiRegionAccessPoint DeleteStorageLensConfiguration
DeleteStorageLensConfigurationTagging DeleteStorageLensGroup DescribeJob
DescribeMultiRegionAccessPointOperation DissociateAccessGrantsIdentityCenter GetAccessGrant
GetAccessGrantsInstance GetAccessGrantsInstanceForPrefix GetAccessGrantsInstanceResourcePolicy
GetAccessGrantsLocation GetAccessPoint GetAccessPointConfigurationForObjectLambda
GetAccessPointForObjectLambda GetAccessPointPolicy GetAccessPointPolicyForObjectLambda
GetAccessPointPolicyStatus GetAccessPointPolicyStatusForObjectLambda GetAccountPublicAccessBlock
GetDataAccess GetJobTagging GetMultiRegionAccessPoint GetMultiRegionAccessPointPolicy
GetMultiRegionAccessPointPolicyStatus GetMultiRegionAccessPointRoutes GetStorageLensConfiguration
GetStorageLensConfigurationTagging GetStorageLensDashboard GetStorageLensGroup ListAccessGrants
ListAccessGrantsInstances ListAccessGrantsLocations ListAccessPoints ListAccessPointsForObjectLambda
ListAllMyBuckets ListCallerAccessGrants ListJobs ListMultiRegionAccessPoints
ListStorageLensConfigurations ListStorageLensGroups ListTagsForResource PutAccessGrantsInstanceResourcePolicy
PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy PutAccessPointPolicyForObjectLambda
PutAccessPointPublicAccessBlock PutAccountPublicAccessBlock PutJobTagging
PutMultiRegionAccessPointPolicy PutStorageLensConfiguration PutStorageLensConfigurationTagging
SubmitMultiRegionAccessPointRoutes TagResource UntagResource UpdateAccessGrantsLocation
UpdateJobPriority UpdateJobStatus UpdateStorageLensGroup
"""


def _table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for names, kinds in (
        (_OBJECT_ACTIONS, frozenset({OBJECT})),
        (_BUCKET_ACTIONS, frozenset({BUCKET})),
        (_OTHER_ACTIONS, frozenset[str]()),
    ):
        for name in names.split():
            table[f"s3:{name}".lower()] = kinds
    return table


#: Lower-cased ``s3:Action`` → the resource types (``bucket``, ``object``) it applies to.
ACTIONS: dict[str, frozenset[str]] = _table()


@lru_cache(maxsize=1024)
def resource_types(pattern: str) -> frozenset[str] | None:
    """The resource types the actions matching ``pattern`` (``s3:Get*``) apply to; None when the
    pattern names no S3 action at all (``s3:Nope``, ``sqs:SendMessage``)."""
    lowered = pattern.lower()
    if lowered == "*":
        return frozenset({BUCKET, OBJECT})
    if not lowered.startswith("s3:"):
        return None
    if "*" not in lowered and "?" not in lowered:
        return ACTIONS.get(lowered)
    matched = [kinds for name, kinds in ACTIONS.items() if glob_match(lowered, name)]
    if not matched:
        return None
    return frozenset().union(*matched)
