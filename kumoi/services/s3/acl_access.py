"""What ACL grants allow: AWS's mapping of ACL permissions to policy actions, and a bucket's or an
object's grants as resource-policy statements the authorizer evaluates beside the bucket policy.

From the S3 User Guide ("Mapping of ACL permissions and access policy permissions"):

- ``READ``: on a bucket ``s3:ListBucket``, ``s3:ListBucketVersions``,
  ``s3:ListBucketMultipartUploads``; on an object ``s3:GetObject``, ``s3:GetObjectVersion``,
  ``s3:GetObjectTorrent``.
- ``WRITE`` (buckets only: create, overwrite and delete any object): ``s3:PutObject``,
  ``s3:DeleteObject``, ``s3:DeleteObjectVersion``; kumoi adds ``s3:AbortMultipartUpload``, so a
  writer can abandon its own uploads.
- ``READ_ACP``: ``s3:GetBucketAcl``; on an object ``s3:GetObjectAcl``, ``s3:GetObjectVersionAcl``.
- ``WRITE_ACP``: ``s3:PutBucketAcl``; on an object ``s3:PutObjectAcl``, ``s3:PutObjectVersionAcl``.
- ``FULL_CONTROL``: all of the above.

Evaluating grants as policy statements gives AWS's combination for free: an explicit ``Deny`` in
the bucket policy still wins, a grant to another account lets that account's root in and its
users only where their own identity policies allow too (when IAM is enforced for it), and the
``AllUsers`` group is ``"*"`` (anonymous callers included). A grant to an account matches through
the condition key :data:`CANONICAL_KEY`, which the S3 authorization map sets to the caller
account's canonical user id (an account's id is not recoverable from its canonical id).
``AuthenticatedUsers`` is every signed caller. Grants to the resource owner's own account are left
out: its principals get their permissions from their identity policies (the root user from being
the owner). ``IgnorePublicAcls`` drops the grants to the two public groups; email grantees and
the ``LogDelivery`` group grant nothing here.

An object another account wrote (``ObjectWriter``, or ``BucketOwnerPreferred`` without
``bucket-owner-full-control``) belongs to that account: reading it or its ACL is then judged with
the object's owner as the resource owner (:func:`object_owner`), so the bucket owner gets in only
where the object's grants name it, as on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from kumoi.services.s3.owner import canonical_id

#: The attrs member holding an object's grants (its presence: written while ACLs were enabled).
ATTR = "Acl"
#: The condition key carrying the caller's canonical user id (set only for signed callers).
CANONICAL_KEY = "kumoi:canonicaluserid"
GROUPS = "http://acs.amazonaws.com/groups/"
ALL_USERS = GROUPS + "global/AllUsers"
AUTHENTICATED_USERS = GROUPS + "global/AuthenticatedUsers"
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})

_BUCKET: dict[str, tuple[str, ...]] = {
    "READ": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
    "WRITE": ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"),
    "READ_ACP": ("s3:GetBucketAcl",),
    "WRITE_ACP": ("s3:PutBucketAcl",),
}
_OBJECT: dict[str, tuple[str, ...]] = {
    "READ": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent"),
    "READ_ACP": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "WRITE_ACP": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
}


def _with_full_control(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    every = tuple(dict.fromkeys(action for actions in table.values() for action in actions))
    return {**table, "FULL_CONTROL": every}


#: ACL permission → the actions it allows, on a bucket and on an object.
BUCKET_PERMISSIONS = _with_full_control(_BUCKET)
OBJECT_PERMISSIONS = _with_full_control(_OBJECT)
#: Lower-cased actions an object's own ACL can allow (only for these is the object read).
OBJECT_ACL_ACTIONS = frozenset(action.lower() for action in OBJECT_PERMISSIONS["FULL_CONTROL"])


def object_owner(attrs: Mapping[str, Any], bucket_owner: str) -> str:
    """The account owning an object of a bucket whose ACLs are enabled: its writer where it was
    written with ACLs enabled (it then has grants), else the bucket owner."""
    if ATTR not in attrs:
        return bucket_owner
    return str(attrs.get("Owner") or bucket_owner)


def actions_for(permission: str, *, on_object: bool) -> tuple[str, ...]:
    """The policy actions an ACL ``permission`` allows on a bucket or an object."""
    table = OBJECT_PERMISSIONS if on_object else BUCKET_PERMISSIONS
    return table.get(permission, ())


def _grantee_key(grantee: Mapping[str, Any]) -> tuple[str, str] | None:
    """``("uri", group)`` or ``("id", canonical id)``; None for grantees that grant nothing."""
    kind = grantee.get("Type")
    if kind == "Group" and grantee.get("URI") in PUBLIC_GROUPS:
        return "uri", str(grantee["URI"])
    if kind == "CanonicalUser" and grantee.get("ID"):
        return "id", str(grantee["ID"])
    return None


def statements(
    grants: Iterable[Mapping[str, Any]],
    *,
    on_object: bool,
    resource: str | list[str],
    owner: str,
    ignore_public: bool,
) -> tuple[str, ...]:
    """The grants as statements (JSON texts) allowing their actions on ``resource``, one per
    grantee; ``owner`` is the account owning the bucket."""
    keys: list[tuple[str, str, str]] = []
    for grant in grants:
        key = _grantee_key(grant.get("Grantee") or {})
        if key is not None:
            keys.append((*key, str(grant.get("Permission", ""))))
    where = resource if isinstance(resource, str) else tuple(resource)
    return _statements(tuple(keys), on_object, where, owner, ignore_public)


@lru_cache(maxsize=4096)
def _statements(
    grants: tuple[tuple[str, str, str], ...],
    on_object: bool,
    resource: str | tuple[str, ...],
    owner: str,
    ignore_public: bool,
) -> tuple[str, ...]:
    own = ("id", canonical_id(owner))
    by_grantee: dict[tuple[str, str], dict[str, None]] = {}
    for kind, value, permission in grants:
        if (kind, value) == own or (ignore_public and kind == "uri"):
            continue
        allowed = actions_for(permission, on_object=on_object)
        by_grantee.setdefault((kind, value), {}).update(dict.fromkeys(allowed))
    found: list[str] = []
    for (kind, value), actions in sorted(by_grantee.items()):
        if not actions:
            continue
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(actions),
            "Resource": resource if isinstance(resource, str) else list(resource),
        }
        if kind == "id":
            statement["Condition"] = {"StringEquals": {CANONICAL_KEY: value}}
        elif value == AUTHENTICATED_USERS:
            statement["Condition"] = {"Null": {CANONICAL_KEY: "false"}}
        found.append(json.dumps(statement, separators=(",", ":")))
    return tuple(found)


@lru_cache(maxsize=1024)
def combined(policy: str | None, extra: tuple[str, ...]) -> str | None:
    """The bucket policy ``policy`` with the statements ``extra`` appended (one document, so the
    authorizer evaluates them together; an explicit ``Deny`` of the policy still wins)."""
    if not extra:
        return policy
    added = [json.loads(text) for text in extra]
    if policy is None:
        return json.dumps({"Version": "2012-10-17", "Statement": added})
    document = json.loads(policy)
    raw = document.get("Statement")
    document["Statement"] = [*(raw if isinstance(raw, list) else [raw]), *added]
    return json.dumps(document)


def is_public(grants: Iterable[Mapping[str, Any]]) -> bool:
    """Whether ``grants`` give anything to the AllUsers or AuthenticatedUsers groups."""
    return any((grant.get("Grantee") or {}).get("URI") in PUBLIC_GROUPS for grant in grants)
