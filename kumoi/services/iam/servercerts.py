"""Server certificates (for load balancers and CloudFront): uploaded with their private key,
which must match the certificate's public key and is then dropped (no IAM operation returns it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import (
    IamBase,
    check_tags,
    merge_tags,
    paginate,
    pick,
    remove_tags,
    under_path,
    updated,
)
from kumoi.services.iam.keymaterial import (
    Certificate,
    MalformedCertificate,
    parse_certificate,
    parse_chain,
    private_key_public_der,
)
from kumoi.services.iam.names import check_name, check_path, check_path_prefix, iam_arn, new_id
from kumoi.storage.meta.contract_iam import IamDocument

SERVER_CERT = "servercert"
#: IAM quota ServerCertificatesPerAccount.
SERVER_CERTS_MAX = 20
SERVER_CERT_NAME_MAX = 128
SERVER_CERT_PREFIX = "ASCA"
_METADATA = ("Path", "ServerCertificateName", "ServerCertificateId", "Arn", "UploadDate", "Expiration")


def _check_upload(body: str, private_key: str, chain: str | None) -> Certificate:
    """Parse the certificate, key and chain (in a worker thread); the certificate."""
    try:
        cert = parse_certificate(body)
    except MalformedCertificate:
        raise api.MalformedCertificateException("Certificate body is malformed.") from None
    try:
        key_public = private_key_public_der(private_key)
    except MalformedCertificate:
        raise api.MalformedCertificateException("Private key is malformed.") from None
    if key_public != cert.public_key_der:
        raise api.KeyPairMismatchException("Public key certificate and private key doesn't match.")
    if chain:
        try:
            parse_chain(chain)
        except MalformedCertificate:
            raise api.MalformedCertificateException("Certificate chain is malformed.") from None
    return cert


class ServerCertificateOperations(IamBase):
    def _server_cert(self, account: str, name: str) -> dict[str, Any]:
        doc = self.directory.get(account, SERVER_CERT, name)
        if doc is None:
            raise api.NoSuchEntityException(f"The Server Certificate with name {name} cannot be found.")
        return doc

    def _server_cert_named(self, account: str, name: str) -> dict[str, Any] | None:
        lowered = name.lower()
        table = self.directory.all(account, SERVER_CERT)
        return next((doc for key, doc in table.items() if key.lower() == lowered), None)

    async def upload_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["ServerCertificateName"], "serverCertificateName", SERVER_CERT_NAME_MAX)
        path = check_path(request.get("Path"))
        tags = check_tags(request.get("Tags"))
        chain = request.get("CertificateChain")
        cert = await asyncio.to_thread(
            _check_upload, request["CertificateBody"], request["PrivateKey"], chain
        )
        async with self.directory.lock:
            if self._server_cert_named(account, name) is not None:
                raise api.EntityAlreadyExistsException(
                    f"The Server Certificate with name {name} already exists."
                )
            if len(self.directory.all(account, SERVER_CERT)) >= SERVER_CERTS_MAX:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTS_MAX}"
                )
            doc: dict[str, Any] = {
                "ServerCertificateName": name,
                "ServerCertificateId": new_id(SERVER_CERT_PREFIX),
                "Arn": iam_arn(account, "server-certificate", path, name),
                "Path": path,
                "UploadDate": self.clock.now(),
                "Expiration": cert.not_after,
                "CertificateBody": request["CertificateBody"],
                "CertificateChain": chain,
                "Tags": tags,
            }
            await self.directory.put(account, SERVER_CERT, name, doc)
        return {"ServerCertificateMetadata": pick(doc, _METADATA), "Tags": tags}

    async def get_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._server_cert(account, request["ServerCertificateName"])
        out = pick(doc, ("CertificateBody", "CertificateChain", "Tags"))
        out["ServerCertificateMetadata"] = pick(doc, _METADATA)
        return {"ServerCertificate": out}

    async def list_server_certificates(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        docs = under_path(
            self.directory.sorted(account, SERVER_CERT), check_path_prefix(request.get("PathPrefix"))
        )
        page, extra = paginate(docs, request, "ServerCertificateName")
        return {"ServerCertificateMetadataList": [pick(doc, _METADATA) for doc in page], **extra}

    async def update_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._server_cert(account, request["ServerCertificateName"])
            old = doc["ServerCertificateName"]
            path = check_path(request.get("NewPath") or doc["Path"], "newPath")
            name = check_name(
                request.get("NewServerCertificateName") or old,
                "newServerCertificateName",
                SERVER_CERT_NAME_MAX,
            )
            if name.lower() != old.lower() and self._server_cert_named(account, name) is not None:
                raise api.EntityAlreadyExistsException(
                    f"The Server Certificate with name {name} already exists."
                )
            new = updated(
                doc,
                ServerCertificateName=name,
                Path=path,
                Arn=iam_arn(account, "server-certificate", path, name),
            )
            deletes = [(account, SERVER_CERT, old)] if name != old else []
            await self.directory.apply([IamDocument(account, SERVER_CERT, name, new)], deletes)
        return {}

    async def delete_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._server_cert(account, request["ServerCertificateName"])
            await self.directory.delete(account, SERVER_CERT, doc["ServerCertificateName"])
        return {}

    async def tag_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._server_cert(account, request["ServerCertificateName"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(
                account, SERVER_CERT, doc["ServerCertificateName"], updated(doc, Tags=tags)
            )
        return {}

    async def untag_server_certificate(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._server_cert(account, request["ServerCertificateName"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(
                account, SERVER_CERT, doc["ServerCertificateName"], updated(doc, Tags=tags)
            )
        return {}

    async def list_server_certificate_tags(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        doc = self._server_cert(account, request["ServerCertificateName"])
        return {"Tags": doc["Tags"], "IsTruncated": False}
