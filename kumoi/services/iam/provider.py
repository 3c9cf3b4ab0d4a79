"""The IAM provider: the operation groups put together over one directory.

Each group is a small mixin over :class:`~kumoi.services.iam.common.IamBase` (users and groups,
roles and instance profiles, access keys, policies, identity providers, reports and simulation),
so each module stays about one part of IAM.
"""

from __future__ import annotations

from kumoi.core.clock import Clock
from kumoi.services.iam.directory import IamDirectory
from kumoi.services.iam.federation import FederationOperations
from kumoi.services.iam.keys import KeyOperations
from kumoi.services.iam.policies import PolicyOperations
from kumoi.services.iam.principals import Resolver
from kumoi.services.iam.reports import ReportOperations
from kumoi.services.iam.roles import RoleOperations
from kumoi.services.iam.users import UserOperations


class IamProvider(
    UserOperations,
    RoleOperations,
    KeyOperations,
    PolicyOperations,
    FederationOperations,
    ReportOperations,
):
    def __init__(self, directory: IamDirectory, clock: Clock) -> None:
        super().__init__(directory, clock)
        self.resolver = Resolver(directory)
