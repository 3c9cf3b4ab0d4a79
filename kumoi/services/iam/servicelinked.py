"""Service-linked roles: a role under ``/aws-service-role/<service>/`` named
``AWSServiceRoleFor<Name>``, that the service's principal may assume.

Deletion answers with a task id, as AWS's asynchronous deletion does; kumoi deletes at once, so
GetServiceLinkedRoleDeletionStatus reports the task SUCCEEDED (or FAILED, with the reason, if the
role was still in an instance profile).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase
from kumoi.services.iam.directory import PROFILE, ROLE, Doc
from kumoi.services.iam.names import (
    DESCRIPTION_MAX,
    ROLE_NAME_MAX,
    ROLE_PREFIX,
    iam_arn,
    new_id,
    validation_error,
)
from kumoi.services.iam.roles import DEFAULT_MAX_SESSION, role_out

DELETION_TASK = "slrdeletion"
SERVICE_ROLE_PATH = "/aws-service-role/"
_SERVICE_SUFFIX = ".amazonaws.com"
#: Role names AWS gives where they are not the service's first label capitalized.
_NAMES = {
    "autoscaling": "AutoScaling",
    "ecs": "ECS",
    "eks": "AmazonEKS",
    "elasticloadbalancing": "ElasticLoadBalancing",
    "rds": "RDS",
    "elasticbeanstalk": "ElasticBeanstalk",
    "spot": "EC2Spot",
    "spotfleet": "EC2SpotFleet",
    "organizations": "Organizations",
    "config": "Config",
    "lambda": "Lambda",
    "es": "AmazonElasticsearchService",
    "opensearchservice": "AmazonOpenSearchService",
    "ssm": "AmazonSSM",
    "support": "Support",
    "trustedadvisor": "TrustedAdvisor",
    "guardduty": "AmazonGuardDuty",
    "securityhub": "SecurityHub",
    "cloudtrail": "CloudTrail",
    "dynamodb": "DynamoDBReplication",
    "elasticache": "ElastiCache",
    "kafka": "Kafka",
    "apigateway": "APIGateway",
    "sso": "SSO",
}
#: Services whose role takes no CustomSuffix (the others accept one).
_NO_SUFFIX = frozenset({"autoscaling"})


def role_name_for(service: str, suffix: str | None) -> str:
    label = service.removesuffix(_SERVICE_SUFFIX).split(".")[0]
    name = "AWSServiceRoleFor" + _NAMES.get(label, label[:1].upper() + label[1:])
    return f"{name}_{suffix}" if suffix else name


class ServiceLinkedRoleOperations(IamBase):
    async def create_service_linked_role(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        service = request["AWSServiceName"]
        if not service.endswith(_SERVICE_SUFFIX) or service == _SERVICE_SUFFIX.lstrip("."):
            raise api.InvalidInputException(f"Unrecognized service principal: {service}")
        suffix = request.get("CustomSuffix")
        label = service.removesuffix(_SERVICE_SUFFIX).split(".")[0]
        if suffix and label in _NO_SUFFIX:
            raise api.InvalidInputException(f"Custom suffix is not allowed for {service}")
        description = request.get("Description")
        if description is not None and len(description) > DESCRIPTION_MAX:
            raise validation_error(
                description, "description", f"Member must have length less than or equal to {DESCRIPTION_MAX}"
            )
        name = role_name_for(service, suffix)
        if len(name) > ROLE_NAME_MAX:
            raise validation_error(
                name, "roleName", f"Member must have length less than or equal to {ROLE_NAME_MAX}"
            )
        path = f"{SERVICE_ROLE_PATH}{service}/"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}
            ],
        }
        async with self.directory.lock:
            if any(existing.lower() == name.lower() for existing in self.directory.all(account, ROLE)):
                raise api.InvalidInputException(
                    f"Service role name {name} has been taken in this account, please try a different suffix."
                )
            doc: Doc = {
                "RoleName": name,
                "RoleId": new_id(ROLE_PREFIX),
                "Arn": iam_arn(account, "role", path, name),
                "Path": path,
                "CreateDate": self.clock.now(),
                "AssumeRolePolicyDocument": json.dumps(trust),
                "Description": description,
                "MaxSessionDuration": DEFAULT_MAX_SESSION,
                "PermissionsBoundary": None,
                "Tags": [],
                "AttachedPolicies": [],
                "InlinePolicies": {},
            }
            await self.directory.put(account, ROLE, name, doc)
        return {"Role": role_out(doc)}

    async def delete_service_linked_role(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self.entity(account, ROLE, request["RoleName"])
            if not doc["Path"].startswith(SERVICE_ROLE_PATH):
                raise api.InvalidInputException(f"Role {doc['RoleName']} is not a service-linked role.")
            service = doc["Path"][len(SERVICE_ROLE_PATH) : -1]
            task_id = f"task{SERVICE_ROLE_PATH}{service}/{doc['RoleName']}/{uuid.uuid4()}"
            profiles = [
                profile["InstanceProfileName"]
                for profile in self.directory.all(account, PROFILE).values()
                if doc["RoleName"] in profile["Roles"]
            ]
            task: Doc = {"Status": "SUCCEEDED"}
            if profiles:
                task = {
                    "Status": "FAILED",
                    "Reason": {"Reason": f"The role is in use by instance profiles: {', '.join(profiles)}"},
                }
            else:
                await self.directory.delete(account, ROLE, doc["RoleName"])
            await self.directory.put(account, DELETION_TASK, task_id, task)
        return {"DeletionTaskId": task_id}

    async def get_service_linked_role_deletion_status(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        task_id = request["DeletionTaskId"]
        if not task_id.startswith(f"task{SERVICE_ROLE_PATH}"):
            raise api.InvalidInputException(f"Invalid deletion task id: {task_id}")
        task = self.directory.get(account, DELETION_TASK, task_id)
        if task is None:
            raise api.NoSuchEntityException(f"Deletion task {task_id} cannot be found.")
        return dict(task)
