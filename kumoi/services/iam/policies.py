"""Managed policies (with versions), attaching them, and inline policies of users, groups, roles."""

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
from kumoi.services.iam.directory import GROUP, POLICY, ROLE, USER, Doc
from kumoi.services.iam.managed import AWS_MANAGED
from kumoi.services.iam.names import (
    DESCRIPTION_MAX,
    POLICY_NAME_MAX,
    POLICY_PREFIX,
    check_name,
    check_path,
    check_path_prefix,
    iam_arn,
    new_id,
    validation_error,
)

#: Managed policy document size (PolicySize) and versions kept per policy.
POLICY_SIZE_MAX = 6144
VERSIONS_MAX = 5
#: Managed policies attached per user, group or role.
ATTACHED_MAX = 10
#: Aggregate inline policy size per entity kind, and the quota's name.
INLINE_QUOTAS = {
    USER: ("UserPolicySize", 2048),
    GROUP: ("GroupPolicySize", 5120),
    ROLE: ("RolePolicySize", 10240),
}
_ATTACH_QUOTAS = {USER: "ManagedPoliciesPerUser", GROUP: "ManagedPoliciesPerGroup", ROLE: "PoliciesPerRole"}
_NAME_KEYS = {USER: "UserName", GROUP: "GroupName", ROLE: "RoleName"}
_KIND_WORD = {USER: "user", GROUP: "group", ROLE: "role"}
_POLICY_FIELDS = (
    "PolicyName",
    "PolicyId",
    "Arn",
    "Path",
    "DefaultVersionId",
    "AttachmentCount",
    "PermissionsBoundaryUsageCount",
    "IsAttachable",
    "Description",
    "CreateDate",
    "UpdateDate",
    "Tags",
)


class PolicyOperations(IamBase):
    # --- helpers ----------------------------------------------------------------------------------

    def _holders(self, account: str) -> list[tuple[str, Doc]]:
        return [(kind, doc) for kind in (USER, GROUP, ROLE) for doc in self.directory.sorted(account, kind)]

    def _usage(self, account: str, arn: str) -> tuple[int, int]:
        attached = boundaries = 0
        for _kind, doc in self._holders(account):
            attached += arn in doc["AttachedPolicies"]
            boundaries += doc.get("PermissionsBoundary") == arn
        return attached, boundaries

    def _policy_out(self, account: str, doc: Doc) -> Doc:
        attached, boundaries = self._usage(account, doc["Arn"])
        counts = {"AttachmentCount": attached, "PermissionsBoundaryUsageCount": boundaries}
        return pick(doc, _POLICY_FIELDS) | counts

    def _customer_policy(self, account: str, arn: str) -> Doc:
        doc = self.managed_policy(account, arn)
        if doc.get("AwsManaged"):
            raise api.IamError(
                f"User: is not authorized to modify the AWS managed policy {arn}",
                code="AccessDenied",
                status=403,
            )
        return doc

    @staticmethod
    def _version(doc: Doc, version_id: str) -> Doc:
        version = doc["Versions"].get(version_id)
        if version is None:
            raise api.NoSuchEntityException(
                f"Policy {doc['Arn']} version {version_id} does not exist or is not attachable."
            )
        return dict(version)

    # --- managed policies -----------------------------------------------------------------------

    async def create_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["PolicyName"], "policyName", POLICY_NAME_MAX)
        path = check_path(request.get("Path"))
        text = check_document(request["PolicyDocument"], "identity", "PolicySize", POLICY_SIZE_MAX)
        description = request.get("Description")
        if description is not None and len(description) > DESCRIPTION_MAX:
            raise validation_error(
                description, "description", f"Member must have length less than or equal to {DESCRIPTION_MAX}"
            )
        tags = check_tags(request.get("Tags"))
        now = self.clock.now()
        async with self.directory.lock:
            if self.directory.get(account, POLICY, name) is not None:
                raise api.EntityAlreadyExistsException(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            doc: Doc = {
                "PolicyName": name,
                "PolicyId": new_id(POLICY_PREFIX),
                "Arn": iam_arn(account, "policy", path, name),
                "Path": path,
                "DefaultVersionId": "v1",
                "IsAttachable": True,
                "Description": description,
                "CreateDate": now,
                "UpdateDate": now,
                "Tags": tags,
                "Versions": {"v1": {"Document": text, "VersionId": "v1", "CreateDate": now}},
                "NextVersion": 2,
            }
            await self.directory.put(account, POLICY, name, doc)
        return {"Policy": self._policy_out(account, doc)}

    async def get_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"Policy": self._policy_out(account, self.managed_policy(account, request["PolicyArn"]))}

    async def list_policies(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        scope = request.get("Scope") or "All"
        docs: list[Doc] = []
        if scope in ("All", "AWS"):
            docs += sorted(AWS_MANAGED.values(), key=lambda doc: str(doc["PolicyName"]))
        if scope in ("All", "Local"):
            docs += self.directory.sorted(account, POLICY)
        docs = under_path(docs, check_path_prefix(request.get("PathPrefix")))
        out = [self._policy_out(account, doc) for doc in docs]
        if request.get("OnlyAttached"):
            out = [doc for doc in out if doc["AttachmentCount"] or doc["PermissionsBoundaryUsageCount"]]
        usage = request.get("PolicyUsageFilter")
        if usage == "PermissionsPolicy":
            out = [doc for doc in out if doc["AttachmentCount"] or not request.get("OnlyAttached")]
        elif usage == "PermissionsBoundary":
            out = [
                doc for doc in out if doc["PermissionsBoundaryUsageCount"] or not request.get("OnlyAttached")
            ]
        page, extra = paginate(out, request, "Arn")
        return {"Policies": [{k: v for k, v in doc.items() if k != "Tags"} for doc in page], **extra}

    async def delete_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            if any(self._usage(account, doc["Arn"])):
                raise api.DeleteConflictException("Cannot delete a policy attached to entities.")
            if len(doc["Versions"]) > 1:
                raise api.DeleteConflictException(
                    "This policy has more than one version. Before you delete a policy, you must delete the "
                    "policy's versions. The default version is deleted with the policy."
                )
            await self.directory.delete(account, POLICY, doc["PolicyName"])
        return {}

    async def create_policy_version(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        text = check_document(request["PolicyDocument"], "identity", "PolicySize", POLICY_SIZE_MAX)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            if len(doc["Versions"]) >= VERSIONS_MAX:
                raise api.LimitExceededException(
                    f"A managed policy can have up to {VERSIONS_MAX} versions. Before you create a new "
                    "version, you must delete an existing version."
                )
            now = self.clock.now()
            version_id = f"v{doc['NextVersion']}"
            versions = {
                **doc["Versions"],
                version_id: {"Document": text, "VersionId": version_id, "CreateDate": now},
            }
            default = version_id if request.get("SetAsDefault") else doc["DefaultVersionId"]
            new = updated(
                doc,
                Versions=versions,
                NextVersion=doc["NextVersion"] + 1,
                DefaultVersionId=default,
                UpdateDate=now,
            )
            await self.directory.put(account, POLICY, doc["PolicyName"], new)
        version = {k: v for k, v in versions[version_id].items() if k != "Document"}
        return {"PolicyVersion": {**version, "IsDefaultVersion": default == version_id}}

    async def get_policy_version(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self.managed_policy(account, request["PolicyArn"])
        version = self._version(doc, request["VersionId"])
        version["Document"] = encode_document(version["Document"])
        version["IsDefaultVersion"] = version["VersionId"] == doc["DefaultVersionId"]
        return {"PolicyVersion": version}

    async def list_policy_versions(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self.managed_policy(account, request["PolicyArn"])
        versions = sorted(doc["Versions"].values(), key=lambda v: -int(v["VersionId"][1:]))
        page, extra = paginate(versions, request, "VersionId")
        out = [
            {
                "VersionId": v["VersionId"],
                "CreateDate": v["CreateDate"],
                "IsDefaultVersion": v["VersionId"] == doc["DefaultVersionId"],
            }
            for v in page
        ]
        return {"Versions": out, **extra}

    async def set_default_policy_version(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            version = self._version(doc, request["VersionId"])
            new = updated(doc, DefaultVersionId=version["VersionId"], UpdateDate=self.clock.now())
            await self.directory.put(account, POLICY, doc["PolicyName"], new)
        return {}

    async def delete_policy_version(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            version = self._version(doc, request["VersionId"])
            if version["VersionId"] == doc["DefaultVersionId"]:
                raise api.DeleteConflictException("Cannot delete the default version of a policy.")
            versions = {k: v for k, v in doc["Versions"].items() if k != version["VersionId"]}
            await self.directory.put(account, POLICY, doc["PolicyName"], updated(doc, Versions=versions))
        return {}

    async def tag_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(account, POLICY, doc["PolicyName"], updated(doc, Tags=tags))
        return {}

    async def untag_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._customer_policy(account, request["PolicyArn"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(account, POLICY, doc["PolicyName"], updated(doc, Tags=tags))
        return {}

    async def list_policy_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"Tags": self.managed_policy(account, request["PolicyArn"])["Tags"], "IsTruncated": False}

    async def list_entities_for_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        arn = self.managed_policy(account, request["PolicyArn"])["Arn"]
        boundary = request.get("PolicyUsageFilter") == "PermissionsBoundary"
        wanted = request.get("EntityFilter")
        prefix = check_path_prefix(request.get("PathPrefix"))
        out: dict[str, list[Doc]] = {"PolicyUsers": [], "PolicyGroups": [], "PolicyRoles": []}
        members = {
            USER: ("PolicyUsers", "User"),
            GROUP: ("PolicyGroups", "Group"),
            ROLE: ("PolicyRoles", "Role"),
        }
        for kind, doc in self._holders(account):
            field, word = members[kind]
            if (wanted and wanted != word) or not doc["Path"].startswith(prefix):
                continue
            uses = doc.get("PermissionsBoundary") == arn if boundary else arn in doc["AttachedPolicies"]
            if uses:
                out[field].append({f"{word}Name": doc[f"{word}Name"], f"{word}Id": doc[f"{word}Id"]})
        return {**out, "IsTruncated": False}

    # --- attaching managed policies -------------------------------------------------------------

    async def _attach(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
            policy = self.managed_policy(account, request["PolicyArn"])
            attached = holder["AttachedPolicies"]
            if policy["Arn"] not in attached:
                if len(attached) >= ATTACHED_MAX:
                    raise api.LimitExceededException(
                        f"Cannot exceed quota for {_ATTACH_QUOTAS[kind]}: {ATTACHED_MAX}"
                    )
                new = updated(holder, AttachedPolicies=[*attached, policy["Arn"]])
                await self.directory.put(account, kind, holder[_NAME_KEYS[kind]], new)
        return {}

    async def _detach(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
            arn = request["PolicyArn"]
            if arn not in holder["AttachedPolicies"]:
                raise api.NoSuchEntityException(f"Policy {arn} was not found.")
            new = updated(holder, AttachedPolicies=[a for a in holder["AttachedPolicies"] if a != arn])
            await self.directory.put(account, kind, holder[_NAME_KEYS[kind]], new)
        return {}

    async def _list_attached(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
        policies = [self.managed_policy(account, arn) for arn in holder["AttachedPolicies"]]
        policies = under_path(policies, check_path_prefix(request.get("PathPrefix")))
        rows = [{"PolicyName": doc["PolicyName"], "PolicyArn": doc["Arn"]} for doc in policies]
        page, extra = paginate(rows, request, "PolicyArn")
        return {"AttachedPolicies": page, **extra}

    async def attach_user_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._attach(ctx, USER, request)

    async def attach_group_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._attach(ctx, GROUP, request)

    async def attach_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._attach(ctx, ROLE, request)

    async def detach_user_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._detach(ctx, USER, request)

    async def detach_group_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._detach(ctx, GROUP, request)

    async def detach_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._detach(ctx, ROLE, request)

    async def list_attached_user_policies(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_attached(ctx, USER, request)

    async def list_attached_group_policies(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_attached(ctx, GROUP, request)

    async def list_attached_role_policies(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._list_attached(ctx, ROLE, request)

    # --- inline policies ------------------------------------------------------------------------

    async def _put_inline(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["PolicyName"], "policyName", POLICY_NAME_MAX)
        quota, limit = INLINE_QUOTAS[kind]
        text = check_document(request["PolicyDocument"], "identity", quota, limit)
        async with self.directory.lock:
            holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
            inline = {**holder["InlinePolicies"], name: text}
            _check_total(inline, quota, limit)
            await self.directory.put(
                account, kind, holder[_NAME_KEYS[kind]], updated(holder, InlinePolicies=inline)
            )
        return {}

    def _inline(self, account: str, kind: str, request: dict[str, Any]) -> tuple[Doc, str]:
        holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
        name = request["PolicyName"]
        if name not in holder["InlinePolicies"]:
            raise api.NoSuchEntityException(
                f"The {_KIND_WORD[kind]} policy with name {name} cannot be found."
            )
        return holder, name

    async def _get_inline(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        holder, name = self._inline(account, kind, request)
        key = _NAME_KEYS[kind]
        document = encode_document(holder["InlinePolicies"][name])
        return {key: holder[key], "PolicyName": name, "PolicyDocument": document}

    async def _delete_inline(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            holder, name = self._inline(account, kind, request)
            inline = {k: v for k, v in holder["InlinePolicies"].items() if k != name}
            await self.directory.put(
                account, kind, holder[_NAME_KEYS[kind]], updated(holder, InlinePolicies=inline)
            )
        return {}

    async def _list_inline(self, ctx: RequestContext, kind: str, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        holder = self.entity(account, kind, request[_NAME_KEYS[kind]])
        rows = [{"Name": name} for name in sorted(holder["InlinePolicies"])]
        page, extra = paginate(rows, request, "Name")
        return {"PolicyNames": [row["Name"] for row in page], **extra}

    async def put_user_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._put_inline(ctx, USER, request)

    async def put_group_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._put_inline(ctx, GROUP, request)

    async def put_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._put_inline(ctx, ROLE, request)

    async def get_user_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._get_inline(ctx, USER, request)

    async def get_group_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._get_inline(ctx, GROUP, request)

    async def get_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._get_inline(ctx, ROLE, request)

    async def delete_user_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._delete_inline(ctx, USER, request)

    async def delete_group_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._delete_inline(ctx, GROUP, request)

    async def delete_role_policy(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._delete_inline(ctx, ROLE, request)

    async def list_user_policies(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._list_inline(ctx, USER, request)

    async def list_group_policies(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._list_inline(ctx, GROUP, request)

    async def list_role_policies(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return await self._list_inline(ctx, ROLE, request)


def _check_total(inline: dict[str, str], quota: str, limit: int) -> None:
    """The inline quota counts every inline policy of the entity together (whitespace excluded)."""
    total = sum(len("".join(text.split())) for text in inline.values())
    if total > limit:
        raise api.LimitExceededException(f"Cannot exceed quota for {quota}: {limit}")
