"""Secrets Manager: make moto keep what AWS keeps (loaded by tools/moto_fidelity.py, same rules).

- UpdateSecret with ``Description=""`` removes the description on AWS (DescribeSecret no longer returns
  one); moto 5.2.5 keeps the old description (``description or secret.description``), which would make
  the removal of a description look non-idempotent.
"""

from __future__ import annotations


def _patch_update_secret_empty_description() -> None:
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.update_secret
    if getattr(original, "_seed_patched", False):
        return

    def update_secret(self, secret_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(self, secret_id, *args, **kwargs)
        if kwargs.get("description") == "" and secret_id in self.secrets:
            self.secrets[secret_id].description = ""
        return result

    update_secret._seed_patched = True  # type: ignore[attr-defined]
    SecretsManagerBackend.update_secret = update_secret


def apply() -> None:
    """Apply every Secrets Manager patch (idempotent)."""
    _patch_update_secret_empty_description()
