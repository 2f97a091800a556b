"""EC2 network interfaces: make moto keep the dependencies AWS keeps (loaded by tools/moto_fidelity.py, same rules).

1. AWS refuses ``DeleteSubnet`` while a network interface is in the subnet, and ``DeleteSecurityGroup``
   while a network interface uses the group (``DependencyViolation``). That is what a teardown meets on
   AWS when the interfaces of a load balancer, of ECS tasks or of Lambda functions deleted a moment ago
   are not released yet. moto 5.2.5 deletes both whatever uses them.
2. A NAT gateway's network interface goes with it on AWS (it is requester-managed and released when the
   NAT gateway is deleted). moto 5.2.5 leaves it behind, with the Elastic IP still associated, so with 1.
   a network with a NAT gateway could never be torn down.
3. An interface VPC endpoint has one network interface per subnet on AWS: ``ModifyVpcEndpoint`` releases
   the interface of a subnet it removes and makes one in a subnet it adds. moto 5.2.5 only edits the
   endpoint's subnet list, so with 1. a zone taken out of a network with interface endpoints could never
   lose its subnets.
4. ``CreateNatGateway`` is idempotent on its ``ClientToken`` on AWS: a repeat with the same token (a retry
   after an answer that never came) returns the NAT gateway the first request made, and the same token
   with other parameters is refused (``IdempotentParameterMismatch``). moto 5.2.5 ignores the token and
   makes a second NAT gateway, whose Elastic IP association then fails (``Resource.AlreadyAssociated``).
5. A load balancer (ELBv2) and an API Gateway VPC link have a requester-managed network interface in each of
   their subnets, with their security groups, for as long as they exist (AWS releases them some minutes
   after the delete). moto 5.2.5 makes none, so a network could delete a subnet or security group under a
   live load balancer or VPC link. Here they have one: made by the create, moved by SetSubnets and
   SetSecurityGroups, gone with the delete (at once). Descriptions as AWS writes them for a load balancer
   (``ELB app/<name>/<id>``); ``VPC Link <id>`` (type ``api_gateway_managed``) for a VPC link.
"""

from __future__ import annotations


def _interfaces(backend, match):  # type: ignore[no-untyped-def]
    return sorted(eni.id for eni in list(backend.enis.values()) if match(eni))


def _patch_delete_subnet() -> None:
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models.subnets import SubnetBackend

    original = SubnetBackend.delete_subnet
    if getattr(original, "_seed_patched", False):
        return

    def delete_subnet(self, subnet_id):  # type: ignore[no-untyped-def]
        used = _interfaces(self, lambda eni: eni.subnet is not None and eni.subnet.id == subnet_id)
        if used:
            raise DependencyViolationError(
                f"The subnet '{subnet_id}' has dependencies and cannot be deleted. ({', '.join(used)})")
        return original(self, subnet_id)

    delete_subnet._seed_patched = True  # type: ignore[attr-defined]
    SubnetBackend.delete_subnet = delete_subnet


def _patch_delete_security_group() -> None:
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models.security_groups import SecurityGroupBackend

    original = SecurityGroupBackend.delete_security_group
    if getattr(original, "_seed_patched", False):
        return

    def delete_security_group(self, name=None, group_id=None):  # type: ignore[no-untyped-def]
        if group_id:
            used = _interfaces(self, lambda eni: any(g.id == group_id for g in eni.group_set))
            if used:
                raise DependencyViolationError(f"resource {group_id} has a dependent object ({', '.join(used)})")
        return original(self, name=name, group_id=group_id)

    delete_security_group._seed_patched = True  # type: ignore[attr-defined]
    SecurityGroupBackend.delete_security_group = delete_security_group


def _patch_nat_gateway_interface_released() -> None:
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    original = NatGatewayBackend.delete_nat_gateway
    if getattr(original, "_seed_patched", False):
        return

    def delete_nat_gateway(self, nat_gateway_id):  # type: ignore[no-untyped-def]
        nat = original(self, nat_gateway_id)
        eni = getattr(nat, "_eni", None)
        if eni is not None and eni.id in self.enis:
            for address in list(self.addresses):
                if address.eni is not None and address.eni.id == eni.id:
                    self.disassociate_address(address=address.public_ip)
            self.enis.pop(eni.id, None)
        return nat

    delete_nat_gateway._seed_patched = True  # type: ignore[attr-defined]
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway


def _patch_endpoint_subnet_interfaces() -> None:
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.ec2.utils import random_private_ip

    original = VPCEndPoint.modify
    if getattr(original, "_seed_patched", False):
        return

    def modify(self, policy_doc, add_subnets, remove_subnets, *args, **kwargs):  # type: ignore[no-untyped-def]
        before = list(self.subnet_ids or [])
        original(self, policy_doc, add_subnets, remove_subnets, *args, **kwargs)
        if str(self.vpc_endpoint_type or "").lower() != "interface":
            return
        backend = self.ec2_backend
        kept = []
        for eni_id in self.network_interface_ids:
            eni = backend.enis.get(eni_id)
            if eni is not None and eni.subnet is not None and eni.subnet.id not in self.subnet_ids:
                backend.enis.pop(eni_id, None)
            else:
                kept.append(eni_id)
        for subnet_id in self.subnet_ids:
            if subnet_id not in before:
                kept.append(backend.create_network_interface(subnet_id, random_private_ip()).id)
        self.network_interface_ids = kept

    modify._seed_patched = True  # type: ignore[attr-defined]
    VPCEndPoint.modify = modify


def _patch_nat_gateway_client_token() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.nat_gateways import NatGateways

    original = NatGateways.create_nat_gateway
    if getattr(original, "_seed_patched", False):
        return

    def create_nat_gateway(self):  # type: ignore[no-untyped-def]
        token = self._get_param("ClientToken")
        request = (self._get_param("SubnetId"), self._get_param("AllocationId"))
        tokens = self.ec2_backend.__dict__.setdefault("_seed_nat_client_tokens", {})
        if token and token in tokens:
            nat_id, made_for = tokens[token]
            if made_for != request:
                raise EC2ClientError("IdempotentParameterMismatch",
                                     f"The client token {token} was used with other parameters.")
            if nat_id in self.ec2_backend.nat_gateways:
                return ActionResult({"NatGateway": self.ec2_backend.nat_gateways[nat_id], "ClientToken": token})
        result = original(self)
        if token:
            tokens[token] = (result.result["NatGateway"].id, request)
            result.result["ClientToken"] = token  # AWS answers with the token, first time too
        return result

    create_nat_gateway._seed_patched = True  # type: ignore[attr-defined]
    NatGateways.create_nat_gateway = create_nat_gateway


def _sync_interfaces(ec2, description, subnet_ids, group_ids, interface_type="interface",  # type: ignore[no-untyped-def]
                     requester="amazon-elb"):
    """One interface per subnet of ``subnet_ids`` with ``group_ids``, described ``description`` (rule 5)."""
    have = {eni.subnet.id: eni for eni in list(ec2.enis.values()) if eni.description == description}
    for subnet_id, eni in have.items():
        if subnet_id not in subnet_ids:
            ec2.enis.pop(eni.id, None)
    groups = [g for g in (ec2.get_security_group_from_id(i) for i in group_ids or []) if g is not None]
    for subnet_id in subnet_ids:
        eni = have.get(subnet_id)
        if eni is None:
            subnet = ec2.get_subnet(subnet_id)
            eni = ec2.create_network_interface(subnet, None, group_ids=[g.id for g in groups] or None,
                                               description=description)
            eni.requester_managed, eni.requester_id, eni.interface_type = True, requester, interface_type
        eni._group_set = list(groups)


def _patch_balancer_and_vpc_link_interfaces() -> None:
    from moto.apigatewayv2.exceptions import BadRequestException
    from moto.apigatewayv2.models import ApiGatewayV2Backend
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import ELBv2Backend

    if getattr(ELBv2Backend.create_load_balancer, "_seed_patched", False):
        return

    def ec2_of(backend):  # type: ignore[no-untyped-def]
        return ec2_backends[backend.account_id][backend.region_name]

    def lb_description(lb):  # type: ignore[no-untyped-def]
        kind = "net" if lb.type == "network" else "app"
        return f"ELB {kind}/{lb.name}/{lb.arn.rsplit('/', 1)[-1]}"

    def sync_lb(backend, arn):  # type: ignore[no-untyped-def]
        lb = backend.load_balancers.get(arn)
        if lb is not None:
            _sync_interfaces(ec2_of(backend), lb_description(lb), [s.id for s in lb.subnets], lb.security_groups)

    def after(original, arn_of):  # type: ignore[no-untyped-def]
        def patched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            result = original(self, *args, **kwargs)
            sync_lb(self, arn_of(result, args, kwargs))
            return result

        patched._seed_patched = True  # type: ignore[attr-defined]
        return patched

    ELBv2Backend.create_load_balancer = after(ELBv2Backend.create_load_balancer, lambda lb, _a, _k: lb.arn)
    ELBv2Backend.set_security_groups = after(ELBv2Backend.set_security_groups, lambda _r, a, k: a[0] if a else k["arn"])
    ELBv2Backend.set_subnets = after(ELBv2Backend.set_subnets, lambda _r, a, k: a[0] if a else k["arn"])
    delete_load_balancer = ELBv2Backend.delete_load_balancer

    def delete_lb(self, arn):  # type: ignore[no-untyped-def]
        lb = self.load_balancers.get(arn)
        if lb is not None:
            _sync_interfaces(ec2_of(self), lb_description(lb), [], [])
        return delete_load_balancer(self, arn)

    ELBv2Backend.delete_load_balancer = delete_lb
    create_vpc_link, delete_vpc_link = ApiGatewayV2Backend.create_vpc_link, ApiGatewayV2Backend.delete_vpc_link

    def create_link(self, name, sg_ids, subnet_ids, tags):  # type: ignore[no-untyped-def]
        ec2 = ec2_of(self)
        missing = [i for i in subnet_ids or [] if i not in {s.id for s in ec2.describe_subnets()}]
        missing += [i for i in sg_ids or [] if ec2.get_security_group_from_id(i) is None]
        if missing:  # checked before the link exists: a refused create leaves nothing behind
            raise BadRequestException(f"Invalid subnet or security group: {', '.join(missing)}")
        link = create_vpc_link(self, name, sg_ids, subnet_ids, tags)
        _sync_interfaces(ec2, f"VPC Link {link.id}", link.subnet_ids or [], link.sg_ids, "api_gateway_managed",
                         "apigateway.amazonaws.com")
        return link

    def delete_link(self, vpc_link_id):  # type: ignore[no-untyped-def]
        _sync_interfaces(ec2_of(self), f"VPC Link {vpc_link_id}", [], [])
        return delete_vpc_link(self, vpc_link_id)

    ApiGatewayV2Backend.create_vpc_link, ApiGatewayV2Backend.delete_vpc_link = create_link, delete_link


def apply() -> None:
    """Apply every EC2 patch (idempotent)."""
    _patch_delete_subnet()
    _patch_delete_security_group()
    _patch_nat_gateway_interface_released()
    _patch_endpoint_subnet_interfaces()
    _patch_nat_gateway_client_token()
    _patch_balancer_and_vpc_link_interfaces()
