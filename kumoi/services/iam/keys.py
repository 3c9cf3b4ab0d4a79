"""Access keys of IAM users: they sign requests from the moment CreateAccessKey answers."""

from __future__ import annotations

from typing import Any

from kumoi.auth.credentials import new_access_key_id, new_secret_access_key
from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase, paginate, pick, updated
from kumoi.services.iam.directory import ACCESS_KEY, USER, Doc

#: Access keys per user (IAM quota AccessKeysPerUser).
KEYS_PER_USER = 2
_STATUSES = ("Active", "Inactive")
_METADATA = ("UserName", "AccessKeyId", "Status", "CreateDate")


class KeyOperations(IamBase):
    def _user_name(self, ctx: RequestContext, request: dict[str, Any]) -> str:
        name = request.get("UserName")
        if name:
            return str(name)
        if ":user/" in ctx.caller.arn:
            return ctx.caller.arn.rsplit("/", 1)[-1]
        raise api.IamError(
            "Must specify userName when calling with non-User credentials", code="ValidationError", status=400
        )

    def _keys_of(self, account: str, user: str) -> list[Doc]:
        keys = [doc for doc in self.directory.all(account, ACCESS_KEY).values() if doc["UserName"] == user]
        return sorted(keys, key=lambda doc: doc["CreateDate"])

    def _key(self, account: str, user: str, key_id: str) -> Doc:
        doc = self.directory.get(account, ACCESS_KEY, key_id)
        if doc is None or doc["UserName"] != user:
            raise api.NoSuchEntityException(f"The Access Key with id {key_id} cannot be found")
        return doc

    async def create_access_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, self._user_name(ctx, request))["UserName"]
        async with self.directory.lock:
            if len(self._keys_of(account, user)) >= KEYS_PER_USER:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
                )
            doc: Doc = {
                "UserName": user,
                "AccessKeyId": new_access_key_id(),
                "SecretAccessKey": new_secret_access_key(),
                "Status": "Active",
                "CreateDate": self.clock.now(),
            }
            await self.directory.put(account, ACCESS_KEY, doc["AccessKeyId"], doc)
        return {"AccessKey": dict(doc)}

    async def list_access_keys(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, self._user_name(ctx, request))["UserName"]
        page, extra = paginate(self._keys_of(account, user), request, "AccessKeyId")
        return {"AccessKeyMetadata": [pick(doc, _METADATA) for doc in page], **extra}

    async def update_access_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        status = request["Status"]
        if status not in _STATUSES:
            raise api.IamError(
                f"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: "
                "Member must satisfy enum value set: [Active, Inactive]",
                code="ValidationError",
                status=400,
            )
        user = self.entity(account, USER, self._user_name(ctx, request))["UserName"]
        async with self.directory.lock:
            doc = self._key(account, user, request["AccessKeyId"])
            await self.directory.put(account, ACCESS_KEY, doc["AccessKeyId"], updated(doc, Status=status))
        return {}

    async def delete_access_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, self._user_name(ctx, request))["UserName"]
        async with self.directory.lock:
            doc = self._key(account, user, request["AccessKeyId"])
            await self.directory.delete(account, ACCESS_KEY, doc["AccessKeyId"])
        return {}

    async def get_access_key_last_used(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        key_id = request["AccessKeyId"]
        doc = self.directory.get(account, ACCESS_KEY, key_id)
        if doc is None:
            raise api.NoSuchEntityException(f"The Access Key with id {key_id} cannot be found")
        used = self.directory.last_used.get(key_id)
        last: Doc = {"ServiceName": "N/A", "Region": "N/A"}
        if used is not None:
            last = {"ServiceName": used[0], "Region": used[1], "LastUsedDate": used[2]}
        return {"UserName": doc["UserName"], "AccessKeyLastUsed": last}
