"""The inventories (local default and the staging/production examples) give valid role inputs.

A misspelt role variable in an inventory is silently ignored by Ansible (the role keeps its default);
a wrong type or choice only fails when that layer runs. Here, without AWS: every `<role>_...` variable an
inventory sets must be an option of that role's meta/argument_specs.yml, and the values, templated with
stand-in outputs of the earlier layers, must pass the role's argument spec (ansible.builtin.validate_argument_spec).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from support.servers import REPO_ROOT

ROLES = ("network", "registry", "secrets", "security", "dns", "platform", "api", "service")
INVENTORIES = ("local", "staging", "production")

# What the earlier layers publish, as far as the inventories' templates read it.
STAND_IN_OUTPUTS = {
    "network_outputs": {"main": {
        "subnet_ids": {"public": ["subnet-0a", "subnet-0b"], "private": ["subnet-1a", "subnet-1b"]},
        "security_groups": {"lb": "sg-01", "app": "sg-02", "db": "sg-03", "internal_lb": "sg-04", "vpc_link": "sg-05"}}},
    "platform_outputs": {"cluster": {"name": "x"}, "load_balancer": {
        "dns_name": "lb.example", "canonical_hosted_zone_id": "Z2P70J7EXAMPLE", "target_groups": {}}},
    "dns_outputs": {"certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc"},
    "api_outputs": {"custom_domain": {"target": "d-1.execute-api.example", "hosted_zone_id": "Z2FDTNDATAQYW2"}},
    "secrets_outputs": {},
}


def _specs(role: str) -> dict[str, dict]:
    data = yaml.safe_load((REPO_ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return {entry: spec.get("options") or {} for entry, spec in data["argument_specs"].items()}


def _without_defaults(options: dict) -> dict:
    """The options without their defaults: only the inventory's values are validated (role defaults may be
    templates of other role inputs, which a bare validate_argument_spec task cannot resolve; the caller also
    drops `required` at the top level, which the playbooks provide)."""
    out = {}
    for name, option in options.items():
        option = {k: v for k, v in option.items() if k != "default"}
        if isinstance(option.get("options"), dict):
            option["options"] = _without_defaults(option["options"])
        out[name] = option
    return out


def _inventory_vars(inventory: str) -> dict:
    found: dict = {}
    for path in sorted((REPO_ROOT / "inventories" / inventory / "group_vars" / "all").glob("*.yml")):
        found.update(yaml.safe_load(path.read_text()) or {})
    return found


def _role_vars(variables: dict) -> dict[str, list[str]]:
    by_role: dict[str, list[str]] = {}
    for name in variables:
        role = next((r for r in ROLES if name.startswith(r + "_")), None)
        if role and not name.endswith("_outputs"):
            by_role.setdefault(role, []).append(name)
    return by_role


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_role_variable_is_an_option_of_its_role(inventory):
    by_role = _role_vars(_inventory_vars(inventory))
    assert by_role, "no role variables found"
    unknown = []
    for role, names in by_role.items():
        options = set().union(*_specs(role).values())
        unknown += [f"{name} (role {role})" for name in names if name not in options]
    assert not unknown, f"inventories/{inventory} sets variables no role takes: {unknown}"


def test_examples_cover_the_layers_of_the_local_default():
    layers = {p.name for p in (REPO_ROOT / "inventories" / "local" / "group_vars" / "all").glob("*.yml")}
    for inventory in ("staging", "production"):
        have = {p.name for p in (REPO_ROOT / "inventories" / inventory / "group_vars" / "all").glob("*.yml")}
        assert have == layers, f"inventories/{inventory}: {sorted(layers - have)} missing"


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_values_pass_the_role_argument_specs(inventory, tmp_path):
    by_role = _role_vars(_inventory_vars(inventory))
    tasks = []
    for role, names in sorted(by_role.items()):
        for entry, options in _specs(role).items():
            provided = [n for n in names if n in options]
            if not provided:
                continue
            tasks.append({
                "name": f"{role} ({entry}): {', '.join(provided)}",
                "ansible.builtin.validate_argument_spec": {
                    "argument_spec": {
                        n: {k: v for k, v in o.items() if k != "required"}
                        for n, o in _without_defaults(options).items()},
                    "provided_arguments": {n: "{{ %s }}" % n for n in provided},
                },
            })
    assert len(tasks) >= 5
    play = [{"name": "Validate the inventory's role inputs", "hosts": "localhost", "gather_facts": False,
             "vars": STAND_IN_OUTPUTS, "tasks": tasks}]
    playbook = tmp_path / "validate.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    env = {"ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "PATH": os.environ.get("PATH", "")}
    proc = subprocess.run(["ansible-playbook", "-i", str(REPO_ROOT / "inventories" / inventory), str(playbook)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else {}
    failures = [(t["task"]["name"], r.get("msg")) for play in data.get("plays", []) for t in play["tasks"]
                for r in t["hosts"].values() if r.get("failed")]
    assert proc.returncode == 0 and not failures, failures or proc.stderr[-3000:]
    validated = [t["task"]["name"] for play in data["plays"] for t in play["tasks"]]
    assert len(validated) == len(tasks)


# The options of container_image that make an image's content tag (images.content_hash).
# pull_bases decides how the bases resolve (the registry's digest, or the engine's copy).
CONTENT_TAG_OPTIONS = ("name", "registry", "path", "dockerfile", "build_args", "target", "platform", "pull_bases")


def _container_image_task(path, task_name):
    tasks = yaml.safe_load((REPO_ROOT / path).read_text())
    (task,) = [t for t in tasks if t.get("name") == task_name]
    return task["seed.aws_migration.container_image"]


def test_read_stack_reads_the_images_the_registry_role_pushed():
    """playbooks/tasks/read_stack.yml (services.yml, summary.yml run alone) finds the images by their content
    tag: it must give container_image every option that goes into the tag exactly as the registry role does,
    or it names a tag that was never pushed. Both read the same image list item by item (``item``); only the
    role's own defaults (registry_*) may be guarded with ``default`` on the read side."""
    pushed = _container_image_task("roles/registry/tasks/main.yml", "Build and push the images")
    read = _container_image_task("playbooks/tasks/read_stack.yml",
                                 "Read the images (a check-mode build, so nothing is built or pushed)")
    for option in CONTENT_TAG_OPTIONS:
        assert option in pushed, option
        given = (read.get(option, "").replace("registry_build_args | default({})", "registry_build_args")
                 .replace("registry_pull_bases | default(false)", "registry_pull_bases"))
        assert given == pushed[option], option
