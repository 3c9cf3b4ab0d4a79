"""Console passwords: login profiles, ChangePassword, and the account password policy.

Only a salted scrypt hash of each password is stored (``passwords.py``), with the hashes of the
last few passwords when the policy forbids reusing them. Hashing runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase, updated
from kumoi.services.iam.dependents import LOGIN_PROFILE, user_name_of
from kumoi.services.iam.directory import USER, Doc
from kumoi.services.iam.names import validation_error
from kumoi.services.iam.passwords import hash_password, matches_any, policy_violations, verify_password

PASSWORD_POLICY = "passwordpolicy"
PASSWORD_POLICY_NAME = "account"
PASSWORD_MAX = 128
_BOOLEANS = (
    "RequireSymbols",
    "RequireNumbers",
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "AllowUsersToChangePassword",
)
#: Member → (minimum, maximum, member name in validation messages).
_RANGES = {
    "MinimumPasswordLength": (6, 128, "minimumPasswordLength"),
    "MaxPasswordAge": (1, 1095, "maxPasswordAge"),
    "PasswordReusePrevention": (1, 24, "passwordReusePrevention"),
}


class LoginOperations(IamBase):
    def _password_policy(self, account: str) -> Doc | None:
        return self.directory.get(account, PASSWORD_POLICY, PASSWORD_POLICY_NAME)

    def _login_profile(self, account: str, user: Doc) -> Doc:
        doc = self.directory.get(account, LOGIN_PROFILE, user["UserId"])
        if doc is None:
            raise api.NoSuchEntityException(f"Login Profile for User {user['UserName']} cannot be found.")
        return doc

    async def _new_hash(self, account: str, password: str, profile: Doc | None) -> tuple[str, list[str]]:
        """Check ``password`` against the policy; its hash and the reuse history to keep."""
        if not 1 <= len(password) <= PASSWORD_MAX:
            raise validation_error(
                "*****", "password", f"Member must have length less than or equal to {PASSWORD_MAX}"
            )
        policy = self._password_policy(account)
        problems = policy_violations(password, policy)
        if problems:
            raise api.PasswordPolicyViolationException(
                "Password does not conform to the account password policy: requires " + ", ".join(problems)
            )
        remembered = int((policy or {}).get("PasswordReusePrevention") or 0)
        history: list[str] = list(profile.get("PasswordHistory", [])) if profile else []
        if remembered and history:
            recent = history[-remembered:]
            if await asyncio.to_thread(matches_any, password, recent):
                raise api.PasswordPolicyViolationException(
                    "Password does not conform to the account password policy: it was used before."
                )
        digest = await asyncio.to_thread(hash_password, password)
        return digest, [*history, digest][-remembered:] if remembered else []

    # --- login profiles ------------------------------------------------------------------------

    async def create_login_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        if self.directory.get(account, LOGIN_PROFILE, user["UserId"]) is not None:
            raise api.EntityAlreadyExistsException(
                f"Login Profile for user {user['UserName']} already exists."
            )
        password = request.get("Password")
        if password is None:
            raise validation_error("null", "password", "Member must not be null")
        digest, history = await self._new_hash(account, password, None)
        async with self.directory.lock:
            user = self.entity(account, USER, user["UserName"])
            if self.directory.get(account, LOGIN_PROFILE, user["UserId"]) is not None:
                raise api.EntityAlreadyExistsException(
                    f"Login Profile for user {user['UserName']} already exists."
                )
            doc: Doc = {
                "UserId": user["UserId"],
                "CreateDate": self.clock.now(),
                "PasswordResetRequired": bool(request.get("PasswordResetRequired")),
                "PasswordHash": digest,
                "PasswordHistory": history,
                "PasswordLastSet": self.clock.now(),
            }
            await self.directory.put(account, LOGIN_PROFILE, user["UserId"], doc)
        return {"LoginProfile": _profile_out(user, doc)}

    async def get_login_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        return {"LoginProfile": _profile_out(user, self._login_profile(account, user))}

    async def update_login_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, request["UserName"])
        profile = self._login_profile(account, user)
        changes: dict[str, Any] = {}
        if request.get("Password") is not None:
            digest, history = await self._new_hash(account, request["Password"], profile)
            changes.update(PasswordHash=digest, PasswordHistory=history, PasswordLastSet=self.clock.now())
        if request.get("PasswordResetRequired") is not None:
            changes["PasswordResetRequired"] = bool(request["PasswordResetRequired"])
        async with self.directory.lock:
            profile = self._login_profile(account, user)
            await self.directory.put(account, LOGIN_PROFILE, user["UserId"], updated(profile, **changes))
        return {}

    async def delete_login_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            self._login_profile(account, user)
            await self.directory.delete(account, LOGIN_PROFILE, user["UserId"])
        return {}

    async def change_password(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        """The calling IAM user changes its own password (the root user's is not IAM's)."""
        account = await self.account(ctx)
        if ctx.caller.is_root or ":user/" not in ctx.caller.arn:
            raise api.InvalidUserTypeException("Only IAM users can change their own password.")
        user = self.entity(account, USER, ctx.caller.arn.rsplit("/", 1)[-1])
        profile = self._login_profile(account, user)
        if not await asyncio.to_thread(verify_password, request["OldPassword"], profile["PasswordHash"]):
            raise api.IamError("The old password is incorrect.", code="AccessDenied", status=403)
        digest, history = await self._new_hash(account, request["NewPassword"], profile)
        async with self.directory.lock:
            profile = self._login_profile(account, user)
            new = updated(
                profile,
                PasswordHash=digest,
                PasswordHistory=history,
                PasswordLastSet=self.clock.now(),
                PasswordResetRequired=False,
            )
            await self.directory.put(account, LOGIN_PROFILE, user["UserId"], new)
        return {}

    # --- account password policy ---------------------------------------------------------------

    async def update_account_password_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        policy: Doc = {"MinimumPasswordLength": 6}
        for member, (low, high, name) in _RANGES.items():
            value = request.get(member)
            if value is None:
                continue
            if not low <= value <= high:
                constraint = (
                    f"Member must have value less than or equal to {high}"
                    if value > high
                    else f"Member must have value greater than or equal to {low}"
                )
                raise validation_error(str(value), name, constraint)
            policy[member] = value
        for member in _BOOLEANS:
            policy[member] = bool(request.get(member))
        policy["ExpirePasswords"] = "MaxPasswordAge" in policy
        if request.get("HardExpiry") is not None:
            policy["HardExpiry"] = bool(request["HardExpiry"])
        async with self.directory.lock:
            await self.directory.put(account, PASSWORD_POLICY, PASSWORD_POLICY_NAME, policy)
        return {}

    async def get_account_password_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        policy = self._password_policy(account)
        if policy is None:
            raise api.NoSuchEntityException(
                f"The Password Policy with domain name {account} cannot be found."
            )
        return {"PasswordPolicy": dict(policy)}

    async def delete_account_password_policy(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            if self._password_policy(account) is None:
                raise api.NoSuchEntityException(
                    "The account policy with name PasswordPolicy cannot be found."
                )
            await self.directory.delete(account, PASSWORD_POLICY, PASSWORD_POLICY_NAME)
        return {}


def _profile_out(user: Doc, doc: Doc) -> Doc:
    return {
        "UserName": user["UserName"],
        "CreateDate": doc["CreateDate"],
        "PasswordResetRequired": doc["PasswordResetRequired"],
    }
