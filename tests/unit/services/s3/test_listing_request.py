"""ListingRequest: the arguments every List* operation reads, and the grouping fields it answers
only where S3 sends them."""

from __future__ import annotations

import pytest

from kumoi.core.errors import ServiceError
from kumoi.services.s3.listing_request import ListingRequest


def test_defaults_of_a_bare_request() -> None:
    args = ListingRequest.of({"Bucket": "b"})
    assert (args.max_keys, args.prefix, args.delimiter) == (1000, "", "")
    assert args.encode("a b") == "a b"
    assert args.grouping({"Bucket": "b"}, []) == {}


def test_grouping_url_encodes_prefixes_and_delimiter_as_s3_does() -> None:
    request = {"Bucket": "b", "Prefix": "p/", "Delimiter": " ", "EncodingType": "url", "MaxKeys": 5000}
    args = ListingRequest.of(request)
    assert (args.max_keys, args.prefix) == (1000, "p/")
    assert args.grouping(request, ["p/a b/"]) == {
        "CommonPrefixes": [{"Prefix": "p/a+b/"}],
        "Delimiter": "+",
        "EncodingType": "url",
    }


def test_bad_encoding_is_refused_before_bad_max_keys() -> None:
    with pytest.raises(ServiceError) as caught:
        ListingRequest.of({"Bucket": "b", "EncodingType": "base64", "MaxKeys": -1})
    assert caught.value.fields["ArgumentName"] == "encoding-type"
    with pytest.raises(ServiceError) as caught:
        ListingRequest.of({"Bucket": "b", "MaxKeys": -1})
    assert caught.value.fields["ArgumentName"] == "max-keys"
