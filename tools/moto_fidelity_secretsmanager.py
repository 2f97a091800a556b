"""Secrets Manager: make moto keep what AWS keeps (loaded by tools/moto_fidelity.py, same rules).

- UpdateSecret with ``Description=""`` removes the description on AWS (DescribeSecret no longer returns
  one); moto 5.2.5 keeps the old description (``description or secret.description``), which would make
  the removal of a description look non-idempotent.
- GetResourcePolicy on a secret scheduled for deletion is refused by AWS (InvalidRequestException "You
  can't perform this operation on the secret because it was marked for deletion.", reported in
  hashicorp/terraform-provider-aws#23998); moto 5.2.5 answers it. DeleteSecret on such a secret answers
  with that AWS wording too (moto's own says "currently marked deleted").
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


AWS_MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."


def _patch_refusals_of_a_deleted_secret() -> None:
    from moto.secretsmanager.exceptions import InvalidRequestException
    from moto.secretsmanager.models import SecretsManagerBackend

    get_policy, delete = SecretsManagerBackend.get_resource_policy, SecretsManagerBackend.delete_secret
    if getattr(get_policy, "_seed_patched", False):
        return

    def scheduled_for_deletion(backend, secret_id):  # type: ignore[no-untyped-def]
        secret = backend.secrets.get(secret_id) if backend._is_valid_identifier(secret_id) else None
        return secret is not None and hasattr(secret, "is_deleted") and secret.is_deleted()

    def get_resource_policy(self, secret_id):  # type: ignore[no-untyped-def]
        if scheduled_for_deletion(self, secret_id):
            raise InvalidRequestException(AWS_MARKED_FOR_DELETION)
        return get_policy(self, secret_id)

    def delete_secret(self, secret_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        if scheduled_for_deletion(self, secret_id) and not kwargs.get("force_delete_without_recovery"):
            raise InvalidRequestException(AWS_MARKED_FOR_DELETION)
        return delete(self, secret_id, *args, **kwargs)

    get_resource_policy._seed_patched = True  # type: ignore[attr-defined]
    SecretsManagerBackend.get_resource_policy = get_resource_policy
    SecretsManagerBackend.delete_secret = delete_secret


def apply() -> None:
    """Apply every Secrets Manager patch (idempotent)."""
    _patch_update_secret_empty_description()
    _patch_refusals_of_a_deleted_secret()
