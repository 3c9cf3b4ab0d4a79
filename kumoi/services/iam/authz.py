"""IAM's authorization map: ``iam:<Operation>`` on the entity the request names.

From the AWS Service Authorization Reference ("Actions, resources, and condition keys for AWS
Identity and Access Management"): operations on a user, group or role act on its ARN (path
included), policy operations on the policy ARN, account-wide listings on ``*``. Attaching a policy
carries ``iam:PolicyARN``, setting a boundary ``iam:PermissionsBoundary``, tagging
``aws:RequestTag/*`` and ``aws:TagKeys``; users and roles give ``aws:ResourceTag/*``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kumoi.auth.policy import ResourceFacts, Target
from kumoi.core.context import RequestContext
from kumoi.services.iam.directory import GROUP, PROFILE, ROLE, USER, IamDirectory
from kumoi.services.iam.names import iam_arn

#: Request member naming the entity → (kind, ARN word).
_ENTITIES = (("UserName", USER, "user"), ("GroupName", GROUP, "group"), ("RoleName", ROLE, "role"))
#: Operations that act on the calling user when the request names none.
_CALLER_KEYS = frozenset(
    {
        "CreateAccessKey",
        "ListAccessKeys",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "GetUser",
        "ChangePassword",
        "ListMFADevices",
        "ListSSHPublicKeys",
        "UploadSSHPublicKey",
        "ListSigningCertificates",
        "UploadSigningCertificate",
        "UpdateSigningCertificate",
        "DeleteSigningCertificate",
        "ListServiceSpecificCredentials",
    }
)


class IamAuthz:
    def __init__(self, directory: IamDirectory) -> None:
        self._directory = directory

    def _arn(self, account: str, kind: str, word: str, name: str, path: str | None) -> str:
        doc = self._directory.get(account, kind, name)
        return str(doc["Arn"]) if doc is not None else iam_arn(account, word, path or "/", name)

    def targets(self, ctx: RequestContext, params: Mapping[str, Any]) -> Sequence[Target]:
        account = ctx.account_id
        action = f"iam:{ctx.operation}"
        context: dict[str, list[str]] = {}
        tags = params.get("Tags") or []
        if tags:
            context.update({"aws:requesttag/" + tag["Key"].lower(): [tag["Value"]] for tag in tags})
            context["aws:tagkeys"] = [tag["Key"] for tag in tags]
        if params.get("TagKeys"):
            context["aws:tagkeys"] = [str(key) for key in params["TagKeys"]]
        if params.get("PolicyArn"):
            context["iam:policyarn"] = [str(params["PolicyArn"])]
        if params.get("PermissionsBoundary"):
            context["iam:permissionsboundary"] = [str(params["PermissionsBoundary"])]
        for member, kind, word in _ENTITIES:
            name = params.get(member)
            if name:
                arn = self._arn(account, kind, word, str(name), params.get("Path"))
                return [Target(action, arn, context, (account, kind, str(name)), account)]
        if ctx.operation in _CALLER_KEYS and ":user/" in ctx.caller.arn:
            name = ctx.caller.arn.rsplit("/", 1)[-1]
            return [Target(action, ctx.caller.arn, context, (account, USER, name), account)]
        if params.get("PolicyArn"):
            return [Target(action, str(params["PolicyArn"]), context, None, account)]
        if ctx.operation == "CreatePolicy":
            arn = iam_arn(account, "policy", params.get("Path") or "/", str(params.get("PolicyName", "")))
            return [Target(action, arn, context, None, account)]
        if params.get("InstanceProfileName"):
            name = str(params["InstanceProfileName"])
            arn = self._arn(account, PROFILE, "instance-profile", name, params.get("Path"))
            return [Target(action, arn, context, None, account)]
        named = _named_resource(account, ctx.operation, params)
        if named is not None:
            return [Target(action, named, context, None, account)]
        for member in ("OpenIDConnectProviderArn", "SAMLProviderArn", "PolicySourceArn"):
            if params.get(member):
                return [Target(action, str(params[member]), context, None, account)]
        return [Target(action, "*", context, None, account)]

    async def resource(self, target: Target) -> ResourceFacts:
        assert target.locator is not None
        account, kind, name = target.locator
        doc = self._directory.get(account, kind, name)
        if doc is None:
            return ResourceFacts(owner=account)
        return ResourceFacts(None, account, {tag["Key"]: tag["Value"] for tag in doc.get("Tags", [])})


def _named_resource(account: str, operation: str, params: Mapping[str, Any]) -> str | None:
    """The ARN of an MFA device or server certificate the request names (or creates)."""
    serial = params.get("SerialNumber")
    if isinstance(serial, str) and serial.startswith("arn:"):
        return serial
    path = str(params.get("Path") or "/")
    if operation == "CreateVirtualMFADevice":
        return iam_arn(account, "mfa", path, str(params.get("VirtualMFADeviceName", "")))
    if params.get("ServerCertificateName"):
        return iam_arn(account, "server-certificate", path, str(params["ServerCertificateName"]))
    return None
