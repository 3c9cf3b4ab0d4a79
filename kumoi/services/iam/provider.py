"""The IAM provider: the operation groups put together over one directory.

Each group is a small mixin over :class:`~kumoi.services.iam.common.IamBase` (users and groups,
roles and instance profiles, access keys, policies, identity providers, reports and simulation,
login profiles and the password policy, MFA devices, SSH keys and certificates, server
certificates, the account alias and summary, service-linked roles), so each module stays about
one part of IAM. ``ProviderTagOperations`` extends the role and federation groups, so it comes
before them.
"""

from __future__ import annotations

from kumoi.core.clock import Clock
from kumoi.services.iam.account import AccountOperations
from kumoi.services.iam.credreport import CredentialReportOperations
from kumoi.services.iam.directory import IamDirectory
from kumoi.services.iam.federation import FederationOperations
from kumoi.services.iam.keys import KeyOperations
from kumoi.services.iam.logins import LoginOperations
from kumoi.services.iam.mfa import MfaOperations
from kumoi.services.iam.policies import PolicyOperations
from kumoi.services.iam.principals import Resolver
from kumoi.services.iam.providertags import ProviderTagOperations
from kumoi.services.iam.reports import ReportOperations
from kumoi.services.iam.roles import RoleOperations
from kumoi.services.iam.servercerts import ServerCertificateOperations
from kumoi.services.iam.servicelinked import ServiceLinkedRoleOperations
from kumoi.services.iam.userkeys import UserKeyOperations
from kumoi.services.iam.users import UserOperations


class IamProvider(
    ProviderTagOperations,
    UserOperations,
    RoleOperations,
    KeyOperations,
    PolicyOperations,
    FederationOperations,
    ReportOperations,
    CredentialReportOperations,
    LoginOperations,
    MfaOperations,
    UserKeyOperations,
    ServerCertificateOperations,
    AccountOperations,
    ServiceLinkedRoleOperations,
):
    def __init__(self, directory: IamDirectory, clock: Clock) -> None:
        super().__init__(directory, clock)
        self.resolver = Resolver(directory)
