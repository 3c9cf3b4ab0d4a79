"""IAM roles (trust policies, session duration, boundaries, tags) and instance profiles."""

from __future__ import annotations

from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import (
    IamBase,
    check_document,
    check_tags,
    encode_document,
    merge_tags,
    paginate,
    pick,
    remove_tags,
    under_path,
    updated,
)
from kumoi.services.iam.directory import PROFILE, ROLE, Doc
from kumoi.services.iam.names import (
    DESCRIPTION_MAX,
    PROFILE_NAME_MAX,
    PROFILE_PREFIX,
    ROLE_NAME_MAX,
    ROLE_PREFIX,
    check_name,
    check_path,
    check_path_prefix,
    iam_arn,
    new_id,
    validation_error,
)
from kumoi.services.iam.users import boundary_out

#: MaxSessionDuration: default one hour, at most twelve.
DEFAULT_MAX_SESSION = 3600
MIN_MAX_SESSION = 3600
MAX_MAX_SESSION = 43200
#: Trust policy size quota (ACLSizePerRole, default 2,048 characters).
TRUST_POLICY_MAX = 2048
#: Roles per instance profile.
ROLES_PER_PROFILE = 1

ROLE_FIELDS = ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "Description", "MaxSessionDuration", "Tags")


def role_out(doc: Doc, *, full: bool = True) -> Doc:
    out = pick(doc, ROLE_FIELDS if full else ROLE_FIELDS[:7])
    out["AssumeRolePolicyDocument"] = encode_document(doc["AssumeRolePolicyDocument"])
    if full:
        if doc.get("PermissionsBoundary"):
            out["PermissionsBoundary"] = boundary_out(doc["PermissionsBoundary"])
        out["RoleLastUsed"] = doc.get("RoleLastUsed") or {}
    return out


class RoleOperations(IamBase):
    async def create_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["RoleName"], "roleName", ROLE_NAME_MAX)
        path = check_path(request.get("Path"))
        trust = check_document(
            request["AssumeRolePolicyDocument"], "trust", "ACLSizePerRole", TRUST_POLICY_MAX
        )
        duration = _max_session(request.get("MaxSessionDuration"))
        description = _description(request.get("Description"))
        tags = check_tags(request.get("Tags"))
        boundary = request.get("PermissionsBoundary")
        if boundary:
            self.managed_policy(account, boundary)
        async with self.directory.lock:
            if any(existing.lower() == name.lower() for existing in self.directory.all(account, ROLE)):
                raise api.EntityAlreadyExistsException(f"Role with name {name} already exists.")
            doc: Doc = {
                "RoleName": name,
                "RoleId": new_id(ROLE_PREFIX),
                "Arn": iam_arn(account, "role", path, name),
                "Path": path,
                "CreateDate": self.clock.now(),
                "AssumeRolePolicyDocument": trust,
                "Description": description,
                "MaxSessionDuration": duration,
                "PermissionsBoundary": boundary,
                "Tags": tags,
                "AttachedPolicies": [],
                "InlinePolicies": {},
            }
            await self.directory.put(account, ROLE, name, doc)
        return {"Role": role_out(doc)}

    async def get_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"Role": role_out(self.entity(account, ROLE, request["RoleName"]))}

    async def list_roles(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        roles = under_path(self.directory.sorted(account, ROLE), check_path_prefix(request.get("PathPrefix")))
        page, extra = paginate(roles, request, "RoleName")
        return {"Roles": [role_out(doc, full=False) for doc in page], **extra}

    async def update_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            changes: dict[str, Any] = {}
            if request.get("Description") is not None:
                changes["Description"] = _description(request["Description"])
            if request.get("MaxSessionDuration") is not None:
                changes["MaxSessionDuration"] = _max_session(request["MaxSessionDuration"])
            await self.directory.put(account, ROLE, doc["RoleName"], updated(doc, **changes))
        return {}

    async def update_role_description(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            new = updated(doc, Description=_description(request["Description"]))
            await self.directory.put(account, ROLE, doc["RoleName"], new)
        return {"Role": role_out(new)}

    async def update_assume_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        trust = check_document(request["PolicyDocument"], "trust", "ACLSizePerRole", TRUST_POLICY_MAX)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            await self.directory.put(
                account, ROLE, doc["RoleName"], updated(doc, AssumeRolePolicyDocument=trust)
            )
        return {}

    async def delete_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            if self._profiles_of(account, doc["RoleName"]):
                raise api.DeleteConflictException(
                    "Cannot delete entity, must remove roles from instance profile first."
                )
            if doc["AttachedPolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must detach all policies first.")
            if doc["InlinePolicies"]:
                raise api.DeleteConflictException("Cannot delete entity, must delete policies first.")
            await self.directory.delete(account, ROLE, doc["RoleName"])
        return {}

    async def tag_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(account, ROLE, doc["RoleName"], updated(doc, Tags=tags))
        return {}

    async def untag_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(account, ROLE, doc["RoleName"], updated(doc, Tags=tags))
        return {}

    async def list_role_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"Tags": self.entity(account, ROLE, request["RoleName"])["Tags"], "IsTruncated": False}

    async def put_role_permissions_boundary(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        self.managed_policy(account, request["PermissionsBoundary"])
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            new = updated(doc, PermissionsBoundary=request["PermissionsBoundary"])
            await self.directory.put(account, ROLE, doc["RoleName"], new)
        return {}

    async def delete_role_permissions_boundary(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            await self.directory.put(account, ROLE, doc["RoleName"], updated(doc, PermissionsBoundary=None))
        return {}

    # --- instance profiles ----------------------------------------------------------------------

    def _profiles_of(self, account: str, role: str) -> list[Doc]:
        return [doc for doc in self.directory.sorted(account, PROFILE) if role in doc["Roles"]]

    def _profile(self, account: str, name: str) -> Doc:
        doc = self.directory.get(account, PROFILE, name)
        if doc is None:
            raise api.NoSuchEntityException(f"Instance Profile {name} cannot be found.")
        return doc

    def _profile_out(self, account: str, doc: Doc) -> Doc:
        out = pick(doc, ("Path", "InstanceProfileName", "InstanceProfileId", "Arn", "CreateDate", "Tags"))
        roles = [self.directory.get(account, ROLE, name) for name in doc["Roles"]]
        out["Roles"] = [role_out(role, full=False) for role in roles if role is not None]
        return out

    async def create_instance_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["InstanceProfileName"], "instanceProfileName", PROFILE_NAME_MAX)
        path = check_path(request.get("Path"))
        tags = check_tags(request.get("Tags"))
        async with self.directory.lock:
            if self.directory.get(account, PROFILE, name) is not None:
                raise api.EntityAlreadyExistsException(f"Instance Profile {name} already exists.")
            doc: Doc = {
                "InstanceProfileName": name,
                "InstanceProfileId": new_id(PROFILE_PREFIX),
                "Arn": iam_arn(account, "instance-profile", path, name),
                "Path": path,
                "CreateDate": self.clock.now(),
                "Roles": [],
                "Tags": tags,
            }
            await self.directory.put(account, PROFILE, name, doc)
        return {"InstanceProfile": self._profile_out(account, doc)}

    async def get_instance_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {
            "InstanceProfile": self._profile_out(
                account, self._profile(account, request["InstanceProfileName"])
            )
        }

    async def list_instance_profiles(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        docs = under_path(
            self.directory.sorted(account, PROFILE), check_path_prefix(request.get("PathPrefix"))
        )
        page, extra = paginate(docs, request, "InstanceProfileName")
        return {"InstanceProfiles": [self._profile_out(account, doc) for doc in page], **extra}

    async def list_instance_profiles_for_role(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        role = self.entity(account, ROLE, request["RoleName"])
        page, extra = paginate(self._profiles_of(account, role["RoleName"]), request, "InstanceProfileName")
        return {"InstanceProfiles": [self._profile_out(account, doc) for doc in page], **extra}

    async def delete_instance_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._profile(account, request["InstanceProfileName"])
            if doc["Roles"]:
                raise api.DeleteConflictException(
                    "Cannot delete entity, must remove roles from instance profile first."
                )
            await self.directory.delete(account, PROFILE, doc["InstanceProfileName"])
        return {}

    async def add_role_to_instance_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._profile(account, request["InstanceProfileName"])
            role = self.entity(account, ROLE, request["RoleName"])
            if len(doc["Roles"]) >= ROLES_PER_PROFILE:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_PROFILE}"
                )
            new = updated(doc, Roles=[*doc["Roles"], role["RoleName"]])
            await self.directory.put(account, PROFILE, doc["InstanceProfileName"], new)
        return {}

    async def remove_role_from_instance_profile(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._profile(account, request["InstanceProfileName"])
            role = self.entity(account, ROLE, request["RoleName"])
            if role["RoleName"] not in doc["Roles"]:
                raise api.NoSuchEntityException(
                    f"The role with name {role['RoleName']} cannot be found in instance profile "
                    f"{doc['InstanceProfileName']}."
                )
            new = updated(doc, Roles=[name for name in doc["Roles"] if name != role["RoleName"]])
            await self.directory.put(account, PROFILE, doc["InstanceProfileName"], new)
        return {}


def _max_session(value: int | None) -> int:
    if value is None:
        return DEFAULT_MAX_SESSION
    if not MIN_MAX_SESSION <= value <= MAX_MAX_SESSION:
        raise validation_error(
            str(value),
            "maxSessionDuration",
            f"Member must have value less than or equal to {MAX_MAX_SESSION}"
            if value > MAX_MAX_SESSION
            else f"Member must have value greater than or equal to {MIN_MAX_SESSION}",
        )
    return value


def _description(value: str | None) -> str | None:
    if value is not None and len(value) > DESCRIPTION_MAX:
        raise validation_error(
            value, "description", f"Member must have length less than or equal to {DESCRIPTION_MAX}"
        )
    return value
