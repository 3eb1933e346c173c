"""What can be checked of Dockerfile.enclave without a container runtime."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

from tests.conftest import REPO

DOCKERFILE = (REPO / "Dockerfile.enclave").read_text()
LOCK = (REPO / "docker" / "enclave-requirements.txt").read_text()


def instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_base_image_is_pinned_by_digest() -> None:
    args = dict(
        rest.split("=", 1) for word, rest in instructions() if word == "ARG" and "=" in rest
    )
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", args["BASE_IMAGE"])
    froms = [rest.split()[0] for word, rest in instructions() if word == "FROM"]
    assert froms, "no FROM"
    assert all(image == "${BASE_IMAGE}" for image in froms)


def test_the_service_runs_as_an_unprivileged_user() -> None:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    users = [rest for word, rest in steps[last_from:] if word == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    entry = next(rest for word, rest in steps if word == "ENTRYPOINT")
    assert entry.endswith('"-m", "enclave"]')


def test_nothing_is_fetched_at_build_time_beyond_locked_wheels() -> None:
    words = [word for word, _ in instructions()]
    assert "ADD" not in words
    assert not re.search(r"\b(curl|wget)\b", DOCKERFILE)
    assert "--require-hashes" in DOCKERFILE
    assert "--only-binary=:all:" in DOCKERFILE


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    for word, rest in instructions():
        if word != "COPY" or rest.startswith("--from"):
            continue
        source = rest.split()[0]
        assert (REPO / source).exists(), source
        assert f"!{source}" in ignore or f"!{source}/**" in ignore, source


IMAGE_PACKAGES = ("transcript", "attestation", "enclave")
# Imports of optional extras the image does not carry (documented in docs/operator.md).
OPTIONAL = {"tpm2_pytss"}


def third_party_imports() -> set[str]:
    """Top-level modules that the image's packages import and Python does not ship."""
    names: set[str] = set()
    for package in IMAGE_PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(IMAGE_PACKAGES) - {"__future__"}


def test_the_lock_covers_every_import_with_hashes() -> None:
    pinned = {}
    for block in re.split(r"\n(?=[a-z0-9])", LOCK):
        match = re.match(r"([a-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            assert "--hash=sha256:" in block, match.group(1)
            pinned[match.group(1).replace("_", "-").lower()] = match.group(2)
    distributions = importlib.metadata.packages_distributions()
    needed = {
        dist.lower().replace("_", "-")
        for module in third_party_imports() - OPTIONAL
        for dist in distributions[module]
    }
    missing = needed - set(pinned)
    assert not missing, f"imported but not in docker/enclave-requirements.txt: {sorted(missing)}"
    assert {"uvicorn", "uvloop", "httptools", "fastapi"} <= set(pinned)


def test_the_image_carries_only_the_enclaves_packages() -> None:
    copied = {
        rest.split()[0]
        for word, rest in instructions()
        if word == "COPY" and not rest.startswith("--from") and not rest.startswith("docker/")
    }
    assert copied == set(IMAGE_PACKAGES)
    for package in IMAGE_PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text()
            assert "import verifier" not in text and "from verifier" not in text, path
            assert "from veritee" not in text and "import veritee" not in text, path
