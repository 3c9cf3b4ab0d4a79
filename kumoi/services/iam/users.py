"""IAM users and groups, group membership, and user tags and permission boundaries."""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import (
    IamBase,
    check_tags,
    merge_tags,
    paginate,
    pick,
    remove_tags,
    sorted_by,
    under_path,
    updated,
)
from kumoi.services.iam.dependents import check_user_deletable
from kumoi.services.iam.directory import ACCESS_KEY, GROUP, USER, Doc
from kumoi.services.iam.names import (
    GROUP_NAME_MAX,
    GROUP_PREFIX,
    USER_NAME_MAX,
    USER_PREFIX,
    check_name,
    check_path,
    check_path_prefix,
    iam_arn,
    new_id,
)

USER_FIELDS = ("Path", "UserName", "UserId", "Arn", "CreateDate", "PermissionsBoundary", "Tags")
GROUP_FIELDS = ("Path", "GroupName", "GroupId", "Arn", "CreateDate")


def user_out(doc: Doc) -> Doc:
    out = pick(doc, USER_FIELDS)
    if doc.get("PermissionsBoundary"):
        out["PermissionsBoundary"] = boundary_out(doc["PermissionsBoundary"])
    return out


def boundary_out(arn: str) -> Doc:
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def group_out(doc: Doc) -> Doc:
    return pick(doc, GROUP_FIELDS)


class UserOperations(IamBase):
    # --- users ----------------------------------------------------------------------------------

    async def create_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["UserName"], "userName", USER_NAME_MAX)
        path = check_path(request.get("Path"))
        tags = check_tags(request.get("Tags"))
        boundary = request.get("PermissionsBoundary")
        if boundary:
            self.managed_policy(account, boundary)
        async with self.directory.lock:
            if self._user_named(account, name) is not None:
                raise api.EntityAlreadyExistsException(f"User with name {name} already exists.")
            doc: Doc = {
                "UserName": name,
                "UserId": new_id(USER_PREFIX),
                "Arn": iam_arn(account, "user", path, name),
                "Path": path,
                "CreateDate": self.clock.now(),
                "Tags": tags,
                "PermissionsBoundary": boundary,
                "AttachedPolicies": [],
                "InlinePolicies": {},
                "Groups": [],
            }
            await self.directory.put(account, USER, name, doc)
        return {"User": user_out(doc)}

    def _user_named(self, account: str, name: str) -> Doc | None:
        """IAM names are unique case-insensitively (``Alice`` and ``alice`` cannot both exist)."""
        lowered = name.lower()
        for existing, doc in self.directory.all(account, USER).items():
            if existing.lower() == lowered:
                return doc
        return None

    async def get_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = request.get("UserName")
        if name is None:
            if ctx.caller.is_root:
                return {
                    "User": {
                        "UserId": account,
                        "Arn": f"arn:aws:iam::{account}:root",
                        "CreateDate": 0.0,
                        "Path": "/",
                        "UserName": "root",
                    }
                }
            name = ctx.caller.arn.rsplit("/", 1)[-1] if ":user/" in ctx.caller.arn else ""
            if not name:
                raise api.IamError(
                    "Must specify userName when calling with non-User credentials",
                    code="ValidationError",
                    status=400,
                )
        return {"User": user_out(self.entity(account, USER, name))}

    async def list_users(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        users = under_path(self.directory.sorted(account, USER), check_path_prefix(request.get("PathPrefix")))
        page, extra = paginate(users, request, "UserName")
        return {"Users": [pick(user_out(doc), USER_FIELDS[:5]) for doc in page], **extra}

    async def update_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            path = check_path(request.get("NewPath") or doc["Path"], "newPath")
            new_name = check_name(request.get("NewUserName") or doc["UserName"], "newUserName", USER_NAME_MAX)
            if new_name != doc["UserName"] and self._user_named(account, new_name) is not None:
                raise api.EntityAlreadyExistsException(f"User with name {new_name} already exists.")
            new = updated(doc, UserName=new_name, Path=path, Arn=iam_arn(account, "user", path, new_name))
            keys = [
                key
                for key in self.directory.all(account, ACCESS_KEY).values()
                if key["UserName"] == doc["UserName"]
            ]
            if new_name != doc["UserName"]:
                await self.directory.delete(account, USER, doc["UserName"])
            await self.directory.put(account, USER, new_name, new)
            for key in keys:
                await self.directory.put(
                    account, ACCESS_KEY, key["AccessKeyId"], updated(key, UserName=new_name)
                )
        return {}

    async def delete_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            if any(
                key["UserName"] == doc["UserName"] for key in self.directory.all(account, ACCESS_KEY).values()
            ):
                raise api.DeleteConflictException("Cannot delete entity, must delete access keys first.")
            if doc["AttachedPolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must detach all policies first.")
            if doc["InlinePolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must delete policies first.")
            if doc["Groups"]:
                raise api.DeleteConflictException(
                    "Cannot delete entity, must remove user from all groups first."
                )
            check_user_deletable(self.directory, account, doc)
            await self.directory.delete(account, USER, doc["UserName"])
        return {}

    async def tag_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(account, USER, doc["UserName"], updated(doc, Tags=tags))
        return {}

    async def untag_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(account, USER, doc["UserName"], updated(doc, Tags=tags))
        return {}

    async def list_user_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self.entity(account, USER, request["UserName"])
        return {"Tags": doc["Tags"], "IsTruncated": False}

    async def put_user_permissions_boundary(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        self.managed_policy(account, request["PermissionsBoundary"])
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            new = updated(doc, PermissionsBoundary=request["PermissionsBoundary"])
            await self.directory.put(account, USER, doc["UserName"], new)
        return {}

    async def delete_user_permissions_boundary(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, USER, request["UserName"])
            await self.directory.put(account, USER, doc["UserName"], updated(doc, PermissionsBoundary=None))
        return {}

    # --- groups ---------------------------------------------------------------------------------

    async def create_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["GroupName"], "groupName", GROUP_NAME_MAX)
        path = check_path(request.get("Path"))
        async with self.directory.lock:
            if any(existing.lower() == name.lower() for existing in self.directory.all(account, GROUP)):
                raise api.EntityAlreadyExistsException(f"Group with name {name} already exists.")
            doc: Doc = {
                "GroupName": name,
                "GroupId": new_id(GROUP_PREFIX),
                "Arn": iam_arn(account, "group", path, name),
                "Path": path,
                "CreateDate": self.clock.now(),
                "AttachedPolicies": [],
                "InlinePolicies": {},
            }
            await self.directory.put(account, GROUP, name, doc)
        return {"Group": group_out(doc)}

    def members(self, account: str, group: str) -> list[Doc]:
        return [doc for doc in self.directory.sorted(account, USER) if group in doc["Groups"]]

    async def get_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self.entity(account, GROUP, request["GroupName"])
        page, extra = paginate(self.members(account, doc["GroupName"]), request, "UserName")
        return {"Group": group_out(doc), "Users": [user_out(user) for user in page], **extra}

    async def list_groups(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        groups = under_path(
            self.directory.sorted(account, GROUP), check_path_prefix(request.get("PathPrefix"))
        )
        page, extra = paginate(groups, request, "GroupName")
        return {"Groups": [group_out(doc) for doc in page], **extra}

    async def list_groups_for_user(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, request["UserName"])
        groups = sorted_by([self.entity(account, GROUP, name) for name in user["Groups"]], "GroupName")
        page, extra = paginate(groups, request, "GroupName")
        return {"Groups": [group_out(doc) for doc in page], **extra}

    async def update_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, GROUP, request["GroupName"])
            path = check_path(request.get("NewPath") or doc["Path"], "newPath")
            old = doc["GroupName"]
            new_name = check_name(request.get("NewGroupName") or old, "newGroupName", GROUP_NAME_MAX)
            if new_name != old and new_name in self.directory.all(account, GROUP):
                raise api.EntityAlreadyExistsException(f"Group with name {new_name} already exists.")
            new = updated(doc, GroupName=new_name, Path=path, Arn=iam_arn(account, "group", path, new_name))
            if new_name != old:
                for user in self.members(account, old):
                    groups = [new_name if name == old else name for name in user["Groups"]]
                    await self.directory.put(account, USER, user["UserName"], updated(user, Groups=groups))
                await self.directory.delete(account, GROUP, old)
            await self.directory.put(account, GROUP, new_name, new)
        return {}

    async def delete_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, GROUP, request["GroupName"])
            if self.members(account, doc["GroupName"]):
                raise api.DeleteConflictException("Cannot delete entity, must remove users from group first.")
            if doc["AttachedPolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must detach all policies first.")
            if doc["InlinePolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must delete policies first.")
            await self.directory.delete(account, GROUP, doc["GroupName"])
        return {}

    async def add_user_to_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            group = self.entity(account, GROUP, request["GroupName"])
            user = self.entity(account, USER, request["UserName"])
            if group["GroupName"] not in user["Groups"]:
                groups = [*user["Groups"], group["GroupName"]]
                await self.directory.put(account, USER, user["UserName"], updated(user, Groups=groups))
        return {}

    async def remove_user_from_group(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            group = self.entity(account, GROUP, request["GroupName"])
            user = self.entity(account, USER, request["UserName"])
            if group["GroupName"] not in user["Groups"]:
                raise api.NoSuchEntityException(
                    f"The user with name {user['UserName']} cannot be found in group {group['GroupName']}."
                )
            groups = [name for name in user["Groups"] if name != group["GroupName"]]
            await self.directory.put(account, USER, user["UserName"], updated(user, Groups=groups))
        return {}
