"""S3Repository contract: event notification rows are stored in the transaction of their object
change, and only when that change happens."""

from __future__ import annotations

import pytest

from kumoi.storage.meta.contract import (
    BlobPart,
    ConditionFailed,
    ObjectMissing,
    PartRecord,
    PutCondition,
    S3EventRow,
    UploadRecord,
)
from tests.storage_contract.conftest import Env, Runner
from tests.storage_contract.test_s3_contract import bucket, obj

QUEUE_ARN = "arn:aws:sqs:us-east-1:111122223333"


def rows(*names: str) -> list[S3EventRow]:
    return [
        S3EventRow(f"arn:aws:sqs:us-east-1:111122223333:{name}", f"body-{name}", "http://k") for name in names
    ]


async def pending(env: Env) -> list[tuple[str, str]]:
    return [(row.destination.rsplit(":", 1)[1], row.body) for row in await env.meta.s3.pending_events(0, 100)]


def test_events_are_stored_with_puts_and_attribute_updates(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        put = rows("put-a", "put-b")
        await s3.put_object(obj("a"), events=put)
        assert put[0].row_id and put[1].row_id > put[0].row_id
        conditional = rows("if")
        await s3.put_object_if(obj("a"), PutCondition(if_match='"e"'), events=conditional)
        tagged = rows("tag")
        await s3.update_object_attrs("bkt", "a", '"e"', {"Tags": {"t": "1"}}, events=tagged)
        assert await pending(env) == [
            ("put-a", "body-put-a"),
            ("put-b", "body-put-b"),
            ("if", "body-if"),
            ("tag", "body-tag"),
        ]
        after = await s3.pending_events(put[0].row_id, 100)
        assert [row.row_id for row in after] == [put[1].row_id, conditional[0].row_id, tagged[0].row_id]
        assert after[0].base_url == "http://k"

    contract(body)


def test_failed_changes_store_no_events(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.put_object(obj("a"))
        with pytest.raises(ConditionFailed):
            await s3.put_object_if(obj("a"), PutCondition(if_none_match=True), events=rows("lost"))
        with pytest.raises(ConditionFailed):
            await s3.update_object_attrs("bkt", "a", '"other"', {}, events=rows("lost"))
        with pytest.raises(ObjectMissing):
            await s3.update_object_attrs("bkt", "none", '"e"', {}, events=rows("lost"))
        assert await s3.delete_object("bkt", "none", events=rows("lost")) is None
        assert await pending(env) == []

    contract(body)


def test_deletes_store_events_of_existing_keys_only(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        for key in ("a", "b", "c"):
            await s3.put_object(obj(key))
        assert await s3.delete_object("bkt", "a", events=rows("del-a")) is not None
        removed = await s3.delete_objects(
            "bkt", ["b", "missing", "c"], events={"b": rows("del-b"), "missing": rows("del-missing")}
        )
        assert removed == ["b", "c"]
        assert await pending(env) == [("del-a", "body-del-a"), ("del-b", "body-del-b")]
        first = await s3.pending_events(0, 1)
        await s3.finish_events([first[0].row_id])
        assert await pending(env) == [("del-b", "body-del-b")]

    contract(body)


def test_completion_stores_its_events(contract: Runner) -> None:
    async def body(env: Env) -> None:
        s3 = env.meta.s3
        await s3.create_bucket(bucket())
        await s3.create_upload(UploadRecord("up", "bkt", "k", 1.0, {}))
        await env.meta.record_blob_intent("p1")
        await s3.put_part(PartRecord("up", 1, 5, '"p1"', "p1", 2.0, {}))
        record = obj("k", size=5)
        record.inline, record.manifest = None, [BlobPart("p1", 5)]
        await s3.complete_upload("up", record, events=rows("done"))
        assert await pending(env) == [("done", "body-done")]

    contract(body)
