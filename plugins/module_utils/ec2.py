# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per EC2 call our modules make.

Each carries an error handler (raising SeedAWSError with what was being done) and a retry policy:
``retry`` for reads and for writes that are safe to repeat (NAT gateways carry a ClientToken),
``retry_throttling`` for creates that have no idempotency token: their callers go through
``tagging.create_once``, which looks for the resource by its identity tags before trying again.
"""

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import already_done
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_throttling


# --- reads ---------------------------------------------------------------------------------------
@H.list_error_handler("describe availability zones", [])
@retry
def describe_availability_zones(client):
    """{zone name: state} of the region's availability zones (not Local or Wavelength zones), whatever
    their state: a zone that is impaired for a while still holds the network's subnets."""
    zones = client.describe_availability_zones()
    return {z["ZoneName"]: z.get("State", "available") for z in zones["AvailabilityZones"]
            if z.get("ZoneType", "availability-zone") == "availability-zone"}


@H.list_error_handler("describe VPCs", [])
@retry
def describe_vpcs(client, filters):
    return paginate_all(client, "describe_vpcs", "Vpcs", Filters=filters)


@H.list_error_handler("describe VPC attribute", None)
@retry
def describe_vpc_attribute(client, vpc_id, attribute):
    key = attribute[0].upper() + attribute[1:]
    return client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"]


@H.list_error_handler("describe internet gateways", [])
@retry
def describe_internet_gateways(client, filters):
    return paginate_all(client, "describe_internet_gateways", "InternetGateways", Filters=filters)


@H.list_error_handler("describe subnets", [])
@retry
def describe_subnets(client, filters):
    return paginate_all(client, "describe_subnets", "Subnets", Filters=filters)


@H.list_error_handler("describe elastic IP addresses", [])
@retry
def describe_addresses(client, filters):
    return client.describe_addresses(Filters=filters)["Addresses"]


@H.list_error_handler("describe NAT gateways", [])
@retry
def describe_nat_gateways(client, filters):
    return paginate_all(client, "describe_nat_gateways", "NatGateways", Filters=filters)


@H.list_error_handler("describe network interfaces", [])
@retry
def describe_network_interfaces(client, filters):
    return paginate_all(client, "describe_network_interfaces", "NetworkInterfaces", Filters=filters)


@H.list_error_handler("describe route tables", [])
@retry
def describe_route_tables(client, filters):
    return paginate_all(client, "describe_route_tables", "RouteTables", Filters=filters)


@H.list_error_handler("describe security groups", [])
@retry
def describe_security_groups(client, filters):
    return paginate_all(client, "describe_security_groups", "SecurityGroups", Filters=filters)


@H.list_error_handler("describe VPC endpoints", [])
@retry
def describe_vpc_endpoints(client, filters=None, ids=None):
    params = {"Filters": filters} if filters else {"VpcEndpointIds": list(ids)}
    return paginate_all(client, "describe_vpc_endpoints", "VpcEndpoints", **params)


@H.list_error_handler("describe flow logs", [])
@retry
def describe_flow_logs(client, filters):
    return paginate_all(client, "describe_flow_logs", "FlowLogs", Filter=filters)


# --- VPC -----------------------------------------------------------------------------------------
@H.common_error_handler("create VPC")
@retry_throttling
def create_vpc(client, cidr, tag_specifications):
    return client.create_vpc(CidrBlock=cidr, TagSpecifications=tag_specifications)["Vpc"]


@H.common_error_handler("modify VPC attribute")
@retry
def modify_vpc_attribute(client, vpc_id, attribute, value):
    key = attribute[0].upper() + attribute[1:]
    client.modify_vpc_attribute(VpcId=vpc_id, **{key: {"Value": value}})


@H.deletion_error_handler("delete VPC")
@retry
def delete_vpc(client, vpc_id):
    client.delete_vpc(VpcId=vpc_id)
    return True


# --- tags ----------------------------------------------------------------------------------------
@H.common_error_handler("tag resources")
@retry
def create_tags(client, resource_ids, tags):
    client.create_tags(Resources=list(resource_ids), Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@H.common_error_handler("untag resources")
@retry
def delete_tags(client, resource_ids, keys):
    client.delete_tags(Resources=list(resource_ids), Tags=[{"Key": k} for k in keys])


# --- internet gateway ----------------------------------------------------------------------------
@H.common_error_handler("create internet gateway")
@retry_throttling
def create_internet_gateway(client, tag_specifications):
    return client.create_internet_gateway(TagSpecifications=tag_specifications)["InternetGateway"]


@H.common_error_handler("attach internet gateway")
@already_done("Resource.AlreadyAssociated")
@retry
def attach_internet_gateway(client, igw_id, vpc_id):
    client.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)


@H.deletion_error_handler("detach internet gateway")
@retry
def detach_internet_gateway(client, igw_id, vpc_id):
    client.detach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    return True


@H.deletion_error_handler("delete internet gateway")
@retry
def delete_internet_gateway(client, igw_id):
    client.delete_internet_gateway(InternetGatewayId=igw_id)
    return True


# --- subnets -------------------------------------------------------------------------------------
@H.common_error_handler("create subnet")
@retry_throttling
def create_subnet(client, vpc_id, cidr, az, tag_specifications):
    return client.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az,
                                TagSpecifications=tag_specifications)["Subnet"]


@H.deletion_error_handler("delete subnet")
@retry
def delete_subnet(client, subnet_id):
    client.delete_subnet(SubnetId=subnet_id)
    return True


# --- elastic IPs and NAT gateways ----------------------------------------------------------------
@H.common_error_handler("allocate elastic IP")
@retry_throttling
def allocate_address(client, tag_specifications):
    return client.allocate_address(Domain="vpc", TagSpecifications=tag_specifications)


@H.deletion_error_handler("release elastic IP")
@retry
def release_address(client, allocation_id):
    client.release_address(AllocationId=allocation_id)
    return True


@H.common_error_handler("create NAT gateway")
@retry
def create_nat_gateway(client, subnet_id, allocation_id, client_token, tag_specifications):
    return client.create_nat_gateway(SubnetId=subnet_id, AllocationId=allocation_id, ClientToken=client_token,
                                     TagSpecifications=tag_specifications)["NatGateway"]


@H.deletion_error_handler("delete NAT gateway")
@retry
def delete_nat_gateway(client, nat_id):
    client.delete_nat_gateway(NatGatewayId=nat_id)
    return True


# --- route tables --------------------------------------------------------------------------------
@H.common_error_handler("create route table")
@retry_throttling
def create_route_table(client, vpc_id, tag_specifications):
    return client.create_route_table(VpcId=vpc_id, TagSpecifications=tag_specifications)["RouteTable"]


def _target(target_id):
    return {"NatGatewayId": target_id} if target_id.startswith("nat-") else {"GatewayId": target_id}


@H.common_error_handler("create route")
@already_done("RouteAlreadyExists")
@retry
def create_route(client, rtb_id, destination, target_id):
    client.create_route(RouteTableId=rtb_id, DestinationCidrBlock=destination, **_target(target_id))


@H.common_error_handler("replace route")
@retry
def replace_route(client, rtb_id, destination, target_id):
    client.replace_route(RouteTableId=rtb_id, DestinationCidrBlock=destination, **_target(target_id))


@H.deletion_error_handler("delete route")
@retry
def delete_route(client, rtb_id, destination):
    client.delete_route(RouteTableId=rtb_id, DestinationCidrBlock=destination)
    return True


@H.common_error_handler("associate route table")
@already_done("Resource.AlreadyAssociated")
@retry
def associate_route_table(client, rtb_id, subnet_id):
    client.associate_route_table(RouteTableId=rtb_id, SubnetId=subnet_id)


@H.common_error_handler("replace route table association")
@retry
def replace_route_table_association(client, association_id, rtb_id):
    client.replace_route_table_association(AssociationId=association_id, RouteTableId=rtb_id)


@H.deletion_error_handler("disassociate route table")
@retry
def disassociate_route_table(client, association_id):
    client.disassociate_route_table(AssociationId=association_id)
    return True


@H.deletion_error_handler("delete route table")
@retry
def delete_route_table(client, rtb_id):
    client.delete_route_table(RouteTableId=rtb_id)
    return True


# --- security groups -----------------------------------------------------------------------------
@H.common_error_handler("create security group")
@retry_throttling
def create_security_group(client, vpc_id, name, description, tag_specifications):
    group_id = client.create_security_group(VpcId=vpc_id, GroupName=name, Description=description,
                                            TagSpecifications=tag_specifications)["GroupId"]
    return {"GroupId": group_id, "GroupName": name, "VpcId": vpc_id}


@H.common_error_handler("authorize security group rules")
@already_done("InvalidPermission.Duplicate")
@retry
def authorize_rules(client, group_id, direction, permissions):
    call = client.authorize_security_group_ingress if direction == "ingress" else \
        client.authorize_security_group_egress
    call(GroupId=group_id, IpPermissions=permissions)


@H.deletion_error_handler("revoke security group rules")
@retry
def revoke_rules(client, group_id, direction, permissions):
    call = client.revoke_security_group_ingress if direction == "ingress" else client.revoke_security_group_egress
    call(GroupId=group_id, IpPermissions=permissions)
    return True


@H.deletion_error_handler("delete security group")
@retry
def delete_security_group(client, group_id):
    client.delete_security_group(GroupId=group_id)
    return True


# --- VPC endpoints -------------------------------------------------------------------------------
@H.common_error_handler("create VPC endpoint")
@retry_throttling
def create_vpc_endpoint(client, tag_specifications, **params):
    return client.create_vpc_endpoint(TagSpecifications=tag_specifications, **params)["VpcEndpoint"]


@H.common_error_handler("modify VPC endpoint")
@retry
def modify_vpc_endpoint(client, endpoint_id, **changes):
    client.modify_vpc_endpoint(VpcEndpointId=endpoint_id, **changes)


@H.common_error_handler("delete VPC endpoints")
@retry
def delete_vpc_endpoints(client, endpoint_ids):
    result = client.delete_vpc_endpoints(VpcEndpointIds=list(endpoint_ids))
    failed = [u for u in result.get("Unsuccessful", [])
              if u.get("Error", {}).get("Code") != "InvalidVpcEndpointId.NotFound"]
    if failed:
        raise SeedAWSError(message="Failed to delete VPC endpoints: " + "; ".join(
            f"{u.get('ResourceId')}: {u['Error'].get('Code')}: {u['Error'].get('Message')}" for u in failed))
    return True


# --- flow logs -----------------------------------------------------------------------------------
@H.common_error_handler("create flow log")
@retry_throttling
def create_flow_log(client, vpc_id, log_group, role_arn, traffic_type, tag_specifications):
    result = client.create_flow_logs(ResourceIds=[vpc_id], ResourceType="VPC", TrafficType=traffic_type,
                                     LogDestinationType="cloud-watch-logs", LogGroupName=log_group,
                                     DeliverLogsPermissionArn=role_arn, TagSpecifications=tag_specifications)
    if result.get("Unsuccessful"):
        error = result["Unsuccessful"][0].get("Error", {})
        raise SeedAWSError(message=f"Failed to create flow log: {error.get('Code')}: {error.get('Message')}")
    return {"FlowLogId": result["FlowLogIds"][0], "LogGroupName": log_group, "TrafficType": traffic_type,
            "DeliverLogsPermissionArn": role_arn}


@H.deletion_error_handler("delete flow logs")
@retry
def delete_flow_logs(client, flow_log_ids):
    client.delete_flow_logs(FlowLogIds=list(flow_log_ids))
    return True
