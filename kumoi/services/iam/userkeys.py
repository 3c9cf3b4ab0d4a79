"""A user's other credentials: SSH public keys (CodeCommit), X.509 signing certificates and
service-specific credentials (CodeCommit, Keyspaces, Bedrock).

Key material is parsed in a worker thread (``keymaterial.py``). Service-specific passwords are
returned once, when created or reset, and not stored.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from typing import Any

from kumoi.core.context import RequestContext
from kumoi.services.iam import api
from kumoi.services.iam.common import IamBase, paginate, pick, updated
from kumoi.services.iam.dependents import (
    SERVICE_CREDENTIAL,
    SIGNING_CERT,
    SSH_KEY,
    owned_by,
    user_name_of,
)
from kumoi.services.iam.directory import USER, Doc
from kumoi.services.iam.keymaterial import (
    InvalidKey,
    MalformedCertificate,
    UnrecognizedEncoding,
    parse_certificate,
    parse_ssh_public_key,
)
from kumoi.services.iam.names import new_id, validation_error

#: IAM quotas.
SSH_KEYS_PER_USER = 5
SIGNING_CERTS_PER_USER = 2
SERVICE_CREDENTIALS_PER_SERVICE = 2
SSH_KEY_PREFIX = "APKA"
CERTIFICATE_ID_LENGTH = 32
SERVICE_CREDENTIAL_PREFIX = "ACCA"
#: Services that take service-specific credentials: those with a user name and password, and
#: Bedrock's API keys (an alias and a secret, which may expire).
PASSWORD_SERVICES = frozenset({"codecommit.amazonaws.com", "cassandra.amazonaws.com"})
SECRET_SERVICES = frozenset({"bedrock.amazonaws.com"})
CREDENTIAL_AGE_MAX_DAYS = 36600
_STATUSES = ("Active", "Inactive")
_SSH_METADATA = ("UserName", "SSHPublicKeyId", "Status", "UploadDate")
_CREDENTIAL_METADATA = (
    "UserName",
    "Status",
    "ServiceUserName",
    "ServiceCredentialAlias",
    "CreateDate",
    "ExpirationDate",
    "ServiceSpecificCredentialId",
    "ServiceName",
)


def _status(value: str) -> str:
    if value not in _STATUSES:
        raise validation_error(value, "status", "Member must satisfy enum value set: [Active, Inactive]")
    return value


def _upload_date(doc: Doc) -> float:
    return float(doc["UploadDate"])


class UserKeyOperations(IamBase):
    def _one(self, account: str, kind: str, user: Doc, item_id: str, word: str) -> Doc:
        doc = self.directory.get(account, kind, item_id)
        if doc is None or doc["UserId"] != user["UserId"]:
            raise api.NoSuchEntityException(f"The {word} with id {item_id} cannot be found.")
        return doc

    # --- SSH public keys -------------------------------------------------------------------------

    async def upload_ssh_public_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, request["UserName"])
        try:
            key = await asyncio.to_thread(parse_ssh_public_key, request["SSHPublicKeyBody"])
        except UnrecognizedEncoding:
            raise api.UnrecognizedPublicKeyEncodingException(
                "Public key encoding format is unrecognized. Use ssh-rsa or PEM encoding."
            ) from None
        except InvalidKey:
            raise api.InvalidPublicKeyException("The public key is invalid.") from None
        async with self.directory.lock:
            user = self.entity(account, USER, user["UserName"])
            mine = owned_by(self.directory, account, SSH_KEY, user["UserId"])
            if any(doc["Fingerprint"] == key.fingerprint for doc in mine):
                raise api.DuplicateSSHPublicKeyException(
                    "The public key is already associated with this user."
                )
            if len(mine) >= SSH_KEYS_PER_USER:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for PublicKeysPerUser: {SSH_KEYS_PER_USER}"
                )
            doc: Doc = {
                "UserId": user["UserId"],
                "SSHPublicKeyId": new_id(SSH_KEY_PREFIX),
                "Fingerprint": key.fingerprint,
                "OpenSSH": key.openssh,
                "Pem": key.pem,
                "Status": "Active",
                "UploadDate": self.clock.now(),
            }
            await self.directory.put(account, SSH_KEY, doc["SSHPublicKeyId"], doc)
        return {"SSHPublicKey": _ssh_out(user, doc, "SSH")}

    async def get_ssh_public_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        encoding = request["Encoding"]
        if encoding not in ("SSH", "PEM"):
            raise validation_error(encoding, "encoding", "Member must satisfy enum value set: [SSH, PEM]")
        user = self.entity(account, USER, request["UserName"])
        doc = self._one(account, SSH_KEY, user, request["SSHPublicKeyId"], "Public Key")
        return {"SSHPublicKey": _ssh_out(user, doc, encoding)}

    async def list_ssh_public_keys(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        keys = sorted(owned_by(self.directory, account, SSH_KEY, user["UserId"]), key=_upload_date)
        page, extra = paginate(keys, request, "SSHPublicKeyId")
        return {"SSHPublicKeys": [pick(_ssh_out(user, doc, "SSH"), _SSH_METADATA) for doc in page], **extra}

    async def update_ssh_public_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        status = _status(request["Status"])
        async with self.directory.lock:
            user = self.entity(account, USER, request["UserName"])
            doc = self._one(account, SSH_KEY, user, request["SSHPublicKeyId"], "Public Key")
            await self.directory.put(account, SSH_KEY, doc["SSHPublicKeyId"], updated(doc, Status=status))
        return {}

    async def delete_ssh_public_key(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, request["UserName"])
            doc = self._one(account, SSH_KEY, user, request["SSHPublicKeyId"], "Public Key")
            await self.directory.delete(account, SSH_KEY, doc["SSHPublicKeyId"])
        return {}

    # --- signing certificates --------------------------------------------------------------------

    async def upload_signing_certificate(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        body = request["CertificateBody"]
        try:
            cert = await asyncio.to_thread(parse_certificate, body)
        except MalformedCertificate:
            raise api.MalformedCertificateException("Certificate body is malformed.") from None
        now = self.clock.now()
        if not cert.not_before <= now <= cert.not_after:
            raise api.InvalidCertificateException("The certificate is not valid at this time.")
        async with self.directory.lock:
            user = self.entity(account, USER, user["UserName"])
            if any(
                doc["Sha256"] == cert.der_sha256 for doc in self.directory.all(account, SIGNING_CERT).values()
            ):
                raise api.DuplicateCertificateException("The certificate has already been uploaded.")
            mine = owned_by(self.directory, account, SIGNING_CERT, user["UserId"])
            if len(mine) >= SIGNING_CERTS_PER_USER:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for SigningCertificatesPerUser: {SIGNING_CERTS_PER_USER}"
                )
            doc: Doc = {
                "UserId": user["UserId"],
                "CertificateId": _certificate_id(),
                "CertificateBody": body,
                "Sha256": cert.der_sha256,
                "Status": "Active",
                "UploadDate": now,
            }
            await self.directory.put(account, SIGNING_CERT, doc["CertificateId"], doc)
        return {"Certificate": _certificate_out(user, doc)}

    async def list_signing_certificates(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        certs = sorted(owned_by(self.directory, account, SIGNING_CERT, user["UserId"]), key=_upload_date)
        page, extra = paginate(certs, request, "CertificateId")
        return {"Certificates": [_certificate_out(user, doc) for doc in page], **extra}

    async def update_signing_certificate(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        status = _status(request["Status"])
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            doc = self._one(account, SIGNING_CERT, user, request["CertificateId"], "Signing Certificate")
            await self.directory.put(account, SIGNING_CERT, doc["CertificateId"], updated(doc, Status=status))
        return {}

    async def delete_signing_certificate(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            doc = self._one(account, SIGNING_CERT, user, request["CertificateId"], "Signing Certificate")
            await self.directory.delete(account, SIGNING_CERT, doc["CertificateId"])
        return {}

    # --- service-specific credentials ------------------------------------------------------------

    async def create_service_specific_credential(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        service = _service(request["ServiceName"])
        age = request.get("CredentialAgeDays")
        if age is not None and not 1 <= age <= CREDENTIAL_AGE_MAX_DAYS:
            raise validation_error(
                str(age),
                "credentialAgeDays",
                f"Member must have value less than or equal to {CREDENTIAL_AGE_MAX_DAYS}",
            )
        async with self.directory.lock:
            user = self.entity(account, USER, request["UserName"])
            mine = owned_by(self.directory, account, SERVICE_CREDENTIAL, user["UserId"])
            if sum(1 for doc in mine if doc["ServiceName"] == service) >= SERVICE_CREDENTIALS_PER_SERVICE:
                raise api.LimitExceededException(
                    "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                    f"{SERVICE_CREDENTIALS_PER_SERVICE}"
                )
            now = self.clock.now()
            doc: Doc = {
                "UserId": user["UserId"],
                "ServiceSpecificCredentialId": new_id(SERVICE_CREDENTIAL_PREFIX),
                "ServiceName": service,
                "Status": "Active",
                "CreateDate": now,
            }
            if service in SECRET_SERVICES:
                doc["ServiceCredentialAlias"] = f"{user['UserName']}+{len(mine) + 1}-at-{account}"
                if age is not None:
                    doc["ExpirationDate"] = now + age * 86400
            else:
                doc["ServiceUserName"] = f"{user['UserName']}-at-{account}"
            await self.directory.put(account, SERVICE_CREDENTIAL, doc["ServiceSpecificCredentialId"], doc)
        return {"ServiceSpecificCredential": _with_secret(user, doc)}

    async def list_service_specific_credentials(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        service = request.get("ServiceName")
        if service:
            _service(service)
        users = {doc["UserId"]: doc for doc in self.directory.all(account, USER).values()}
        if request.get("AllUsers"):
            creds = list(self.directory.all(account, SERVICE_CREDENTIAL).values())
        else:
            user = self.entity(account, USER, user_name_of(ctx, request))
            creds = owned_by(self.directory, account, SERVICE_CREDENTIAL, user["UserId"])
        creds = sorted(
            (
                doc
                for doc in creds
                if doc["UserId"] in users and (not service or doc["ServiceName"] == service)
            ),
            key=lambda doc: (users[doc["UserId"]]["UserName"], doc["CreateDate"]),
        )
        page, extra = paginate(creds, request, "ServiceSpecificCredentialId")
        return {
            "ServiceSpecificCredentials": [
                pick(_credential_out(users[doc["UserId"]], doc), _CREDENTIAL_METADATA) for doc in page
            ],
            **extra,
        }

    async def update_service_specific_credential(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        status = _status(request["Status"])
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            doc = self._credential(account, user, request["ServiceSpecificCredentialId"])
            await self.directory.put(
                account, SERVICE_CREDENTIAL, doc["ServiceSpecificCredentialId"], updated(doc, Status=status)
            )
        return {}

    async def reset_service_specific_credential(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        user = self.entity(account, USER, user_name_of(ctx, request))
        doc = self._credential(account, user, request["ServiceSpecificCredentialId"])
        return {"ServiceSpecificCredential": _with_secret(user, doc)}

    async def delete_service_specific_credential(
        self, ctx: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            doc = self._credential(account, user, request["ServiceSpecificCredentialId"])
            await self.directory.delete(account, SERVICE_CREDENTIAL, doc["ServiceSpecificCredentialId"])
        return {}

    def _credential(self, account: str, user: Doc, credential_id: str) -> Doc:
        doc = self.directory.get(account, SERVICE_CREDENTIAL, credential_id)
        if doc is None or doc["UserId"] != user["UserId"]:
            raise api.NoSuchEntityException(
                f"No such credential {credential_id} exists for user {user['UserName']}."
            )
        return doc


def _service(name: str) -> str:
    if name not in PASSWORD_SERVICES | SECRET_SERVICES:
        raise api.ServiceNotSupportedException(
            f"Service {name} is not supported for service specific credentials."
        )
    return name


def _certificate_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(secrets.choice(alphabet) for _ in range(CERTIFICATE_ID_LENGTH))


def _ssh_out(user: Doc, doc: Doc, encoding: str) -> Doc:
    return {
        "UserName": user["UserName"],
        "SSHPublicKeyId": doc["SSHPublicKeyId"],
        "Fingerprint": doc["Fingerprint"],
        "SSHPublicKeyBody": doc["OpenSSH"] if encoding == "SSH" else doc["Pem"],
        "Status": doc["Status"],
        "UploadDate": doc["UploadDate"],
    }


def _certificate_out(user: Doc, doc: Doc) -> Doc:
    return {
        "UserName": user["UserName"],
        "CertificateId": doc["CertificateId"],
        "CertificateBody": doc["CertificateBody"],
        "Status": doc["Status"],
        "UploadDate": doc["UploadDate"],
    }


def _credential_out(user: Doc, doc: Doc) -> Doc:
    kept = {key: value for key, value in doc.items() if key != "UserId"}
    return {**kept, "UserName": user["UserName"]}


def _with_secret(user: Doc, doc: Doc) -> Doc:
    """The credential with a fresh secret: a password, or for Bedrock an API key."""
    out = _credential_out(user, doc)
    if doc["ServiceName"] in SECRET_SERVICES:
        out["ServiceCredentialSecret"] = "ABSK" + base64.b64encode(secrets.token_bytes(96)).decode("ascii")
    else:
        out["ServicePassword"] = base64.b64encode(secrets.token_bytes(33)).decode("ascii")
    return out
