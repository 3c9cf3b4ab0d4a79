"""ACL grants are enforced between accounts and for anonymous callers where a bucket's ACLs are
enabled (ObjectWriter or BucketOwnerPreferred), with or without IAM enforcement: bucket grants
(READ lists, WRITE writes and deletes, READ_ACP/WRITE_ACP the bucket ACL), object grants (READ
reads, READ_ACP/WRITE_ACP the object ACL), the AllUsers and AuthenticatedUsers groups; an explicit
Deny in the bucket policy wins; BucketOwnerEnforced ignores every grant; IgnorePublicAcls ignores
the public ones; BlockPublicAcls refuses to store them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.iam.conftest import Account, unique
from tests.integration.s3.account_fixtures import owner, server, visitor
from tests.support.access import anonymous_client, error_of_call, policy_document
from tests.support.server import ServerProcess, running_server

__all__ = ["owner", "server", "visitor"]

AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def denied(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    assert error_of_call(call, *args, **kwargs) == ("AccessDenied", 403)


def canonical(account: Account) -> str:
    return str(account.root("s3").list_buckets()["Owner"]["ID"])


def acl_bucket(owner: Account, ownership: str = "ObjectWriter", *, public: bool = False) -> str:
    """A bucket of ``owner`` with ACLs enabled and one object, ``doc.txt`` (private)."""
    s3 = owner.root("s3")
    bucket = unique("acl")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
    )
    if public:
        s3.delete_public_access_block(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"owner's")
    return bucket


def test_bucket_read_grant_lets_another_account_list(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = visitor.root("s3")
    denied(s3.list_objects_v2, Bucket=bucket)
    owner.root("s3").put_bucket_acl(Bucket=bucket, GrantRead=f'id="{canonical(visitor)}"')
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc.txt"]
    s3.list_objects(Bucket=bucket)
    # READ on the bucket lists it; it neither reads objects nor the bucket's ACL.
    denied(s3.get_object, Bucket=bucket, Key="doc.txt")
    denied(s3.get_bucket_acl, Bucket=bucket)
    denied(s3.put_object, Bucket=bucket, Key="new", Body=b"x")


def test_bucket_acp_grants(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    me = canonical(visitor)
    owner.root("s3").put_bucket_acl(Bucket=bucket, GrantReadACP=f"id={me}", GrantWriteACP=f"id={me}")
    s3 = visitor.root("s3")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {grant["Permission"] for grant in grants} == {"READ_ACP", "WRITE_ACP"}
    denied(s3.list_objects_v2, Bucket=bucket)
    # WRITE_ACP lets the visitor rewrite the ACL, here to give itself READ.
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f"id={me}")
    s3.list_objects_v2(Bucket=bucket)
    denied(s3.get_bucket_acl, Bucket=bucket)


def test_bucket_write_grant_makes_the_writer_the_object_owner(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = visitor.root("s3")
    denied(s3.put_object, Bucket=bucket, Key="upload", Body=b"x")
    owner.root("s3").put_bucket_acl(Bucket=bucket, GrantWrite=f"id={canonical(visitor)}")
    s3.put_object(Bucket=bucket, Key="upload", Body=b"visitor's")
    # The writer owns what it wrote (ObjectWriter), so it may read it and its ACL.
    assert s3.get_object(Bucket=bucket, Key="upload")["Body"].read() == b"visitor's"
    acl = s3.get_object_acl(Bucket=bucket, Key="upload")
    assert acl["Owner"]["ID"] == canonical(visitor)
    # The object is the visitor's: its private ACL keeps even the bucket owner out.
    denied(owner.root("s3").get_object_acl, Bucket=bucket, Key="upload")
    # WRITE also deletes any object, but reads none of the owner's.
    denied(s3.get_object, Bucket=bucket, Key="doc.txt")
    s3.delete_object(Bucket=bucket, Key="doc.txt")
    assert "Contents" not in owner.root("s3").list_objects_v2(Bucket=bucket, Prefix="doc")
    # A multipart upload needs WRITE too.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"y"


def test_object_grants(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    me = canonical(visitor)
    s3 = owner.root("s3")
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared", GrantRead=f"id={me}")
    theirs = visitor.root("s3")
    assert theirs.get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"shared"
    assert theirs.head_object(Bucket=bucket, Key="shared.txt")["ContentLength"] == 6
    denied(theirs.get_object, Bucket=bucket, Key="doc.txt")
    denied(theirs.get_object_acl, Bucket=bucket, Key="shared.txt")
    denied(theirs.put_object_acl, Bucket=bucket, Key="shared.txt", ACL="private")
    denied(theirs.list_objects_v2, Bucket=bucket)
    # Without ListBucket, a missing key is AccessDenied, not NoSuchKey.
    denied(theirs.get_object, Bucket=bucket, Key="missing")
    # Grants added later with PutObjectAcl apply at once.
    s3.put_object_acl(Bucket=bucket, Key="doc.txt", GrantFullControl=f"id={me}")
    assert theirs.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"owner's"
    assert len(theirs.get_object_acl(Bucket=bucket, Key="doc.txt")["Grants"]) == 1
    theirs.put_object_acl(Bucket=bucket, Key="doc.txt", ACL="private")
    denied(theirs.get_object, Bucket=bucket, Key="doc.txt")
    # Copying out of the bucket reads the source under its ACL.
    mine = unique("mine")
    theirs.create_bucket(Bucket=mine)
    theirs.copy_object(Bucket=mine, Key="copy", CopySource={"Bucket": bucket, "Key": "shared.txt"})
    denied(theirs.copy_object, Bucket=mine, Key="copy2", CopySource={"Bucket": bucket, "Key": "doc.txt"})


def test_bucket_owner_preferred_takes_ownership(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner, "BucketOwnerPreferred")
    owner.root("s3").put_bucket_acl(Bucket=bucket, GrantWrite=f"id={canonical(visitor)}")
    s3 = visitor.root("s3")
    s3.put_object(Bucket=bucket, Key="handed", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"y")
    mine = owner.root("s3")
    assert mine.get_object_acl(Bucket=bucket, Key="handed")["Owner"]["ID"] == canonical(owner)
    assert s3.get_object_acl(Bucket=bucket, Key="kept")["Owner"]["ID"] == canonical(visitor)
    denied(mine.get_object, Bucket=bucket, Key="kept")
    # The handed-over object is the bucket owner's alone now.
    denied(s3.get_object, Bucket=bucket, Key="handed")
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"y"


def test_object_writer_keeps_ownership_with_bucket_owner_full_control(
    owner: Account, visitor: Account
) -> None:
    bucket = acl_bucket(owner)
    owner.root("s3").put_bucket_acl(Bucket=bucket, GrantWrite=f"id={canonical(visitor)}")
    s3 = visitor.root("s3")
    s3.put_object(Bucket=bucket, Key="both", Body=b"x", ACL="bucket-owner-full-control")
    acl = owner.root("s3").get_object_acl(Bucket=bucket, Key="both")
    assert acl["Owner"]["ID"] == canonical(visitor)
    assert {grant["Grantee"]["ID"] for grant in acl["Grants"]} == {canonical(visitor), canonical(owner)}
    assert s3.get_object(Bucket=bucket, Key="both")["Body"].read() == b"x"


def test_bucket_owner_enforced_ignores_grants(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = owner.root("s3")
    me = canonical(visitor)
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f"id={me}")
    s3.put_object_acl(Bucket=bucket, Key="doc.txt", GrantRead=f"id={me}")
    theirs = visitor.root("s3")
    theirs.list_objects_v2(Bucket=bucket)
    theirs.get_object(Bucket=bucket, Key="doc.txt")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    denied(theirs.list_objects_v2, Bucket=bucket)
    denied(theirs.get_object, Bucket=bucket, Key="doc.txt")


def test_objects_written_while_acls_were_disabled_stay_the_bucket_owners(
    owner: Account, visitor: Account
) -> None:
    s3 = owner.root("s3")
    bucket = unique("acl")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy_document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": visitor.id},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    visitor.root("s3").put_object(Bucket=bucket, Key="early", Body=b"e")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    assert s3.get_object_acl(Bucket=bucket, Key="early")["Owner"]["ID"] == canonical(owner)
    denied(visitor.root("s3").get_object, Bucket=bucket, Key="early")
    s3.put_object_acl(Bucket=bucket, Key="early", GrantRead=f"id={canonical(visitor)}")
    assert s3.get_object_acl(Bucket=bucket, Key="early")["Owner"]["ID"] == canonical(owner)
    assert visitor.root("s3").get_object(Bucket=bucket, Key="early")["Body"].read() == b"e"


def test_explicit_deny_in_the_bucket_policy_wins(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = owner.root("s3")
    me = canonical(visitor)
    s3.put_bucket_acl(Bucket=bucket, GrantFullControl=f"id={me}")
    s3.put_object_acl(Bucket=bucket, Key="doc.txt", GrantRead=f"id={me}")
    theirs = visitor.root("s3")
    theirs.get_object(Bucket=bucket, Key="doc.txt")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy_document(
            {
                "Effect": "Deny",
                "Principal": {"AWS": visitor.id},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    denied(theirs.get_object, Bucket=bucket, Key="doc.txt")
    denied(theirs.put_object, Bucket=bucket, Key="x", Body=b"x")
    theirs.list_objects_v2(Bucket=bucket)


def test_anonymous_reads_a_public_read_object(server: ServerProcess, owner: Account) -> None:
    bucket = acl_bucket(owner, public=True)
    s3 = owner.root("s3")
    s3.put_object(Bucket=bucket, Key="open.txt", Body=b"open", ACL="public-read")
    anyone = anonymous_client(server.endpoint)
    assert anyone.get_object(Bucket=bucket, Key="open.txt")["Body"].read() == b"open"
    denied(anyone.get_object, Bucket=bucket, Key="doc.txt")
    denied(anyone.list_objects_v2, Bucket=bucket)
    denied(anyone.put_object, Bucket=bucket, Key="x", Body=b"x")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert [item["Key"] for item in anyone.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "doc.txt",
        "open.txt",
    ]
    anyone.put_object(Bucket=bucket, Key="dropped", Body=b"anonymous")
    assert "dropped" in [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]


def test_authenticated_users_excludes_anonymous(
    server: ServerProcess, owner: Account, visitor: Account
) -> None:
    bucket = acl_bucket(owner, public=True)
    owner.root("s3").put_object(Bucket=bucket, Key="members.txt", Body=b"m", ACL="authenticated-read")
    assert visitor.root("s3").get_object(Bucket=bucket, Key="members.txt")["Body"].read() == b"m"
    denied(anonymous_client(server.endpoint).get_object, Bucket=bucket, Key="members.txt")


def test_ignore_public_acls(server: ServerProcess, owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner, public=True)
    s3 = owner.root("s3")
    s3.put_object(Bucket=bucket, Key="open.txt", Body=b"open", ACL="public-read")
    s3.put_object_acl(
        Bucket=bucket,
        Key="doc.txt",
        GrantRead=f'uri="{AUTHENTICATED_USERS}", id="{canonical(visitor)}"',
    )
    anyone = anonymous_client(server.endpoint)
    anyone.get_object(Bucket=bucket, Key="open.txt")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    denied(anyone.get_object, Bucket=bucket, Key="open.txt")
    denied(visitor.root("s3").get_object, Bucket=bucket, Key="open.txt")
    # Grants to accounts still count.
    visitor.root("s3").get_object(Bucket=bucket, Key="doc.txt")
    # The stored ACL is unchanged, and applies again once the setting is off.
    grants = s3.get_object_acl(Bucket=bucket, Key="open.txt")["Grants"]
    assert any(grant["Grantee"].get("URI", "").endswith("AllUsers") for grant in grants)
    s3.delete_public_access_block(Bucket=bucket)
    anyone.get_object(Bucket=bucket, Key="open.txt")


def test_block_public_acls_refuses_public_grants(owner: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = owner.root("s3")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    denied(s3.put_object, Bucket=bucket, Key="open", Body=b"x", ACL="public-read")
    denied(s3.put_object_acl, Bucket=bucket, Key="doc.txt", ACL="public-read")
    denied(s3.put_bucket_acl, Bucket=bucket, ACL="authenticated-read")
    denied(
        s3.copy_object,
        Bucket=bucket,
        Key="c",
        CopySource={"Bucket": bucket, "Key": "doc.txt"},
        ACL="public-read",
    )
    denied(s3.create_multipart_upload, Bucket=bucket, Key="m", ACL="public-read-write")
    s3.put_object(Bucket=bucket, Key="private", Body=b"x", ACL="private")


def test_grants_belong_to_each_version(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    s3 = owner.root("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    me = canonical(visitor)
    first = s3.put_object(Bucket=bucket, Key="v", Body=b"one", GrantRead=f"id={me}")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="v", Body=b"two")["VersionId"]
    theirs = visitor.root("s3")
    denied(theirs.get_object, Bucket=bucket, Key="v")
    assert theirs.get_object(Bucket=bucket, Key="v", VersionId=first)["Body"].read() == b"one"
    denied(theirs.get_object, Bucket=bucket, Key="v", VersionId=second)
    s3.put_object_acl(Bucket=bucket, Key="v", VersionId=second, GrantRead=f"id={me}")
    assert theirs.get_object(Bucket=bucket, Key="v")["Body"].read() == b"two"
    assert len(s3.get_object_acl(Bucket=bucket, Key="v", VersionId=second)["Grants"]) == 1
    mine = unique("mine")
    theirs.create_bucket(Bucket=mine)
    source = {"Bucket": bucket, "Key": "v", "VersionId": first}
    theirs.copy_object(Bucket=mine, Key="copy", CopySource=source)
    assert theirs.get_object(Bucket=mine, Key="copy")["Body"].read() == b"one"


# --- with IAM enforcement -------------------------------------------------------------------------


def test_enforced_visitor_users_need_identity_policies(owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner)
    owner.root("s3").put_object_acl(Bucket=bucket, Key="doc.txt", GrantRead=f"id={canonical(visitor)}")
    visitor.enforce()
    # The visitor's root user needs nothing more than the grant.
    visitor.root("s3").get_object(Bucket=bucket, Key="doc.txt")
    plain = visitor.client("s3", visitor.user())
    denied(plain.get_object, Bucket=bucket, Key="doc.txt")
    allowed = visitor.user(policy_document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    reader = visitor.client("s3", allowed)
    assert reader.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == b"owner's"
    # The identity policy alone does not open what no grant opens.
    owner.root("s3").put_object(Bucket=bucket, Key="other", Body=b"z")
    denied(reader.get_object, Bucket=bucket, Key="other")


def test_enforced_owner_grants_still_apply(server: ServerProcess, owner: Account, visitor: Account) -> None:
    bucket = acl_bucket(owner, public=True)
    s3 = owner.root("s3")
    s3.put_object(Bucket=bucket, Key="open.txt", Body=b"open", ACL="public-read")
    s3.put_bucket_acl(Bucket=bucket, GrantRead=f"id={canonical(visitor)}")
    owner.enforce()
    visitor.root("s3").list_objects_v2(Bucket=bucket)
    anonymous_client(server.endpoint).get_object(Bucket=bucket, Key="open.txt")
    # The owner account's own users are not let in by its grant to itself.
    denied(owner.client("s3", owner.user()).list_objects_v2, Bucket=bucket)


# --- a server whose new buckets have ACLs enabled --------------------------------------------------


@pytest.fixture(scope="module")
def writer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("kumoi-object-writer") / "data"
    args = ("--accept-any-key", "--default-object-ownership", "ObjectWriter")
    with running_server(data_dir, args=args) as process:
        yield process


def test_server_default_ownership_enables_acls(writer_server: ServerProcess) -> None:
    owner, visitor = Account(writer_server.endpoint), Account(writer_server.endpoint)
    s3 = owner.root("s3")
    bucket = unique("writer")
    s3.create_bucket(Bucket=bucket)
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    s3.put_object(Bucket=bucket, Key="shared", Body=b"s", GrantRead=f"id={canonical(visitor)}")
    assert visitor.root("s3").get_object(Bucket=bucket, Key="shared")["Body"].read() == b"s"
    # New buckets still block public ACLs, and a bucket created with its own setting keeps it.
    denied(s3.put_object, Bucket=bucket, Key="open", Body=b"o", ACL="public-read")
    enforced = unique("enforced")
    s3.create_bucket(Bucket=enforced, ObjectOwnership="BucketOwnerEnforced")
    assert error_of_call(
        s3.put_object, Bucket=enforced, Key="k", Body=b"x", GrantRead=f"id={canonical(visitor)}"
    ) == (
        "AccessControlListNotSupported",
        400,
    )
