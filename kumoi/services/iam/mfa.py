"""Virtual MFA devices: created with a TOTP seed, enabled for a user with two consecutive codes
(RFC 6238), deactivated, resynchronized, tagged and deleted.

A device is stored under its serial number (its ARN, ``arn:aws:iam::<account>:mfa/<path><name>``)
with the user it is assigned to by ``UserId``. The seed is returned once, by
CreateVirtualMFADevice, as IAM does.
"""

from __future__ import annotations

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
    updated,
)
from kumoi.services.iam.dependents import MFA_DEVICE, user_name_of
from kumoi.services.iam.directory import USER, Doc
from kumoi.services.iam.names import check_name, check_path, iam_arn, validation_error
from kumoi.services.iam.totp import find_consecutive, new_seed, seed_key
from kumoi.services.iam.users import USER_FIELDS

#: MFA devices one user may have enabled (IAM allows up to eight).
DEVICES_PER_USER = 8
DEVICE_NAME_MAX = 226
#: How far (in 30-second steps) codes may be from the server's clock: enabling tolerates a
#: little drift, resynchronizing is for clocks that drifted further.
ENABLE_WINDOW = 2
RESYNC_WINDOW = 20
_STATUSES = ("Assigned", "Unassigned", "Any")


class MfaOperations(IamBase):
    def _device(self, account: str, serial: str) -> Doc:
        doc = self.directory.get(account, MFA_DEVICE, serial)
        if doc is None:
            raise api.NoSuchEntityException(f"VirtualMFADevice with serial number {serial} doesn't exist.")
        return doc

    def _assigned(self, account: str, user: Doc, serial: str) -> Doc:
        doc = self.directory.get(account, MFA_DEVICE, serial)
        if doc is None or doc.get("UserId") != user["UserId"]:
            raise api.NoSuchEntityException(
                f"MFA Device with serial number {serial} for user {user['UserName']} cannot be found."
            )
        return doc

    def _user_by_id(self, account: str, user_id: str | None) -> Doc | None:
        if user_id is None:
            return None
        return next(
            (doc for doc in self.directory.all(account, USER).values() if doc["UserId"] == user_id), None
        )

    def _devices_of(self, account: str, user: Doc) -> list[Doc]:
        devices = self.directory.all(account, MFA_DEVICE).values()
        return sorted((doc for doc in devices if doc.get("UserId") == user["UserId"]), key=_serial)

    async def create_virtual_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        name = check_name(request["VirtualMFADeviceName"], "virtualMFADeviceName", DEVICE_NAME_MAX)
        path = check_path(request.get("Path"))
        tags = check_tags(request.get("Tags"))
        serial = iam_arn(account, "mfa", path, name)
        async with self.directory.lock:
            if self.directory.get(account, MFA_DEVICE, serial) is not None:
                raise api.EntityAlreadyExistsException(
                    "MFADevice entity at the same path and name already exists."
                )
            doc: Doc = {
                "SerialNumber": serial,
                "Path": path,
                "Seed": new_seed(),
                "CreateDate": self.clock.now(),
                "Tags": tags,
                "UserId": None,
            }
            await self.directory.put(account, MFA_DEVICE, serial, doc)
        out = pick(doc, ("SerialNumber", "Tags"))
        out["Base32StringSeed"] = doc["Seed"].encode("ascii")
        return {"VirtualMFADevice": out}

    async def enable_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        serial = request["SerialNumber"]
        async with self.directory.lock:
            user = self.entity(account, USER, request["UserName"])
            device = self._device(account, serial)
            if device.get("UserId") is not None:
                raise api.EntityAlreadyExistsException("MFA Device is already in use.")
            if len(self._devices_of(account, user)) >= DEVICES_PER_USER:
                raise api.LimitExceededException(
                    f"Cannot exceed quota for MFADevicesPerUser: {DEVICES_PER_USER}"
                )
            step = self._check_codes(device, request, ENABLE_WINDOW)
            new = updated(device, UserId=user["UserId"], EnableDate=self.clock.now(), LastStep=step)
            await self.directory.put(account, MFA_DEVICE, serial, new)
        return {}

    async def resync_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, request["UserName"])
            device = self._assigned(account, user, request["SerialNumber"])
            step = self._check_codes(device, request, RESYNC_WINDOW)
            await self.directory.put(
                account, MFA_DEVICE, device["SerialNumber"], updated(device, LastStep=step)
            )
        return {}

    def _check_codes(self, device: Doc, request: dict[str, Any], window: int) -> int:
        codes = []
        for member in ("AuthenticationCode1", "AuthenticationCode2"):
            code = str(request[member])
            if len(code) != 6 or not code.isdigit():
                raise validation_error(code, member[0].lower() + member[1:], "Member must have length 6")
            codes.append(code)
        step = find_consecutive(seed_key(device["Seed"]), codes[0], codes[1], self.clock.now(), window)
        if step is None or step <= device.get("LastStep", -1):
            raise api.InvalidAuthenticationCodeException(
                "Authentication code for device is not valid."
                if step is None
                else "Authentication code for device has already been used."
            )
        return step

    async def deactivate_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            user = self.entity(account, USER, user_name_of(ctx, request))
            device = self._assigned(account, user, request["SerialNumber"])
            kept = {key: value for key, value in device.items() if key not in ("EnableDate", "LastStep")}
            await self.directory.put(account, MFA_DEVICE, device["SerialNumber"], updated(kept, UserId=None))
        return {}

    async def delete_virtual_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            device = self._device(account, request["SerialNumber"])
            if device.get("UserId") is not None:
                raise api.DeleteConflictException("MFA device is still in use.")
            await self.directory.delete(account, MFA_DEVICE, device["SerialNumber"])
        return {}

    async def list_mfa_devices(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        if not request.get("UserName") and ctx.caller.is_root:
            return {"MFADevices": [], "IsTruncated": False}
        user = self.entity(account, USER, user_name_of(ctx, request))
        page, extra = paginate(self._devices_of(account, user), request, "SerialNumber")
        return {
            "MFADevices": [
                {
                    "UserName": user["UserName"],
                    "SerialNumber": doc["SerialNumber"],
                    "EnableDate": doc["EnableDate"],
                }
                for doc in page
            ],
            **extra,
        }

    async def list_virtual_mfa_devices(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        status = request.get("AssignmentStatus") or "Any"
        if status not in _STATUSES:
            raise validation_error(
                status, "assignmentStatus", "Member must satisfy enum value set: [Assigned, Unassigned, Any]"
            )
        devices = sorted(self.directory.all(account, MFA_DEVICE).values(), key=_serial)
        if status != "Any":
            devices = [doc for doc in devices if (doc.get("UserId") is not None) == (status == "Assigned")]
        page, extra = paginate(devices, request, "SerialNumber")
        return {"VirtualMFADevices": [self._device_out(account, doc) for doc in page], **extra}

    def _device_out(self, account: str, doc: Doc) -> Doc:
        out = pick(doc, ("SerialNumber", "EnableDate", "Tags"))
        user = self._user_by_id(account, doc.get("UserId"))
        if user is not None:
            out["User"] = pick(user, USER_FIELDS[:5])
        return out

    async def get_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        serial = request["SerialNumber"]
        device = self.directory.get(account, MFA_DEVICE, serial)
        user = self._user_by_id(account, device.get("UserId")) if device is not None else None
        if device is None or user is None or (request.get("UserName") not in (None, user["UserName"])):
            raise api.NoSuchEntityException(f"MFA Device with serial number {serial} cannot be found.")
        return {"UserName": user["UserName"], "SerialNumber": serial, "EnableDate": device["EnableDate"]}

    async def tag_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._device(account, request["SerialNumber"])
            tags = merge_tags(doc["Tags"], check_tags(request["Tags"]))
            await self.directory.put(account, MFA_DEVICE, doc["SerialNumber"], updated(doc, Tags=tags))
        return {}

    async def untag_mfa_device(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        async with self.directory.lock:
            doc = self._device(account, request["SerialNumber"])
            tags = remove_tags(doc["Tags"], request["TagKeys"])
            await self.directory.put(account, MFA_DEVICE, doc["SerialNumber"], updated(doc, Tags=tags))
        return {}

    async def list_mfa_device_tags(self, ctx: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        account = await self.account(ctx)
        return {"Tags": self._device(account, request["SerialNumber"])["Tags"], "IsTruncated": False}


def _serial(doc: Doc) -> str:
    return str(doc["SerialNumber"])
