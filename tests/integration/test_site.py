"""playbooks/site.yml with the local inventory, the way `make demo` runs it."""

from __future__ import annotations

from support.aws import expected_network
from support.aws import seed_inventory


def test_site_is_idempotent_and_check_mode_is_exact(clean_aws, ansible):
    check = ansible.playbook("playbooks/site.yml", check=True, diff=True)
    assert not check.failed, check.stderr[-3000:]
    assert clean_aws.requests()["writes"] == 0
    predicted = [t for t in check.task_results() if t.get("actions")]

    clean_aws.reset_counts()
    first = ansible.playbook("playbooks/site.yml")
    assert not first.failed, first.stderr[-3000:]
    applied = [t for t in first.task_results() if t.get("actions")]
    assert [t["actions"] for t in applied] == [t["actions"] for t in predicted]
    assert clean_aws.requests()["writes"] == sum(len(t["actions"]) for t in applied)
    # inventories/local: one network, 2 zones, NAT per zone, database tier, 4 interface + S3 endpoints, flow logs
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=2, nat=2, tiers=3, endpoints=5,
                                                                      interface=True, flow_logs=True)
    outputs = [t for t in first.task_results() if "network_outputs" in t.get("ansible_facts", {})]
    assert outputs and outputs[0]["ansible_facts"]["network_outputs"]["main"]["vpc_id"].startswith("vpc-")

    clean_aws.reset_counts()
    again = ansible.playbook("playbooks/site.yml")
    assert not again.failed and again.changed == 0
    assert clean_aws.requests()["writes"] == 0

    summary = ansible.playbook("playbooks/summary.yml")
    assert not summary.failed
    assert any("vpc-" in str(t.get("msg")) for t in summary.task_results())

    gone = ansible.playbook("playbooks/network.yml", extra_vars={"network_state": "absent"})
    assert not gone.failed, gone.stderr[-3000:]
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_preflight_explains_a_stopped_local_aws(ansible):
    ansible.endpoint_url = ""  # as when `make local-up` was never run
    result = ansible.playbook("playbooks/site.yml", extra_vars={"seed_aws_endpoint_url": ""})
    assert result.failed
    assert any("make local-up" in str(t.get("msg")) for t in result.task_results())
