"""dns_zone against the local AWS over HTTP: zone, records, failover pair with its health check, teardown."""

from __future__ import annotations

from support.converge import converge
from support.servers import boto3_client

ALB = {"dns_name": "web-123.us-east-1.elb.amazonaws.com", "hosted_zone_id": "Z35SXDOTRQ7X7K",
       "evaluate_target_health": True}
SITE = {"dns_name": "app.it.example.com.s3-website-us-east-1.amazonaws.com", "hosted_zone_id": "Z3AQBSTGFYJSTF"}
CHECK = {"name": "app", "type": "HTTPS", "fqdn": ALB["dns_name"], "path": "/healthz", "failure_threshold": 2}
FAILOVER = [
    {"name": "app", "type": "A", "failover": "PRIMARY", "health_check": "app", "alias": ALB},
    {"name": "app", "type": "A", "failover": "SECONDARY", "alias": SITE},
]


def _zone_id(route53, name="it.example.com."):
    return [z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == name]


def test_zone_records_failover_and_teardown(clean_aws, ansible):
    route53 = boto3_client("route53", clean_aws.endpoint_url)
    args = {"name": "it.example.com", "comment": "integration", "tags": {"team": "platform"},
            "records": [{"name": "www", "type": "CNAME", "values": ["app.it.example.com"]},
                        {"name": "@", "type": "TXT", "ttl": 600, "values": ["v=spf1 -all"]}]}
    created = converge(ansible, clean_aws, args, "dns_zone")
    assert created["actions"] == [
        "create hosted zone it.example.com", "tag hosted zone it.example.com",
        "change record sets of it.example.com: UPSERT it.example.com TXT, UPSERT www.it.example.com CNAME"]
    assert created["zone"]["name_servers"] and created["zone"]["id"] == _zone_id(route53)[0].split("/")[-1]
    assert created["diff"]["before"]["records"] == {}
    assert created["diff"]["after"]["records"]["www.it.example.com CNAME"] == {
        "type": "CNAME", "ttl": 300, "values": ["app.it.example.com"]}

    # The app goes behind the load balancer with a failover pair; two health checks of ONE endpoint
    # (different paths) stay two checks.
    second = dict(CHECK, name="deep", path="/deep")
    failover = dict(args, health_checks=[CHECK, second], records=args["records"] + FAILOVER)
    applied = converge(ansible, clean_aws, failover, "dns_zone")
    assert applied["actions"] == [
        "create health check app (HTTPS web-123.us-east-1.elb.amazonaws.com:443/healthz)", "tag health check app",
        "create health check deep (HTTPS web-123.us-east-1.elb.amazonaws.com:443/deep)", "tag health check deep",
        "change record sets of it.example.com: UPSERT app.it.example.com A [primary], "
        "UPSERT app.it.example.com A [secondary]"]
    check_id = applied["health_checks"]["app"]
    clean_aws.reset_counts()
    again = ansible.module("dns_zone", failover)
    counts = clean_aws.requests()
    # A no-op run: ListHostedZonesByName, GetHostedZone, ListTagsForResource, ListResourceRecordSets,
    # ListHealthChecks.
    assert again["changed"] is False and counts["writes"] == 0 and counts["total"] == 5, counts
    zone_id = _zone_id(route53)[0]
    sets = {(r["Name"], r.get("SetIdentifier")): r for r in
            route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]}
    primary, secondary = sets[("app.it.example.com.", "primary")], sets[("app.it.example.com.", "secondary")]
    assert primary["Failover"] == "PRIMARY" and primary["HealthCheckId"] == check_id
    assert primary["AliasTarget"]["DNSName"].rstrip(".") == ALB["dns_name"]
    assert secondary["Failover"] == "SECONDARY" and "HealthCheckId" not in secondary
    assert secondary["AliasTarget"]["HostedZoneId"] == "Z3AQBSTGFYJSTF"
    checks = {c["Id"]: c for c in route53.list_health_checks()["HealthChecks"]}
    assert len(checks) == 2
    config = checks[check_id]["HealthCheckConfig"]
    assert (config["Type"], config["ResourcePath"], config["Port"], config["FailureThreshold"]) == (
        "HTTPS", "/healthz", 443, 2)
    tags = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check_id)["ResourceTagSet"]["Tags"]
    assert {"Key": "Name", "Value": "app"} in tags

    # An in-place change of a check, a replaced check (type changes) and purging what is not listed.
    purge = dict(failover, purge_records=True, records=FAILOVER,
                 health_checks=[dict(CHECK, failure_threshold=3, type="HTTPS_STR_MATCH", search_string="ok")])
    purged = converge(ansible, clean_aws, purge, "dns_zone")
    assert purged["actions"][:2] == [
        "create health check app (HTTPS_STR_MATCH web-123.us-east-1.elb.amazonaws.com:443/healthz)",
        "tag health check app"]
    assert purged["actions"][2].startswith("change record sets of it.example.com: DELETE it.example.com TXT, "
                                           "DELETE www.it.example.com CNAME, UPSERT app.it.example.com A [primary]")
    assert purged["actions"][3:] == ["delete health check app (replaced: type or request interval changed)",
                                     "delete health check deep"]
    assert [c["Id"] for c in route53.list_health_checks()["HealthChecks"]] == [purged["health_checks"]["app"]]
    assert purged["diff"]["before"]["health_checks"]["app"]["type"] == "HTTPS"
    assert purged["diff"]["after"]["health_checks"]["app"]["type"] == "HTTPS_STR_MATCH"

    # Teardown: the records and checks, then the zone.
    gone = converge(ansible, clean_aws, {"name": "it.example.com", "state": "absent", "delete_zone": True},
                    "dns_zone")
    assert gone["actions"] == [
        "change record sets of it.example.com: DELETE app.it.example.com A [primary], "
        "DELETE app.it.example.com A [secondary]",
        "delete health check app", "delete hosted zone it.example.com"]
    assert _zone_id(route53) == [] and route53.list_health_checks()["HealthChecks"] == []


def test_lookup_only_and_absent_records(clean_aws, ansible):
    route53 = boto3_client("route53", clean_aws.endpoint_url)
    route53.create_hosted_zone(Name="corp.example.com", CallerReference="someone-else")
    args = {"name": "corp.example.com", "lookup_only": True, "tags": {"ignored": "yes"},
            "records": [{"name": "shop", "type": "CNAME", "values": ["shop.example.net"]}]}
    applied = converge(ansible, clean_aws, args, "dns_zone")
    assert applied["actions"] == ["change record sets of corp.example.com: UPSERT shop.corp.example.com CNAME"]
    absent = converge(ansible, clean_aws, dict(args, state="absent"), "dns_zone")
    assert absent["actions"] == ["change record sets of corp.example.com: DELETE shop.corp.example.com CNAME"]
    zone_id = _zone_id(route53, "corp.example.com.")[0]
    left = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert sorted(r["Type"] for r in left) == ["NS", "SOA"]


def test_bad_input_creates_nothing(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("dns_zone", {"name": "not a domain"})
    assert result.get("failed") and result["msg"].startswith("name:"), result["msg"]
    result = ansible.module("dns_zone", {"name": "example.com", "records": [
        {"name": "app", "type": "A", "failover": "PRIMARY", "alias": ALB}]})
    assert result.get("failed") and result["msg"].startswith("records[0].health_check:"), result["msg"]
    result = ansible.module("dns_zone", {"name": "example.com", "records": [
        {"name": "app", "type": "A", "failover": "PRIMARY", "health_check": "nope", "alias": ALB}]})
    assert result.get("failed") and result["msg"].startswith("records[0].health_check:"), result["msg"]
    result = ansible.module("dns_zone", {"name": "example.com", "records": [
        {"name": "bad..name", "type": "A", "values": ["192.0.2.1"]}]})
    assert result.get("failed") and result["msg"].startswith("records[0].name:"), result["msg"]
    assert clean_aws.requests()["total"] == 0

    # lookup_only on a zone that does not exist: one read, nothing created.
    result = ansible.module("dns_zone", {"name": "missing.example.com", "lookup_only": True})
    assert result.get("failed") and result["msg"].startswith("name: no public hosted zone named missing.example.com")
    counts = clean_aws.requests()
    assert counts["writes"] == 0 and counts["total"] == 1
