"""The rhythm every module is held to, against the local AWS with requests counted at the server."""

from __future__ import annotations


def converge(ansible, aws, args, module="vpc_network"):
    """check -> apply -> re-apply; returns the applied result (with the server's ``writes_by_action`` of
    the apply). Asserts the contract at each step."""
    aws.reset_counts()
    check = ansible.module(module, args, check=True, diff=True)
    assert not check.get("failed"), check.get("msg")
    assert aws.requests()["writes"] == 0, "check mode must not write"

    aws.reset_counts()
    applied = ansible.module(module, args, diff=True)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["actions"] == check["actions"], "check mode must predict the real run exactly"
    assert applied["changed"] == bool(applied["actions"])
    counts = aws.requests()
    assert counts["writes"] == len(applied["actions"]), (
        f"{counts['writes']} write requests for {len(applied['actions'])} actions: {counts['writes_by_action']}")
    assert check["diff"]["after"] == applied["diff"]["after"]
    applied["writes_by_action"] = counts["writes_by_action"]

    aws.reset_counts()
    again = ansible.module(module, args, diff=True)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["actions"] == []
    assert aws.requests()["writes"] == 0, aws.requests()["writes_by_action"]
    assert again["diff"]["before"] == again["diff"]["after"] == applied["diff"]["after"]
    return applied
