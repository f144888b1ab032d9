"""Attestations: what a version was when it was built and approved, signed with a key the
database does not hold.

An attacker who can write the database can rewrite a version's rows and recompute every
hash stored beside them, so those hashes prove nothing on their own. At build and at
approval the version's hash and counts go into the append-only audit log together with an
HMAC-SHA256 signature over them, keyed by ``ASSAY_SIGNING_KEY`` (default: ``SECRET_KEY``),
which lives in the environment, never in a table. `dataset_version_verify` checks the rows
against these records; forging one means knowing the key.
"""

import hmac
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

from curation.core.hashing import canonical_json
from curation.models import DatasetVersion

SALT = "assay.dataset-version-attestation"


def version_attestation(version: DatasetVersion) -> dict[str, Any]:
    """The facts about ``version`` that later checks hold its rows to."""
    manifest = version.manifest or {}
    return {
        "project": version.project_id,
        "version": version.number,
        "hash": version.content_hash,
        "member_count": manifest.get("member_count"),
        "split_counts": manifest.get("split_counts"),
        "label_distribution": manifest.get("label_distribution"),
    }


def _signing_key() -> str:
    return getattr(settings, "ASSAY_SIGNING_KEY", "") or settings.SECRET_KEY


def attestation_signature(attestation: dict[str, Any]) -> str:
    return salted_hmac(
        SALT, canonical_json(attestation), secret=_signing_key(), algorithm="sha256"
    ).hexdigest()


def attestation_signature_valid(attestation: dict[str, Any], signature: str) -> bool:
    return hmac.compare_digest(attestation_signature(attestation), signature or "")


def attestation_record(version: DatasetVersion) -> dict[str, Any]:
    """The ``after`` entries an audit event carries to attest ``version``."""
    attestation = version_attestation(version)
    return {"attestation": attestation, "signature": attestation_signature(attestation)}
