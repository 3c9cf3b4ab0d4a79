"""Tags of instance profiles and identity providers, and replacing an OIDC provider's
thumbprints: the operations on entities whose other operations live in ``roles.py`` and
``federation.py``."""

from __future__ import annotations

import re
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import check_tags, merge_tags, remove_tags, updated
from kumoi.services.iam.directory import OIDC, PROFILE, SAML, Doc
from kumoi.services.iam.federation import THUMBPRINTS_MAX, FederationOperations
from kumoi.services.iam.names import validation_error
from kumoi.services.iam.roles import RoleOperations

_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")


class ProviderTagOperations(RoleOperations, FederationOperations):
    async def _retag(self, account: str, kind: str, doc: Doc, key: str, tags: list[dict[str, str]]) -> None:
        await self.directory.put(account, kind, key, updated(doc, Tags=tags))

    # --- instance profiles --------------------------------------------------------------------

    async def tag_instance_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._profile(account, request["InstanceProfileName"])
            tags = merge_tags(doc.get("Tags", []), check_tags(request["Tags"]))
            await self._retag(account, PROFILE, doc, doc["InstanceProfileName"], tags)
        return {}

    async def untag_instance_profile(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._profile(account, request["InstanceProfileName"])
            tags = remove_tags(doc.get("Tags", []), request["TagKeys"])
            await self._retag(account, PROFILE, doc, doc["InstanceProfileName"], tags)
        return {}

    async def list_instance_profile_tags(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._profile(account, request["InstanceProfileName"])
        return {"Tags": doc.get("Tags", []), "IsTruncated": False}

    # --- SAML providers -----------------------------------------------------------------------

    async def tag_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._saml(account, request["SAMLProviderArn"])
            tags = merge_tags(doc.get("Tags", []), check_tags(request["Tags"]))
            await self._retag(account, SAML, doc, doc["Name"], tags)
        return {}

    async def untag_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._saml(account, request["SAMLProviderArn"])
            tags = remove_tags(doc.get("Tags", []), request["TagKeys"])
            await self._retag(account, SAML, doc, doc["Name"], tags)
        return {}

    async def list_saml_provider_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._saml(account, request["SAMLProviderArn"])
        return {"Tags": doc.get("Tags", []), "IsTruncated": False}

    # --- OpenID Connect providers ---------------------------------------------------------------

    async def list_open_id_connect_provider_tags(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._oidc(account, request["OpenIDConnectProviderArn"])
        return {"Tags": doc.get("Tags", []), "IsTruncated": False}

    async def update_open_id_connect_provider_thumbprint(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        thumbprints = list(request["ThumbprintList"])
        for thumbprint in thumbprints:
            if not _THUMBPRINT.match(thumbprint):
                raise validation_error(
                    thumbprint, "thumbprintList", "Member must have length greater than or equal to 40"
                )
        if len(thumbprints) > THUMBPRINTS_MAX:
            raise api.LimitExceededException(
                f"Thumbprint list must contain fewer than {THUMBPRINTS_MAX + 1} entries."
            )
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            await self.directory.put(account, OIDC, doc["Url"], updated(doc, ThumbprintList=thumbprints))
        return {}
