"""Put/Get/DeletePublicAccessBlock (bucket level) and what the settings do to bucket policies.

Since April 2023 every new S3 bucket starts with all four settings on, so a bucket whose config
has no ``PublicAccessBlock`` entry answers all four ``true``; DeletePublicAccessBlock stores
``None``, after which Get answers ``NoSuchPublicAccessBlockConfiguration`` and nothing is blocked.

``BlockPublicPolicy`` refuses a public bucket policy (see ``bucket_policy.py``).
``RestrictPublicBuckets`` keeps a stored public policy from granting anything to anonymous or
other accounts' principals: :func:`effective_policy` gives the authorizer the policy as it then
applies. ``BlockPublicAcls`` and ``IgnorePublicAcls`` concern ACLs, which are disabled while the
bucket is ``BucketOwnerEnforced`` (see ``ownership.py``): ``BlockPublicAcls`` refuses writes of
public ACLs, ``IgnorePublicAcls`` keeps stored public grants from granting anything (and from
making the bucket public).

The account's own settings (S3 Control's PutPublicAccessBlock, read through
:func:`account_blocks`) combine with the bucket's: a flag is on where either has it on, the most
restrictive combination, as S3 applies them. GetPublicAccessBlock still answers the bucket's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.s3 import errors
from kumoi.services.s3.authz_cache import forget
from kumoi.services.s3.base import S3Base
from kumoi.services.s3.owner import canonical_id
from kumoi.services.s3.policy_rules import is_public
from kumoi.storage.account_settings import for_store
from kumoi.storage.meta.contract import MetadataStore

ATTR = "PublicAccessBlock"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
#: What a bucket gets when it is created.
NEW_BUCKET_DEFAULT: dict[str, bool] = dict.fromkeys(FLAGS, True)


def block_settings(config: Mapping[str, Any]) -> dict[str, bool] | None:
    """The bucket's four settings; None when its configuration was deleted."""
    if ATTR not in config:
        return dict(NEW_BUCKET_DEFAULT)
    stored = config[ATTR]
    if stored is None:
        return None
    return {flag: bool(stored.get(flag, False)) for flag in FLAGS}


#: The name of the account-level settings in :mod:`kumoi.storage.account_settings`.
ACCOUNT_SETTING = "PublicAccessBlock"


async def account_blocks(meta: MetadataStore, account_id: str) -> dict[str, bool] | None:
    """The account's own four settings (S3 Control); None where it has none."""
    stored = await for_store(meta).get(account_id, ACCOUNT_SETTING)
    return None if stored is None else {flag: bool(stored.get(flag, False)) for flag in FLAGS}


def combine(config: Mapping[str, Any], account: Mapping[str, bool] | None) -> dict[str, bool]:
    """The settings that apply to a bucket: each flag on where the bucket's or the account's is."""
    own = block_settings(config) or {}
    return {flag: bool(own.get(flag)) or bool(account and account.get(flag)) for flag in FLAGS}


def blocks(config: Mapping[str, Any], flag: str, account: Mapping[str, bool] | None = None) -> bool:
    return combine(config, account)[flag]


def effective_policy(
    config: Mapping[str, Any], owner: str, account: Mapping[str, bool] | None = None
) -> str | None:
    """The bucket policy the authorizer should evaluate for a bucket of account ``owner``.

    With ``RestrictPublicBuckets`` on and a public policy stored, S3 lets only the owner
    account's principals (and AWS services) use it: grants to anyone become grants to the owner
    account (whose users then still need an identity policy, as for any account grant), grants to
    other accounts or federated users are dropped, ``NotPrincipal`` allows are dropped, and every
    ``Deny`` stays. Otherwise the stored policy applies as it is.
    """
    policy = config.get("Policy")
    if not isinstance(policy, str):
        return None
    if not blocks(config, "RestrictPublicBuckets", account) or not is_public(policy):
        return policy
    return _restricted(policy, owner)


@lru_cache(maxsize=1024)
def _restricted(policy: str, owner: str) -> str | None:
    document = json.loads(policy)
    raw = document.get("Statement")
    kept: list[dict[str, Any]] = []
    for statement in raw if isinstance(raw, list) else [raw]:
        if statement.get("Effect") != "Allow":
            kept.append(statement)
            continue
        if "NotPrincipal" in statement:
            continue
        principal = _owner_only(statement.get("Principal"), owner)
        if principal:
            kept.append({**statement, "Principal": principal})
    if not kept:
        return None
    document["Statement"] = kept
    return json.dumps(document)


def _owner_only(principal: Any, owner: str) -> dict[str, list[str]]:
    """The entries of ``principal`` that name the owner account, its principals or a service;
    a wildcard entry becomes the owner account."""
    root = f"arn:aws:iam::{owner}:root"
    if principal == "*":
        return {"AWS": [root]}
    kept: dict[str, list[str]] = {}
    for kind, entries in principal.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if "*" in entry or "?" in entry:
                kept.setdefault("AWS", []).append(root)
            elif (
                (kind == "AWS" and (entry == owner or entry.split(":")[4:5] == [owner]))
                or (kind == "CanonicalUser" and entry == canonical_id(owner))
                or kind == "Service"
            ):
                kept.setdefault(kind, []).append(entry)
    return {kind: sorted(set(entries)) for kind, entries in kept.items()}


def no_configuration(bucket: str) -> ServiceError:
    return errors.no_bucket_configuration(
        "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", bucket
    )


class PublicAccessOperations(S3Base):
    async def put_public_access_block(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        given = request.get("PublicAccessBlockConfiguration") or {}
        await self._set_bucket_setting(bucket, ATTR, {flag: bool(given.get(flag, False)) for flag in FLAGS})
        forget(self._meta, bucket.name)
        return {}

    async def get_public_access_block(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        settings = block_settings(bucket.config)
        if settings is None:
            raise no_configuration(bucket.name)
        return {"PublicAccessBlockConfiguration": settings}

    async def delete_public_access_block(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = await self._bucket(ctx, request["Bucket"])
        await self._set_bucket_setting(bucket, ATTR, None)
        forget(self._meta, bucket.name)
        return {}
