"""The pytest plugin, as a user's test suite would use it (pytester runs a suite of its own)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import asyncio
import os

import boto3


def test_gets_a_server_and_an_account(kumoi):
    assert os.environ["AWS_ENDPOINT_URL"] == kumoi.url
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Account"] == kumoi.account_id


def test_accounts_are_isolated(kumoi):
    sqs = boto3.client("sqs")
    sqs.create_queue(QueueName="same-name")
    assert len(sqs.list_queues()["QueueUrls"]) == 1


def test_another_account_sees_nothing_of_the_last(kumoi):
    sqs = boto3.client("sqs")
    assert "QueueUrls" not in sqs.list_queues()
    sqs.create_queue(QueueName="same-name")


def test_async_tests_can_use_it(kumoi):
    async def call():
        return await asyncio.to_thread(boto3.client("s3").list_buckets)

    assert asyncio.run(call())["Buckets"] == []
"""

SESSION_TESTS = """
import sys

import boto3

SESSIONS = []


def test_nothing_of_the_server_is_imported_before_a_fixture_asks():
    assert "kumoi.runtime.app" not in sys.modules


def test_first_account(kumoi):
    assert boto3.client("sts").get_caller_identity()["Account"] == kumoi.account_id
    SESSIONS.append(boto3.DEFAULT_SESSION)


def test_next_account_gets_a_new_session_on_the_same_loader(kumoi):
    assert boto3.client("sts").get_caller_identity()["Account"] == kumoi.account_id
    assert boto3.DEFAULT_SESSION is not SESSIONS[0]
    loader = boto3.DEFAULT_SESSION._session.get_component("data_loader")
    assert loader is SESSIONS[0]._session.get_component("data_loader")
    assert len(loader.search_paths) == len(set(loader.search_paths))
"""


def test_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_plugin_with_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)


def test_plugin_sessions_and_lazy_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sessions=SESSION_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3)
