"""Identity providers: OpenID Connect (for AssumeRoleWithWebIdentity) and SAML (AssumeRoleWithSAML).

An OIDC provider is stored under its URL without ``https://`` (its ARN is
``arn:aws:iam::<account>:oidc-provider/<host/path>``), which is how STS finds it from a token's
``iss``. Tag it with ``kumoi:jwks-file`` to give kumoi the provider's keys (see
``services/sts/webidentity.py``). A SAML provider's metadata must be that of one identity provider
with a signing certificate (``kumoi.auth.xmldsig.metadata``), as AssumeRoleWithSAML verifies
responses with it; anything else is ``InvalidInput``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase, check_tags, merge_tags, pick, remove_tags, updated
from kumoi.services.iam.directory import OIDC, SAML, Doc
from kumoi.services.iam.names import check_name, validation_error

#: Client ids and thumbprints per OIDC provider (IAM quotas).
CLIENT_IDS_MAX = 100
THUMBPRINTS_MAX = 5
SAML_METADATA_MIN = 1000
SAML_METADATA_MAX = 10000000
SAML_NAME_MAX = 128


def _url_key(url: str) -> str:
    if not url.startswith("https://") or len(url) > 255:
        raise validation_error(url, "url", "Member must start with https:// and be at most 255 characters")
    return url.removeprefix("https://").rstrip("/")


class FederationOperations(IamBase):
    def _oidc(self, account: str, arn: str) -> Doc:
        key = arn.partition(":oidc-provider/")[2]
        doc = self.directory.get(account, OIDC, key)
        if doc is None or doc["Arn"] != arn:
            raise api.NoSuchEntityException(f"OpenIDConnect Provider not found for arn {arn}")
        return doc

    async def create_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        key = _url_key(request["Url"])
        clients = list(request.get("ClientIDList") or [])
        thumbprints = list(request.get("ThumbprintList") or [])
        if len(clients) > CLIENT_IDS_MAX or len(thumbprints) > THUMBPRINTS_MAX:
            raise api.LimitExceededException("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider")
        tags = check_tags(request.get("Tags"))
        arn = f"arn:aws:iam::{account}:oidc-provider/{key}"
        async with self.directory.lock:
            if self.directory.get(account, OIDC, key) is not None:
                raise api.EntityAlreadyExistsException(f"Provider with url {request['Url']} already exists.")
            doc: Doc = {
                "Arn": arn,
                "Url": key,
                "ClientIDList": clients,
                "ThumbprintList": thumbprints,
                "CreateDate": self.clock.now(),
                "Tags": tags,
            }
            await self.directory.put(account, OIDC, key, doc)
        return {"OpenIDConnectProviderArn": arn, "Tags": tags}

    async def get_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._oidc(account, request["OpenIDConnectProviderArn"])
        return pick(doc, ("Url", "ClientIDList", "ThumbprintList", "CreateDate", "Tags"))

    async def list_open_id_connect_providers(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        return {
            "OpenIDConnectProviderList": [{"Arn": doc["Arn"]} for doc in self.directory.sorted(account, OIDC)]
        }

    async def delete_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            await self.directory.delete(account, OIDC, doc["Url"])
        return {}

    async def add_client_id_to_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            if request["ClientID"] not in doc["ClientIDList"]:
                clients = [*doc["ClientIDList"], request["ClientID"]]
                await self.directory.put(account, OIDC, doc["Url"], updated(doc, ClientIDList=clients))
        return {}

    async def remove_client_id_from_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            clients = [client for client in doc["ClientIDList"] if client != request["ClientID"]]
            await self.directory.put(account, OIDC, doc["Url"], updated(doc, ClientIDList=clients))
        return {}

    async def tag_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(account, OIDC, doc["Url"], updated(doc, Tags=tags))
        return {}

    async def untag_open_id_connect_provider(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._oidc(account, request["OpenIDConnectProviderArn"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(account, OIDC, doc["Url"], updated(doc, Tags=tags))
        return {}

    # --- SAML -----------------------------------------------------------------------------------

    @staticmethod
    async def _saml_metadata(document: str) -> dict[str, Any]:
        """Check a metadata document as IAM does; its ``ValidUntil`` for the provider document."""
        if not SAML_METADATA_MIN <= len(document) <= SAML_METADATA_MAX:
            raise validation_error(
                "...",
                "sAMLMetadataDocument",
                f"Member must have length greater than or equal to {SAML_METADATA_MIN}",
            )
        # Imported here so the XML-DSig machinery loads only once a SAML provider is written.
        from kumoi.auth.xmldsig.metadata import MetadataError, parse_metadata

        try:
            metadata = await asyncio.to_thread(parse_metadata, document)
        except MetadataError:
            raise api.InvalidInputException("Could not parse metadata") from None
        return {} if metadata.valid_until is None else {"ValidUntil": metadata.valid_until}

    def _saml(self, account: str, arn: str) -> Doc:
        doc = self.directory.get(account, SAML, arn.rsplit("/", 1)[-1])
        if doc is None or doc["Arn"] != arn:
            raise api.NoSuchEntityException(f"Manifest not found for arn {arn}")
        return doc

    async def create_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["Name"], "name", SAML_NAME_MAX)
        metadata = request["SAMLMetadataDocument"]
        valid_until = await self._saml_metadata(metadata)
        tags = check_tags(request.get("Tags"))
        arn = f"arn:aws:iam::{account}:saml-provider/{name}"
        async with self.directory.lock:
            if self.directory.get(account, SAML, name) is not None:
                raise api.EntityAlreadyExistsException(f"SAMLProvider {name} already exists")
            now = self.clock.now()
            doc: Doc = {
                "Arn": arn,
                "Name": name,
                "SAMLMetadataDocument": metadata,
                "SAMLProviderUUID": str(uuid.uuid4()),
                "CreateDate": now,
                "Tags": tags,
                **valid_until,
            }
            await self.directory.put(account, SAML, name, doc)
        return {"SAMLProviderArn": arn, "Tags": tags}

    async def get_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._saml(account, request["SAMLProviderArn"])
        return pick(doc, ("SAMLProviderUUID", "SAMLMetadataDocument", "CreateDate", "ValidUntil", "Tags"))

    async def list_saml_providers(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        docs = self.directory.sorted(account, SAML)
        return {"SAMLProviderList": [pick(doc, ("Arn", "ValidUntil", "CreateDate")) for doc in docs]}

    async def update_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        document = request.get("SAMLMetadataDocument")
        valid_until = await self._saml_metadata(document) if document else {}
        async with self.directory.lock:
            doc = self._saml(account, request["SAMLProviderArn"])
            if document:
                kept = {key: value for key, value in doc.items() if key != "ValidUntil"}
                doc = updated(kept, SAMLMetadataDocument=document, **valid_until)
                await self.directory.put(account, SAML, doc["Name"], doc)
        return {"SAMLProviderArn": doc["Arn"]}

    async def delete_saml_provider(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._saml(account, request["SAMLProviderArn"])
            await self.directory.delete(account, SAML, doc["Name"])
        return {}
