"""No secret in the repository: every tracked file is scanned for credential shapes, and
every dbt target except the embedded DuckDB one takes its connection settings from
environment variables."""

from __future__ import annotations

import re
import subprocess

import yaml

from conftest import REPO

SECRET_SHAPES = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "credential in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@"),
    "literal password": re.compile(r"(?i)\b(password|passwd|secret|api_key|token)\b\s*[:=]\s*['\"](?![{'\"])[^'\"\s]{4,}['\"]"),
}


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [name for name in out.splitlines() if (REPO / name).is_file()]


def test_no_tracked_file_holds_a_secret() -> None:
    files = tracked_files()
    assert "profiles.yml" in files
    found = []
    for name in files:
        try:
            text = (REPO / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary fixtures (Parquet) hold no text secrets
            continue
        for kind, shape in SECRET_SHAPES.items():
            found += [(name, kind, match.group(0)[:40]) for match in shape.finditer(text)]
    assert found == []


def test_the_scan_recognises_secrets() -> None:
    # Assembled at run time, so that this file does not trip its own scan.
    fake = "hunter" + "22"
    samples = {
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
        "AWS access key": "key = AKIA" + "ABCDEFGHIJKLMNOP",
        "credential in a URL": "postgresql://admin:" + fake + "@db.internal/warehouse",
        "literal password": f'password: "{fake}"',
    }
    for kind, text in samples.items():
        assert SECRET_SHAPES[kind].search(text), kind
    assert not SECRET_SHAPES["literal password"].search("""password: "{{ env_var('DBT_PG_PASSWORD', '') }}\"""")


def test_non_embedded_targets_read_every_setting_from_the_environment() -> None:
    profile = yaml.safe_load((REPO / "profiles.yml").read_text())["messaging_warehouse"]
    assert "env_var(" in profile["target"]
    for name, target in profile["outputs"].items():
        if target["type"] == "duckdb":
            assert "env_var('WAREHOUSE_PATH'" in target["path"]
            continue
        if target["type"] == "spark" and target.get("method") == "session":
            # A local Spark session in this process: no server, so no credential at all.
            assert not {"user", "password", "token"} & set(target), f"target {name}: a local session takes no credential"
            continue
        for key in ("host", "user", "password", "dbname"):
            assert "env_var(" in str(target[key]), f"target {name}: {key} must come from an env var"
