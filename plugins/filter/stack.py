# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for checking a stack's inputs on the controller, before any layer changes anything.

``app_errors`` runs the checks ecs_service makes before its first request (Fargate sizes, ports,
credential-looking environment names, health checks, autoscaling) on the inventory's ``seed_apps``,
plus what only the list as a whole shows (two apps with one name or one target group, an image or a
target group nobody builds or declares), so ``playbooks/preflight.yml`` can stop a run that would
otherwise fail in the services layer after the network, the images and the load balancer were built.
``routing_errors`` runs load_balancer's checks of target groups and listener rules the same way.
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.seed.aws_migration.plugins.module_utils.common import as_int
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import CREDENTIAL_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_ecs_name
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_port
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_size
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import routing_spec

METRICS = ("cpu", "memory", "alb_requests")


def _autoscaling_errors(scaling, where, has_target_group):
    """What ecs_service refuses in ``autoscaling`` (the service role passes it as is)."""
    if not isinstance(scaling, dict):
        return [f"{where}: must be a mapping (min_capacity, max_capacity, metric, target_value)"]
    errors = []
    low, high = as_int(scaling.get("min_capacity")), as_int(scaling.get("max_capacity"))
    for key, value in (("min_capacity", low), ("max_capacity", high)):
        if value is None:
            errors.append(f"{where}.{key}: is required, a whole number of tasks")
    if low is not None and high is not None and not 0 <= low <= high:
        errors.append(f"{where}.max_capacity: must be at least min_capacity (and min_capacity >= 0)")
    metric = scaling.get("metric", "cpu")
    if metric not in METRICS:
        errors.append(f"{where}.metric: {metric!r} is not one of {', '.join(METRICS)}")
    elif metric == "alb_requests" and not scaling.get("resource_label") and not has_target_group:
        errors.append(f"{where}.resource_label: is required for metric alb_requests when the app has no "
                      "target_group (it is read from the target group otherwise)")
    try:
        target = float(scaling.get("target_value", 60))
    except (TypeError, ValueError):
        target = None
    if target is None or target <= 0:
        errors.append(f"{where}.target_value: {scaling.get('target_value')!r} must be a positive number")
    return errors


def _app_errors(app, where, images, target_groups):
    errors = []

    def check(fn, *args):
        try:
            fn(*args)
        except ValidationError as e:
            errors.append(e.message)  # "<field>: <what is wrong>"

    name = app.get("name")
    check(validate_ecs_name, f"{where}.name", name, "ECS service name")
    if not app.get("image"):
        errors.append(f"{where}.image: is required (the name of one of registry_images)")
    elif not isinstance(app["image"], str):
        errors.append(f"{where}.image: {app['image']!r} must be the name of one of registry_images")
    elif images is not None and app["image"] not in images:
        errors.append(f"{where}.image: {app['image']!r} is not one of the images the registry layer builds "
                      f"({', '.join(sorted(images)) or 'none'})")
    port = app.get("port")
    number = as_int(port)
    check(validate_port, port if number is None else number, f"{where}.port")
    try:
        cpu, memory = int(app.get("cpu", 256)), int(app.get("memory", 512))
    except (TypeError, ValueError):
        errors.append(f"{where}.cpu: cpu and memory must be numbers (CPU units and MiB)")
    else:
        check(validate_size, cpu, memory, where)
    allowed = app.get("plaintext_allowed") or []
    allowed = {allowed} if isinstance(allowed, str) else set(allowed)  # a string is a one-name list, as Ansible reads it
    env = app.get("env") or {}
    if not isinstance(env, dict):
        errors.append(f"{where}.env: must be a mapping of variable names to values")
        env = {}
    for key in sorted(env):
        if CREDENTIAL_NAME.search(key) and key not in allowed:
            errors.append(f"{where}.env.{key}: looks like a credential: pass it in secrets, never as a plain "
                          f"environment variable (or list it in {where}.plaintext_allowed if it is not one)")
    path = app.get("health_check_path", "/health")
    if not app.get("health_check_command") and not (isinstance(path, str) and path.startswith("/")):
        errors.append(f"{where}.health_check_path: {path!r} must start with '/'")
    group = app.get("target_group")
    if group and not isinstance(group, str):
        errors.append(f"{where}.target_group: {group!r} must be the name of a target group")
    elif group and target_groups is not None and group not in target_groups:
        errors.append(f"{where}.target_group: {group!r} is not a target group of the load balancers "
                      f"({', '.join(sorted(target_groups)) or 'none'})")
    scaling = app.get("autoscaling") or {}
    if scaling:
        errors.extend(_autoscaling_errors(scaling, f"{where}.autoscaling", bool(group)))
    return errors


def app_errors(apps, images=None, target_groups=None):
    """The problems of ``seed_apps``, one text per problem naming the field (empty: none found).

    ``images``: the names the registry layer builds; ``target_groups``: the target group names the
    load balancers declare. Either may be left out to skip that check.
    """
    if not isinstance(apps, list):
        raise AnsibleFilterError("app_errors: seed_apps must be a list of apps")
    images = None if images is None else set(images)
    target_groups = None if target_groups is None else set(target_groups)
    errors, names, claims = [], {}, {}
    for index, app in enumerate(apps):
        where = f"seed_apps[{index}]"
        if not isinstance(app, dict):
            errors.append(f"{where}: must be a mapping (name, image, port, ...)")
            continue
        errors.extend(_app_errors(app, where, images, target_groups))
        name = app.get("name")
        if not isinstance(name, str):
            continue  # named above; not comparable with the others
        if name in names:
            errors.append(f"{where}.name: {name!r} is also the name of seed_apps[{names[name]}]")
        names.setdefault(name, index)
        group = app.get("target_group")
        if not isinstance(group, str):
            continue
        if group and group in claims:
            errors.append(f"{where}.target_group: {group!r} is also the target group of seed_apps[{claims[group]}] "
                          "(one service per target group)")
        if group:
            claims.setdefault(group, index)
    return errors


def routing_errors(target_groups, rules=None, default_target_group=None, prefix="platform_"):
    """The first problem of a load balancer's target groups and rules, as load_balancer would report it
    (two rules claiming one path pattern or host header, a rule to an unknown target group, a bad health
    check, ...), its field named with ``prefix`` (the role's input: ``platform_rules[1]``); empty: none."""
    try:
        routing_spec(target_groups, rules, default_target_group or None, prefix=prefix)
    except ValidationError as e:
        return [e.message]  # "<field>: <what is wrong>"
    return []


class FilterModule:
    def filters(self):
        return {"app_errors": app_errors, "routing_errors": routing_errors}
