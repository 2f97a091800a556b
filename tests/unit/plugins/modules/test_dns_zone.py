# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dns_zone: validation (the field is named, nothing is called), record names and values, the health-check
identity, the record sets sent, and main() in check mode with a stubbed client (plans without writing)."""

import datetime

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import route53
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import dns_zone

ALB = {"dns_name": "web-123.us-east-1.elb.amazonaws.com", "hosted_zone_id": "Z35SXDOTRQ7X7K",
       "evaluate_target_health": True}
CHECK = {"name": "app", "type": "HTTPS", "fqdn": ALB["dns_name"], "path": "/healthz", "port": None,
         "request_interval": 30, "failure_threshold": 3, "search_string": None}


def params(**kwargs):
    base = dict(name="example.com", state="present", lookup_only=False, private=False, vpc=None, comment=None,
                records=[], health_checks=[], purge_records=False, delete_zone=False, wait=False, wait_timeout=300,
                tags=None, purge_tags=True)
    base.update(kwargs)
    return base


def record(**kwargs):
    base = dict(name="app", type="A", ttl=None, values=None, alias=None, failover=None, set_identifier=None,
                health_check=None)
    base.update(kwargs)
    return base


@pytest.mark.parametrize("kwargs, field", [
    (dict(name="not a domain"), "name"),
    (dict(name="*.example.com"), "name"),
    (dict(delete_zone=True), "delete_zone"),
    (dict(vpc={"id": "vpc-1", "region": "us-east-1"}), "vpc"),
    (dict(records=[record(name="a..b", values=["192.0.2.1"])]), "records[0].name"),
    (dict(records=[record(alias=ALB, failover="PRIMARY")]), "records[0].health_check"),
    (dict(records=[record(alias=ALB, failover="PRIMARY", health_check="nope")]), "records[0].health_check"),
    (dict(records=[record(values=["192.0.2.1"], set_identifier="blue")]), "records[0].set_identifier"),
    (dict(records=[record(values=["192.0.2.1"]), record(values=["192.0.2.2"])]), "records[1].name"),
    (dict(records=[record(name="@", type="NS", values=["ns.example.net"])]), "records[0].type"),
    (dict(records=[record(name="@", type="CNAME", values=["x.example.net"])]), "records[0].type"),
    (dict(records=[record()]), "records[0].values"),
    (dict(records=[record(values=["192.0.2.1"], alias=ALB)]), "records[0].values"),
    (dict(records=[record(alias=ALB, ttl=60)]), "records[0].ttl"),
    (dict(records=[record(alias=dict(ALB, hosted_zone_id="bad id"))]), "records[0].alias.hosted_zone_id"),
    (dict(health_checks=[dict(CHECK, fqdn="bad fqdn")]), "health_checks[0].fqdn"),
    (dict(health_checks=[dict(CHECK, type="TCP", path=None)]), "health_checks[0].port"),
    (dict(health_checks=[dict(CHECK, path="healthz")]), "health_checks[0].path"),
    (dict(health_checks=[dict(CHECK, type="HTTPS_STR_MATCH")]), "health_checks[0].search_string"),
    (dict(health_checks=[dict(CHECK, search_string="ok")]), "health_checks[0].search_string"),
    (dict(health_checks=[dict(CHECK, failure_threshold=11)]), "health_checks[0].failure_threshold"),
    (dict(health_checks=[CHECK, CHECK]), "health_checks[1].name"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        dns_zone.validate(params(**kwargs))
    assert e.value.field == field and str(e.value).startswith(field + ": ")


def test_a_secondary_without_health_check_and_absent_records_without_values_are_fine():
    dns_zone.validate(params(records=[record(alias=ALB, failover="SECONDARY")]))
    dns_zone.validate(params(state="absent", records=[record(alias=ALB, failover="PRIMARY")]))


@pytest.mark.parametrize("name, full", [("app", "app.example.com"), ("@", "example.com"), ("", "example.com"),
                                        ("App.Example.com.", "app.example.com"), ("*.shop", "*.shop.example.com"),
                                        ("example.com", "example.com")])
def test_record_names(name, full):
    assert dns_zone.record_name("records[0].name", name, "example.com") == full


def test_values_are_normalised():
    _zone, records, _checks = dns_zone.validate(params(records=[
        record(name="@", type="TXT", values=["v=spf1 -all", '"quoted"']),
        record(name="www", type="CNAME", values=["App.Example.com."])]))
    assert records[("example.com.", "TXT", "")]["values"] == ['"quoted"', '"v=spf1 -all"']
    assert records[("www.example.com.", "CNAME", "")] == {"type": "CNAME", "ttl": 300, "values": ["app.example.com"]}


def test_health_check_identity_is_the_name_never_the_endpoint():
    one = route53.new_health_check_reference("example.com", "app")
    two = route53.new_health_check_reference("example.com", "deep-check-with-a-long-name-" * 3)
    assert one.startswith(route53.health_check_reference_prefix("example.com", "app")) and len(two) <= 64
    assert route53.name_in_reference(one) == "app"
    assert not two.startswith(route53.health_check_reference_prefix("example.com", "app"))
    assert route53.zone_reference_prefix("Example.com.") == route53.zone_reference_prefix("example.com")


def test_failover_record_set_carries_the_health_check_id():
    _zone, records, _checks = dns_zone.validate(params(health_checks=[CHECK], records=[
        record(alias=ALB, failover="PRIMARY", health_check="app")]))
    key = ("app.example.com.", "A", "primary")
    assert dns_zone.record_set(key, records[key], {"app": "hc-1"}) == {
        "Name": "app.example.com.", "Type": "A", "SetIdentifier": "primary", "Failover": "PRIMARY",
        "HealthCheckId": "hc-1", "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": ALB["dns_name"],
                                                 "EvaluateTargetHealth": True}}


def test_health_check_config():
    checks = dns_zone.check_health_checks([CHECK, dict(CHECK, name="tcp", type="TCP", port=5432, path=None)])
    assert dns_zone.check_config(checks["app"]) == {
        "Type": "HTTPS", "FullyQualifiedDomainName": ALB["dns_name"], "Port": 443, "RequestInterval": 30,
        "FailureThreshold": 3, "ResourcePath": "/healthz", "EnableSNI": True}
    assert "ResourcePath" not in dns_zone.check_config(checks["tcp"])


def test_s3_website_endpoints():
    assert route53.s3_website_endpoint("app.example.com", "us-east-1") == (
        "app.example.com.s3-website-us-east-1.amazonaws.com", "Z3AQBSTGFYJSTF")
    assert route53.s3_website_endpoint("app.example.com", "eu-central-1") == (
        "app.example.com.s3-website.eu-central-1.amazonaws.com", "Z21DNDUVLTQW6Q")


# --- main() in check mode -------------------------------------------------------------------------
@pytest.fixture
def stub(monkeypatch):
    client = botocore.session.get_session().create_client(
        "route53", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    monkeypatch.setattr(dns_zone.SeedAWSModule, "seed_client", lambda self, service: client)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_check_mode_plans_a_new_zone_without_writing(monkeypatch, stub):
    stub.add_response("list_hosted_zones_by_name", {"HostedZones": [], "IsTruncated": False, "MaxItems": "100"},
                      {"DNSName": "example.com.", "MaxItems": "100"})
    result = run_module(monkeypatch, dns_zone, dict(name="example.com", health_checks=[CHECK], records=[
        record(alias=ALB, failover="PRIMARY", health_check="app"),
        record(alias={"dns_name": "app.example.com.s3-website-us-east-1.amazonaws.com",
                      "hosted_zone_id": "Z3AQBSTGFYJSTF"}, failover="SECONDARY")]))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [
        "create hosted zone example.com", "tag hosted zone example.com",
        "create health check app (HTTPS web-123.us-east-1.elb.amazonaws.com:443/healthz)", "tag health check app",
        "change record sets of example.com: UPSERT app.example.com A [primary], UPSERT app.example.com A [secondary]"]
    assert result["health_checks"] == {"app": None} and result["zone"]["id"] is None
    assert result["diff"]["after"]["records"]["app.example.com A [primary]"]["health_check"] == "app"


def test_lookup_only_fails_naming_the_zone(monkeypatch, stub):
    stub.add_response("list_hosted_zones_by_name", {"HostedZones": [
        {"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "r", "Config": {"PrivateZone": True}}],
        "IsTruncated": False, "MaxItems": "100"}, {"DNSName": "example.com.", "MaxItems": "100"})
    result = run_module(monkeypatch, dns_zone, dict(name="example.com", lookup_only=True), check_mode=False)
    assert result.get("failed") and result["msg"] == (
        "name: no public hosted zone named example.com exists (lookup_only=true: it is not created)")


def test_wait_for_insync(monkeypatch, stub):
    now = datetime.datetime.now(datetime.timezone.utc)
    stub.add_response("list_hosted_zones_by_name", {"HostedZones": [
        {"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "r", "Config": {"PrivateZone": False}}],
        "IsTruncated": False, "MaxItems": "100"}, {"DNSName": "example.com.", "MaxItems": "100"})
    stub.add_response("get_hosted_zone", {"HostedZone": {"Id": "/hostedzone/Z1", "Name": "example.com.",
                                                         "CallerReference": "r"},
                                          "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]}}, {"Id": "/hostedzone/Z1"})
    stub.add_response("list_resource_record_sets", {"ResourceRecordSets": [], "IsTruncated": False,
                                                    "MaxItems": "300"}, {"HostedZoneId": "Z1"})
    stub.add_response("change_resource_record_sets", {"ChangeInfo": {"Id": "/change/C1", "Status": "PENDING",
                                                                     "SubmittedAt": now}})
    stub.add_response("get_change", {"ChangeInfo": {"Id": "/change/C1", "Status": "INSYNC", "SubmittedAt": now}},
                      {"Id": "/change/C1"})
    result = run_module(monkeypatch, dns_zone, dict(name="example.com", wait=True, records=[
        {"name": "app", "type": "A", "values": ["192.0.2.1"]}]), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["change record sets of example.com: UPSERT app.example.com A"]
    assert result["zone"]["name_servers"] == ["ns-1.awsdns-01.org"]
