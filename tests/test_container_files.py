"""The Dockerfile and the compose example are checked without a Docker engine: parsed with the
official Dockerfile parser and YAML, and held to what they promise (image runs `kumoi serve` as a
non-root user, listens on 4566 with a health check, compose waits for health)."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile() -> None:
    instructions = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    by_command: dict[str, list[tuple[str, ...]]] = {}
    for instruction in instructions:
        by_command.setdefault(instruction.cmd.lower(), []).append(instruction.value)
    assert by_command["from"][0][0].startswith("python:3.11")
    assert by_command["user"] == [("kumoi",)]
    assert "4566" in by_command["expose"][0]
    assert by_command["cmd"] == [("kumoi", "serve")]
    assert any("/_kumoi/health" in part for part in by_command["healthcheck"][0])
    copied = [source for value in by_command["copy"] for source in value[:-1]]
    for source in copied:
        assert (ROOT / source).exists(), f"COPY source {source} is missing"


def test_compose_example() -> None:
    document = yaml.safe_load((ROOT / "examples" / "compose" / "compose.yaml").read_text())
    kumoi = document["services"]["kumoi"]
    assert (ROOT / "examples" / "compose" / kumoi["build"] / "Dockerfile").resolve().exists()
    assert "127.0.0.1:4566:4566" in kumoi["ports"]
    assert kumoi["environment"]["KUMOI_HOSTNAMES"] == "kumoi"
    tests = document["services"]["app-tests"]
    assert tests["depends_on"]["kumoi"]["condition"] == "service_healthy"
    assert tests["environment"]["AWS_ENDPOINT_URL"] == "http://kumoi:4566"
