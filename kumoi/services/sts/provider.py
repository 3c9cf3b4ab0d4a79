"""The STS provider: caller identity, and temporary credentials for roles, users and federation.

Every credential STS issues is a session document in the IAM directory (kind ``session``) that
expires with the credentials; the directory registers it with the SigV4 verifier, which answers
``ExpiredToken`` once it has expired. AssumeRole* always checks the role's trust policy, whether or
not ``--enforce-iam`` is on (with it on, the authorizer has also checked the caller's identity
policies for ``sts:AssumeRole``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from typing import Any

from kumoi.auth.policy import AccessRequest, Principal, compile_policy, evaluate_resource_policy
from kumoi.core.clock import Clock
from kumoi.core.context import RequestContext
from kumoi.core.errors import ServiceError
from kumoi.services.sts import api
from kumoi.services.sts.identities import Doc, IdentityDirectory
from kumoi.services.sts.sessions import (
    SESSION,
    check_duration,
    check_session_name,
    check_tags,
    credentials_out,
    new_session,
    session_policies,
    tag_context,
)
from kumoi.services.sts.webidentity import check_times, issuer_key, load_jwks, parse_token, verify_signature

#: Durations (seconds): AssumeRole* minimum and default, role chaining cap, GetSessionToken and
#: GetFederationToken range and default, and the root user's cap for those two.
MIN_DURATION = 900
DEFAULT_ROLE_DURATION = 3600
CHAINING_MAX = 3600
TOKEN_MAX_DURATION = 129600
TOKEN_DEFAULT_DURATION = 43200
ROOT_MAX_DURATION = 3600
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)$")
_FEDERATED_NAME = re.compile(r"^[\w+=,.@-]{2,32}$")


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message, status=403)


class StsProvider:
    def __init__(self, directory: IdentityDirectory, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    # --- identity ---------------------------------------------------------------------------------

    async def get_caller_identity(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.caller
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}

    async def get_access_key_info(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        await self._directory.ready()
        key_id = request["AccessKeyId"]
        session = self._directory.session(key_id)
        if session is not None:
            return {"Account": session["Account"]}
        found = self._directory.access_key(key_id)
        return {"Account": found[0] if found is not None else ctx.account_id}

    async def decode_authorization_message(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        """kumoi's denials carry their reason in plain text; an encoded message is base64 JSON."""
        try:
            decoded = json.loads(base64.b64decode(request["EncodedMessage"], validate=True))
        except (binascii.Error, ValueError):
            raise api.InvalidAuthorizationMessageException(
                "The encoded authorization message is not valid."
            ) from None
        return {"DecodedMessage": json.dumps(decoded)}

    # --- roles --------------------------------------------------------------------------------------

    def _role(self, arn: str, action: str, who: str) -> tuple[str, Doc]:
        match = _ROLE_ARN.match(arn)
        role = self._directory.get(match.group(1), "role", match.group(2)) if match else None
        if match is None or role is None or role["Arn"] != arn:
            raise access_denied(f"User: {who} is not authorized to perform: {action} on resource: {arn}")
        return match.group(1), role

    def _caller_principal(self, ctx: RequestContext) -> tuple[Principal, Doc | None, dict[str, list[str]]]:
        caller = ctx.caller
        session = self._directory.session(caller.access_key_id) if caller.session_token else None
        names = {caller.arn}
        context: dict[str, list[str]] = {
            "aws:principalarn": [caller.arn],
            "aws:principalaccount": [caller.account_id],
            "aws:userid": [caller.user_id],
        }
        kind = "root" if caller.is_root else "user"
        if session is not None and session["Kind"] == "role":
            names.add(session["RoleArn"])
            context["aws:principalarn"] = [session["RoleArn"]]
            kind = "role"
        elif ":user/" in caller.arn:
            context["aws:username"] = [caller.arn.rsplit("/", 1)[-1]]
        return Principal(caller.arn, caller.account_id, kind, frozenset(names)), session, context

    @staticmethod
    def _check_trust(
        role: Doc, account: str, action: str, principal: Principal, context: dict[str, list[str]]
    ) -> None:
        trust = compile_policy(role["AssumeRolePolicyDocument"], "trust")
        request = AccessRequest(action, role["Arn"], principal, context, account)
        if not evaluate_resource_policy(request, [trust]).allowed:
            who = principal.arn or "anonymous"
            raise access_denied(
                f"User: {who} is not authorized to perform: {action} on resource: {role['Arn']}"
            )

    def _duration(self, request: dict[str, Any], role: Doc, chained: bool) -> int:
        maximum = role["MaxSessionDuration"]
        message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        if chained:
            maximum = min(maximum, CHAINING_MAX)
            if (request.get("DurationSeconds") or 0) > CHAINING_MAX:
                message = (
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                    "role chaining."
                )
        return check_duration(
            request.get("DurationSeconds"), DEFAULT_ROLE_DURATION, MIN_DURATION, maximum, message
        )

    async def _issue_role_session(
        self,
        account: str,
        role: Doc,
        session_name: str,
        duration: int,
        request: dict[str, Any],
        **fields: Any,
    ) -> tuple[Doc, int]:
        texts, arns, packed = session_policies(request)
        now = self._clock.now()
        session = new_session(
            now,
            duration,
            Kind="role",
            Account=account,
            RoleName=role["RoleName"],
            RoleId=role["RoleId"],
            RoleArn=role["Arn"],
            Arn=f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}",
            UserId=f"{role['RoleId']}:{session_name}",
            SessionPolicies=texts,
            PolicyArns=arns,
            **fields,
        )
        await self._directory.put(account, SESSION, session["AccessKeyId"], session, session["ExpiresAt"])
        return session, packed

    @staticmethod
    def _role_output(session: Doc, packed: int) -> dict[str, Any]:
        output: dict[str, Any] = {
            "Credentials": credentials_out(session),
            "AssumedRoleUser": {"AssumedRoleId": session["UserId"], "Arn": session["Arn"]},
            "PackedPolicySize": packed,
        }
        if session.get("SourceIdentity"):
            output["SourceIdentity"] = session["SourceIdentity"]
        return output

    async def assume_role(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        await self._directory.ready()
        if ctx.caller.is_root:
            raise access_denied("Roles may not be assumed by root accounts.")
        session_name = check_session_name(request["RoleSessionName"])
        principal, calling, context = self._caller_principal(ctx)
        account, role = self._role(request["RoleArn"], "sts:AssumeRole", principal.arn)
        tags = check_tags(request.get("Tags"))
        transitive = [str(key) for key in request.get("TransitiveTagKeys") or ()]
        inherited: list[dict[str, str]] = []
        source_identity = request.get("SourceIdentity")
        if calling is not None:
            carried = set(calling.get("TransitiveTagKeys") or ())
            inherited = [tag for tag in calling.get("Tags", []) if tag["Key"] in carried]
            transitive = sorted(set(transitive) | carried)
            previous = calling.get("SourceIdentity")
            if previous and source_identity and source_identity != previous:
                raise access_denied("SourceIdentity cannot be changed once it is set on a role session.")
            source_identity = source_identity or previous
        if not {key for key in transitive} <= {tag["Key"] for tag in tags} | {
            tag["Key"] for tag in inherited
        }:
            raise api.StsError(
                "The TransitiveTagKeys must be a subset of the session tags.",
                code="InvalidParameterValue",
                status=400,
            )
        context.update(tag_context(tags))
        context["sts:rolesessionname"] = [session_name]
        if request.get("ExternalId") is not None:
            context["sts:externalid"] = [request["ExternalId"]]
        if source_identity:
            context["sts:sourceidentity"] = [source_identity]
        if transitive:
            context["sts:transitivetagkeys"] = transitive
        self._check_trust(role, account, "sts:AssumeRole", principal, context)
        chained = calling is not None and calling["Kind"] == "role"
        duration = self._duration(request, role, chained)
        merged = {tag["Key"]: tag for tag in inherited} | {tag["Key"]: tag for tag in tags}
        session, packed = await self._issue_role_session(
            account,
            role,
            session_name,
            duration,
            request,
            Tags=list(merged.values()),
            TransitiveTagKeys=transitive,
            SourceIdentity=source_identity,
            Chained=chained,
        )
        return self._role_output(session, packed)

    async def assume_role_with_web_identity(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        await self._directory.ready()
        session_name = check_session_name(request["RoleSessionName"])
        token = parse_token(request["WebIdentityToken"])
        account, role = self._role(request["RoleArn"], "sts:AssumeRoleWithWebIdentity", "anonymous")
        issuer = issuer_key(token.issuer)
        provider = self._directory.get(account, "oidc", issuer)
        if provider is None:
            raise api.InvalidIdentityTokenException(
                f"No OpenIDConnect provider found in your account for {token.issuer}"
            )
        verify_signature(token, await load_jwks(provider))
        check_times(token, self._clock.now())
        if not set(token.audiences) & set(provider["ClientIDList"]):
            raise api.InvalidIdentityTokenException("Incorrect token audience")
        provider_arn = provider["Arn"]
        principal = Principal("", account, "federated", frozenset({provider_arn, issuer}))
        context: dict[str, list[str]] = {
            f"{issuer}:aud": token.audiences,
            f"{issuer}:sub": [token.subject],
            f"{issuer}:iss": [token.issuer],
            "sts:rolesessionname": [session_name],
            "aws:federatedprovider": [provider_arn],
        }
        self._check_trust(
            role,
            account,
            "sts:AssumeRoleWithWebIdentity",
            principal,
            {k.lower(): v for k, v in context.items()},
        )
        duration = self._duration(request, role, False)
        session, packed = await self._issue_role_session(
            account, role, session_name, duration, request, Tags=[], FederatedProvider=provider_arn
        )
        output = self._role_output(session, packed)
        output.update(
            SubjectFromWebIdentityToken=token.subject, Provider=issuer, Audience=(token.audiences or [""])[0]
        )
        return output

    async def assume_role_with_saml(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        # Imported here so the XML-DSig machinery loads only once a SAML request arrives.
        from kumoi.services.sts import saml

        await self._directory.ready()
        denied = access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
        try:
            account, role = self._role(request["RoleArn"], "sts:AssumeRoleWithSAML", "anonymous")
        except ServiceError:
            raise denied from None
        provider_arn = request["PrincipalArn"]
        provider_name = provider_arn.rsplit("/", 1)[-1]
        provider = self._directory.get(account, "saml", provider_name)
        if provider is None or provider["Arn"] != provider_arn:
            raise api.InvalidIdentityTokenException(
                f"SAML provider {provider_arn} does not exist in the account."
            )
        assertion = await asyncio.to_thread(
            saml.verify_response, request["SAMLAssertion"], provider["SAMLMetadataDocument"]
        )
        now = self._clock.now()
        saml.check_times(assertion, now)
        if (role["Arn"], provider_arn) not in assertion.roles:
            raise denied
        if not assertion.first(saml.ROLE_SESSION_NAME):
            raise saml.invalid(f"it has no {saml.ROLE_SESSION_NAME} attribute")
        session_name = check_session_name(assertion.first(saml.ROLE_SESSION_NAME))
        source_identity = assertion.first(saml.SOURCE_IDENTITY) or None
        if source_identity is not None:
            check_session_name(source_identity, "sourceIdentity")
        tag_list, transitive = saml.session_tags(assertion)
        tags = check_tags(tag_list)
        context = saml.condition_keys(assertion, account, provider_name)
        context.update(tag_context(tags))
        context["sts:rolesessionname"] = [session_name]
        context["aws:federatedprovider"] = [provider_arn]
        if source_identity:
            context["sts:sourceidentity"] = [source_identity]
        if transitive:
            context["sts:transitivetagkeys"] = transitive
        principal = Principal("", account, "federated", frozenset({provider_arn}))
        trust = compile_policy(role["AssumeRolePolicyDocument"], "trust")
        actions = ["sts:AssumeRoleWithSAML", *(["sts:TagSession"] if tags else [])]
        for action in actions:
            access = AccessRequest(action, role["Arn"], principal, context, account)
            if not evaluate_resource_policy(access, [trust]).allowed:
                raise denied
        duration = self._duration(request, role, False)
        if assertion.session_not_on_or_after is not None:
            duration = max(0, min(duration, int(assertion.session_not_on_or_after - now)))
        session, packed = await self._issue_role_session(
            account,
            role,
            session_name,
            duration,
            request,
            Tags=tags,
            TransitiveTagKeys=transitive,
            SourceIdentity=source_identity,
            FederatedProvider=provider_arn,
        )
        output = self._role_output(session, packed)
        output.update(
            Subject=assertion.subject,
            SubjectType=assertion.subject_type,
            Issuer=assertion.issuer,
            Audience=assertion.recipient,
            NameQualifier=context["saml:namequalifier"][0],
        )
        return output

    # --- users --------------------------------------------------------------------------------------

    def _calling_user(self, ctx: RequestContext, operation: str) -> Doc | None:
        """The IAM user calling (None for the root user); session credentials may not call these."""
        caller = ctx.caller
        if caller.session_token:
            raise access_denied(f"Cannot call {operation} with session credentials")
        if caller.is_root:
            return None
        user = self._directory.get(caller.account_id, "user", caller.arn.rsplit("/", 1)[-1])
        if user is None:
            raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:{operation}")
        return user

    async def get_session_token(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        await self._directory.ready()
        user = self._calling_user(ctx, "GetSessionToken")
        maximum = ROOT_MAX_DURATION if user is None else TOKEN_MAX_DURATION
        duration = check_duration(
            request.get("DurationSeconds"), TOKEN_DEFAULT_DURATION, MIN_DURATION, maximum
        )
        caller = ctx.caller
        session = new_session(
            self._clock.now(),
            duration,
            Kind="root" if user is None else "user",
            Account=caller.account_id,
            UserName=user["UserName"] if user else "",
            Arn=caller.arn,
            UserId=caller.user_id,
        )
        await self._directory.put(
            caller.account_id, SESSION, session["AccessKeyId"], session, session["ExpiresAt"]
        )
        return {"Credentials": credentials_out(session)}

    async def get_federation_token(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        await self._directory.ready()
        user = self._calling_user(ctx, "GetFederationToken")
        name = request["Name"]
        if not _FEDERATED_NAME.match(name):
            raise api.StsError(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
                code="ValidationError",
                status=400,
            )
        maximum = ROOT_MAX_DURATION if user is None else TOKEN_MAX_DURATION
        duration = check_duration(
            request.get("DurationSeconds"), TOKEN_DEFAULT_DURATION, MIN_DURATION, maximum
        )
        texts, arns, packed = session_policies(request)
        tags = check_tags(request.get("Tags"))
        account = ctx.account_id
        session = new_session(
            self._clock.now(),
            duration,
            Kind="federated",
            Account=account,
            UserName=user["UserName"] if user else "",
            Arn=f"arn:aws:sts::{account}:federated-user/{name}",
            UserId=f"{account}:{name}",
            SessionPolicies=texts,
            PolicyArns=arns,
            Tags=tags,
        )
        await self._directory.put(account, SESSION, session["AccessKeyId"], session, session["ExpiresAt"])
        return {
            "Credentials": credentials_out(session),
            "FederatedUser": {"FederatedUserId": session["UserId"], "Arn": session["Arn"]},
            "PackedPolicySize": packed,
        }
