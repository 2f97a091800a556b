"""moto fidelity patch for the security layer (loaded by tools/moto_fidelity.py; same rules).

S3 bucket policies (moto/s3/models.py FakeBucket.get_permission): moto 5.2.5 evaluates a statement's
``Condition`` only for ``StringEquals`` and only with the values the request hands it - and S3 hands none - so
every other condition counts as met and a conditional statement applies to every request. The trail bucket's
policy (seed.aws_migration.trail_bucket) denies requests made without TLS
(``"Condition": {"Bool": {"aws:SecureTransport": "false"}}``): moto refused every object request of the
bucket's owner (PutObject, DeleteObjects) that AWS, over TLS, allows. The patch leaves statements with a
condition out of moto's bucket-policy evaluation (none can be evaluated there: for the owner's TLS requests
neither the TLS deny nor CloudTrail's ``aws:SourceArn`` allows apply on AWS). Only bucket policies: moto's IAM
enforcement of identity policies (used by the least-privilege tests) is left as it is.

CloudTrail DeleteTrail: AWS takes the trail's name or its ARN; moto 5.2.5 looks the name up only and silently
deletes nothing when given an ARN - which is what amazon.aws.cloudtrail sends. The patch resolves an ARN to
the trail's name first (as moto's own GetTrail does).
"""

from __future__ import annotations


def apply() -> None:
    _patch_s3_bucket_policy_conditions()
    _patch_cloudtrail_delete_by_arn()


def _patch_cloudtrail_delete_by_arn() -> None:
    from moto.cloudtrail.models import CloudTrailBackend

    original = CloudTrailBackend.delete_trail
    if getattr(original, "_seed_patched", False):
        return

    def delete_trail(self, name):  # type: ignore[no-untyped-def]
        for trail_name, trail in list(self.trails.items()):
            if trail.arn == name:
                name = trail_name
        return original(self, name)

    delete_trail._seed_patched = True  # type: ignore[attr-defined]
    CloudTrailBackend.delete_trail = delete_trail


def _patch_s3_bucket_policy_conditions() -> None:
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission
    if getattr(original, "_seed_patched", False):
        return

    def get_permission(self, action, resource):  # type: ignore[no-untyped-def]
        if self.policy is None:
            return original(self, action, resource)
        document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        statements = document.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        kept = [s for s in statements if not s.get("Condition")]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(dict(document, Statement=kept))).is_action_permitted(action, resource)

    get_permission._seed_patched = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission
