"""Delta Lake's three pins agree: the jars engines-jars.txt fetches (and checks), the jars the
spark profile loads by default, and the delta-spark wheel of requirements-engines.txt. A
version bumped in one place only would load jars the Python API was not built with, or
none at all."""

from __future__ import annotations

import hashlib
import re

from conftest import REPO


def jar_pins() -> dict[str, tuple[str, str]]:
    pins = {}
    for line in (REPO / "engines-jars.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            artifact, digest = line.split()
            _, name, version = artifact.split(":")
            pins[f"{name}-{version}.jar"] = (version, digest)
    return pins


def test_the_profile_loads_exactly_the_pinned_jars() -> None:
    profile = (REPO / "profiles.yml").read_text()
    default = re.search(r"env_var\('SPARK_JARS', '([^']+)'\)", profile)
    assert default, "profiles.yml: spark.jars has no SPARK_JARS default"
    assert sorted(path.split("/")[-1] for path in default.group(1).split(",")) == sorted(jar_pins())


def test_the_wheel_and_the_jars_are_one_delta_version() -> None:
    wheel = re.search(r"^delta-spark==(\S+)$", (REPO / "requirements-engines.txt").read_text(), re.MULTILINE)
    assert wheel, "requirements-engines.txt pins no delta-spark"
    assert {version for version, _ in jar_pins().values()} == {wheel.group(1)}


def test_the_installed_jars_are_the_pinned_ones() -> None:
    # make install-engines fetched them (this suite runs after it) and checked each sum.
    folder = REPO / ".venv-engines" / "jars"
    for name, (_, digest) in jar_pins().items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
