"""ACM patches for the local AWS (loaded by tools/moto_fidelity.py; same rules: make moto answer the way AWS
documents, never change what our modules send).

1. DNS validation. AWS issues a DNS-validated certificate once every validation CNAME it published in
   DescribeCertificate's ``DomainValidationOptions[].ResourceRecord`` resolves; moto 5.2.5 ignores DNS and
   issues every requested certificate ``MOTO_ACM_VALIDATION_WAIT`` seconds (default 60) after the request,
   whatever the zone holds. With this patch a pending certificate is also issued as soon as the records
   exist in a Route 53 zone of the same account (the timer stays, for anyone relying on it), so a module
   that writes the records sees the certificate issued, and one that does not keeps seeing it pending
   (tests of the wait timeout use a short ``wait_timeout``).
2. DeleteCertificate of a certificate in use (``InUseBy`` not empty) fails on AWS with
   ``ResourceInUseException``; moto deletes it. AWS's ``InUseBy`` also drops a load balancer listener
   once it is deleted; moto's ELBv2 adds the listener (CreateListener with a certificate) and never
   removes it, so listeners moto no longer has are left out before deciding.
3. ModifyListener with a new certificate: on AWS the listener moves from the old certificate's ``InUseBy``
   to the new one's (the certificate rotation path). moto changes the listener only, so the new
   certificate looked unused and the old one used for ever: the listener now counts for the certificates
   it has, and the new ones are registered.
4. RequestCertificate with an idempotency token whose certificate was deleted within the token's hour:
   AWS answers with that certificate's ARN (the token's one certificate), which DescribeCertificate then
   does not find. moto fails with a KeyError (a 500).
"""

from __future__ import annotations


def _validation_records_exist(bundle) -> bool:  # type: ignore[no-untyped-def]
    from moto.route53.models import route53_backends

    options = bundle.describe()["Certificate"].get("DomainValidationOptions") or []
    wanted = {(o["ResourceRecord"]["Name"].lower(), o["ResourceRecord"]["Value"].lower().rstrip("."))
              for o in options if o.get("ResourceRecord")}
    if not wanted:
        return False
    account = bundle.arn.split(":")[4]
    found = set()
    for partition in route53_backends[account].values():
        for zone in partition.zones.values():
            for rrset in zone.rrsets:
                if rrset.type != "CNAME":
                    continue
                name = rrset.name.lower().rstrip(".") + "."
                for value in rrset.records or []:
                    found.add((name, str(value).lower().rstrip(".")))
    return wanted <= found


def _patch_dns_validation() -> None:
    from moto.acm.models import CertBundle

    original = CertBundle.check
    if getattr(original, "_seed_patched", False):
        return

    def check(self):  # type: ignore[no-untyped-def]
        original(self)
        if self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION" and _validation_records_exist(self):
            self.status = "ISSUED"

    check._seed_patched = True  # type: ignore[attr-defined]
    CertBundle.check = check


def _still_there(arn: str, certificate_arn: str | None = None) -> bool:
    """False for an ELBv2 listener moto no longer has, or that no longer has ``certificate_arn`` (anything
    else counts as still there)."""
    if ":elasticloadbalancing:" not in arn or ":listener/" not in arn:
        return True
    from moto.elbv2.models import elbv2_backends

    _p, _partition, _service, region, account = arn.split(":")[:5]
    backend = elbv2_backends[account][region]
    for lb in backend.load_balancers.values():
        listener = lb.listeners.get(arn)
        if listener is not None:
            return certificate_arn is None or certificate_arn in (listener.certificates or [])
    return False


def _patch_modify_listener_certificates() -> None:
    from moto.acm.models import acm_backends
    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.modify_listener
    if getattr(original, "_seed_patched", False):
        return

    def modify_listener(self, arn, *args, **kwargs):  # type: ignore[no-untyped-def]
        listener = original(self, arn, *args, **kwargs)
        backend = acm_backends[self.account_id][self.region_name]
        for certificate_arn in listener.certificates or []:
            bundle = backend._certificates.get(certificate_arn)
            if bundle is not None and arn not in bundle.in_use_by:
                bundle.in_use_by.append(arn)
        return listener

    modify_listener._seed_patched = True  # type: ignore[attr-defined]
    ELBv2Backend.modify_listener = modify_listener


def _patch_delete_in_use() -> None:
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.core.exceptions import JsonRESTError

    original = AWSCertificateManagerBackend.delete_certificate
    if getattr(original, "_seed_patched", False):
        return

    class ResourceInUseException(JsonRESTError):
        code = 400

        def __init__(self, message: str):
            super().__init__("ResourceInUseException", message)

    def delete_certificate(self, arn):  # type: ignore[no-untyped-def]
        bundle = self._certificates.get(arn)
        if bundle is not None:
            bundle.in_use_by = [user for user in bundle.in_use_by if _still_there(user, arn)]
        if bundle is not None and bundle.in_use_by:
            raise ResourceInUseException(f"Certificate {arn} in account {self.account_id} is in use.")
        return original(self, arn)

    delete_certificate._seed_patched = True  # type: ignore[attr-defined]
    AWSCertificateManagerBackend.delete_certificate = delete_certificate


def _patch_in_use_by() -> None:
    """DescribeCertificate's InUseBy without the listeners moto has deleted (see 2. above)."""
    from moto.acm.models import CertBundle

    original = CertBundle.describe
    if getattr(original, "_seed_patched", False):
        return

    def describe(self):  # type: ignore[no-untyped-def]
        self.in_use_by = [user for user in self.in_use_by if _still_there(user, self.arn)]
        return original(self)

    describe._seed_patched = True  # type: ignore[attr-defined]
    CertBundle.describe = describe


def _patch_request_deleted_token() -> None:
    from moto.acm.models import AWSCertificateManagerBackend

    original = AWSCertificateManagerBackend.request_certificate
    if getattr(original, "_seed_patched", False):
        return

    def request_certificate(self, domain_name, idempotency_token, *args, **kwargs):  # type: ignore
        if idempotency_token is not None:
            arn = self._get_arn_from_idempotency_token(idempotency_token)
            if arn and arn not in self._certificates:
                return arn
        return original(self, domain_name, idempotency_token, *args, **kwargs)

    request_certificate._seed_patched = True  # type: ignore[attr-defined]
    AWSCertificateManagerBackend.request_certificate = request_certificate


def apply() -> None:
    _patch_dns_validation()
    _patch_delete_in_use()
    _patch_in_use_by()
    _patch_modify_listener_certificates()
    _patch_request_deleted_token()
