"""GenerateCredentialReport and GetCredentialReport: the account's CSV of every user's credentials.

The report has AWS's columns and values (``N/A`` where a field does not apply, ``no_information``
where kumoi cannot know, ISO 8601 times). It is built at once when generated, kept in the IAM
directory (so it survives a restart) and, as in AWS, valid for four hours: a GenerateCredentialReport
within that time reuses it, a GetCredentialReport after it answers ReportExpired.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase
from kumoi.services.iam.dependents import LOGIN_PROFILE, MFA_DEVICE, SIGNING_CERT, owned_by
from kumoi.services.iam.directory import ACCESS_KEY, USER, Doc
from kumoi.services.iam.logins import PASSWORD_POLICY, PASSWORD_POLICY_NAME

CREDENTIAL_REPORT = "credentialreport"
_REPORT_NAME = "report"
#: How long a generated report stays valid.
REPORT_LIFETIME_SECONDS = 4 * 3600
_DAY = 86400.0
NOT_APPLICABLE = "N/A"
NO_INFORMATION = "no_information"
NOT_SUPPORTED = "not_supported"

COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    *(
        f"access_key_{n}_{field}"
        for n in (1, 2)
        for field in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")
    ),
    *(f"cert_{n}_{field}" for n in (1, 2) for field in ("active", "last_rotated")),
)


def iso(moment: float) -> str:
    """A report time: ISO 8601 in UTC with an explicit offset, to the second."""
    return datetime.fromtimestamp(moment, UTC).replace(microsecond=0).isoformat()


def flag(value: bool) -> str:
    return "true" if value else "false"


class CredentialReportOperations(IamBase):
    def _report(self, account: str) -> Doc | None:
        return self.directory.get(account, CREDENTIAL_REPORT, _REPORT_NAME)

    async def generate_credential_report(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        now = self.clock.now()
        existing = self._report(account)
        if existing is not None and now - existing["GeneratedTime"] < REPORT_LIFETIME_SECONDS:
            return {"State": "COMPLETE"}
        doc: Doc = {"GeneratedTime": now, "Content": self._csv(account, now)}
        async with self.directory.lock:
            await self.directory.put(account, CREDENTIAL_REPORT, _REPORT_NAME, doc)
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    async def get_credential_report(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        report = self._report(account)
        if report is None:
            raise api.CredentialReportNotPresentException(
                "Unknown: the credential report does not exist. Use GenerateCredentialReport to generate "
                "a report."
            )
        if self.clock.now() - report["GeneratedTime"] >= REPORT_LIFETIME_SECONDS:
            raise api.CredentialReportExpiredException(
                "The credential report has expired. Use GenerateCredentialReport to generate a new report."
            )
        return {
            "Content": report["Content"].encode("utf-8"),
            "ReportFormat": "text/csv",
            "GeneratedTime": report["GeneratedTime"],
        }

    def _csv(self, account: str, now: float) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerow(self._root_row(account))
        for user in self.directory.sorted(account, USER):
            writer.writerow(self._user_row(account, user))
        return out.getvalue().rstrip("\n")

    @staticmethod
    def _root_row(account: str) -> list[str]:
        """The root user: kumoi's root has no password, MFA device, IAM access keys or certificates
        (as GetAccountSummary reports), and kumoi does not know when the account was created."""
        return [
            "<root_account>",
            f"arn:aws:iam::{account}:root",
            NOT_APPLICABLE,
            NOT_SUPPORTED,
            NO_INFORMATION,
            NOT_SUPPORTED,
            NOT_SUPPORTED,
            flag(False),
            *_key_columns(None, None),
            *_key_columns(None, None),
            *_cert_columns(None),
            *_cert_columns(None),
        ]

    def _user_row(self, account: str, user: Doc) -> list[str]:
        profile = self.directory.get(account, LOGIN_PROFILE, user["UserId"])
        devices = owned_by(self.directory, account, MFA_DEVICE, user["UserId"])
        every_key = self.directory.all(account, ACCESS_KEY).values()
        mine = [doc for doc in every_key if doc["UserName"] == user["UserName"]]
        keys = sorted(mine, key=lambda doc: doc["CreateDate"])
        certs = sorted(
            owned_by(self.directory, account, SIGNING_CERT, user["UserId"]), key=lambda doc: doc["UploadDate"]
        )
        key_slots: list[Doc | None] = [*keys[:2], None, None][:2]
        cert_slots: list[Doc | None] = [*certs[:2], None, None][:2]
        row = [
            user["UserName"],
            user["Arn"],
            iso(user["CreateDate"]),
            *self._password_columns(account, profile),
            flag(bool(devices)),
        ]
        for key in key_slots:
            used = None if key is None else self.directory.last_used.get(key["AccessKeyId"])
            row.extend(_key_columns(key, used))
        for cert in cert_slots:
            row.extend(_cert_columns(cert))
        return row

    def _password_columns(self, account: str, profile: Doc | None) -> list[str]:
        """password_enabled, _last_used, _last_changed, _next_rotation. kumoi has no console sign-in,
        so a password's last use is never known."""
        if profile is None:
            return [flag(False), NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
        changed = float(profile.get("PasswordLastSet") or profile["CreateDate"])
        policy = self.directory.get(account, PASSWORD_POLICY, PASSWORD_POLICY_NAME) or {}
        max_age = policy.get("MaxPasswordAge")
        rotation = iso(changed + max_age * _DAY) if max_age else NOT_APPLICABLE
        return [flag(True), NO_INFORMATION, iso(changed), rotation]


def _key_columns(key: Doc | None, used: tuple[str, str, float] | None) -> list[str]:
    """active, last_rotated, last_used_date, last_used_region, last_used_service of one key slot."""
    if key is None:
        return [flag(False), NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
    active = flag(key["Status"] == "Active")
    if used is None:
        return [active, iso(key["CreateDate"]), NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
    service, region, moment = used
    return [active, iso(key["CreateDate"]), iso(moment), region, service]


def _cert_columns(cert: Doc | None) -> list[str]:
    if cert is None:
        return [flag(False), NOT_APPLICABLE]
    return [flag(cert["Status"] == "Active"), iso(cert["UploadDate"])]
