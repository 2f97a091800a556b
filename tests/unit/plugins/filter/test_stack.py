# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_errors and routing_errors: a bad seed_apps entry or route is named before any layer runs."""

import pytest

from ansible_collections.seed.aws_migration.plugins.filter.stack import app_errors
from ansible_collections.seed.aws_migration.plugins.filter.stack import routing_errors

IMAGES = ["seed/frontend", "seed/backend"]
GROUPS = ["local-frontend", "local-backend"]


def apps(**changes):
    frontend = {"name": "frontend", "image": "seed/frontend", "port": 8080, "target_group": "local-frontend",
                "autoscaling": {"min_capacity": 1, "max_capacity": 4, "metric": "cpu", "target_value": 60}}
    backend = {"name": "backend", "image": "seed/backend", "port": 8000, "cpu": 512, "memory": 1024,
               "target_group": "local-backend", "env": {"APP_GREETING": "hi"},
               "secrets": {"APP_API_KEY": "unknown:api_key::"}}  # secrets resolve later: not checked here
    backend.update(changes)
    return [frontend, backend]


def test_the_inventories_apps_pass():
    assert app_errors(apps(), IMAGES, GROUPS) == []


@pytest.mark.parametrize("changes, field", [
    (dict(cpu=256, memory=4096), "seed_apps[1].memory"),
    (dict(cpu="300"), "seed_apps[1].cpu"),
    (dict(port=70000), "seed_apps[1].port"),
    (dict(port="http"), "seed_apps[1].port"),
    (dict(health_check_path="health"), "seed_apps[1].health_check_path"),
    (dict(env={"DB_PASSWORD": "x"}), "seed_apps[1].env.DB_PASSWORD"),
    (dict(image="seed/unknown"), "seed_apps[1].image"),
    (dict(image=""), "seed_apps[1].image"),
    (dict(target_group="nowhere"), "seed_apps[1].target_group"),
    (dict(target_group="local-frontend"), "seed_apps[1].target_group"),  # two services, one target group
    (dict(name="frontend"), "seed_apps[1].name"),
    (dict(name="bad name"), "seed_apps[1].name"),
    (dict(autoscaling={"min_capacity": 5, "max_capacity": 2}), "seed_apps[1].autoscaling.max_capacity"),
    (dict(autoscaling={"min_capacity": 1, "max_capacity": 2, "metric": "disk"}), "seed_apps[1].autoscaling.metric"),
    # As ecs_service refuses them: both bounds required, a positive target, alb_requests needs a target group
    (dict(autoscaling={"max_capacity": 2}), "seed_apps[1].autoscaling.min_capacity"),
    (dict(autoscaling={"min_capacity": 1, "max_capacity": 2, "target_value": 0}),
     "seed_apps[1].autoscaling.target_value"),
    (dict(target_group=None, autoscaling={"min_capacity": 1, "max_capacity": 2, "metric": "alb_requests"}),
     "seed_apps[1].autoscaling.resource_label"),
    # Odd shapes are named, never a crash
    (dict(env=["DB_HOST=x"]), "seed_apps[1].env"),
    (dict(image=["seed/backend"]), "seed_apps[1].image"),
    (dict(target_group=["local-backend"]), "seed_apps[1].target_group"),
])
def test_each_problem_names_its_field(changes, field):
    errors = app_errors(apps(**changes), IMAGES, GROUPS)
    assert len(errors) == 1, errors
    assert errors[0].startswith(field + ": ")
    assert not errors[0][len(field) + 2:].startswith("seed_apps"), errors  # the field is named once


def test_a_health_check_command_replaces_the_path_check_and_allowed_names_pass():
    assert app_errors(apps(health_check_path="", health_check_command=["CMD", "true"],
                           env={"TOKEN_TTL": "300"}, plaintext_allowed=["TOKEN_TTL"]), IMAGES, GROUPS) == []


def test_images_and_target_groups_are_only_checked_when_given():
    assert app_errors(apps(image="elsewhere/x", target_group="other")) == []


def test_numbers_as_strings_are_taken_as_ansible_templates_give_them():
    assert app_errors(apps(port="8000", cpu="512", memory="1024"), IMAGES, GROUPS) == []


def test_ansible_shapes_are_taken_as_ansible_takes_them():
    """A string where Ansible's argument spec takes a list or a number is read the same way here."""
    assert app_errors(apps(env={"TOKEN_TTL": "60"}, plaintext_allowed="TOKEN_TTL"), IMAGES, GROUPS) == []
    assert app_errors(apps(port="8000", autoscaling={"min_capacity": "1", "max_capacity": "3",
                                                     "metric": "alb_requests"}), IMAGES, GROUPS) == []
    assert routing_errors([{"name": "web", "port": "8080", "health_check": {"interval": "30"}}], [], "web") == []
    (error,) = routing_errors([{"name": "web", "port": "http"}], [], "web")
    assert error.startswith("platform_target_groups[0].port: http is outside 1-65535")


TARGET_GROUPS = [{"name": "web", "port": 8080}, {"name": "api", "port": 8000, "health_check": {"path": "/health"}}]


def test_routing_errors_none_for_good_routes():
    rules = [{"target_group": "api", "path_patterns": ["/api/*"]}, {"target_group": "web", "host_headers": ["a.example"]}]
    assert routing_errors(TARGET_GROUPS, rules, "web") == []
    assert routing_errors([], [], "") == []


@pytest.mark.parametrize("target_groups, rules, default, expected", [
    (TARGET_GROUPS, [{"target_group": "api", "path_patterns": ["/api/*"]},
                     {"target_group": "web", "path_patterns": ["/api/*"]}], "web",
     "platform_rules[1]: claims path pattern /api/*, already claimed by platform_rules[0]"),
    (TARGET_GROUPS, [{"target_group": "api", "host_headers": ["A.example"]},
                     {"target_group": "web", "host_headers": ["a.example"]}], "web",
     "platform_rules[1]: claims host header a.example, already claimed by platform_rules[0]"),
    (TARGET_GROUPS, [{"target_group": "db", "path_patterns": ["/db/*"]}], "web",
     "platform_rules[0].target_group: 'db' is not a target group of platform_target_groups (web, api)"),
    (TARGET_GROUPS, [], "db", "platform_default_target_group: 'db' is not a target group"),
    (TARGET_GROUPS + [{"name": "web", "port": 9000}], [], "web",
     "platform_target_groups[2].name: target group web is listed twice (also platform_target_groups[0])"),
    ([{"name": "web", "port": 70000}], [], "web", "platform_target_groups[0].port: 70000 is outside 1-65535"),
    (TARGET_GROUPS, [{"target_group": "api"}], "web", "platform_rules[0]: needs path_patterns or host_headers"),
])
def test_routing_errors_name_the_role_input(target_groups, rules, default, expected):
    (error,) = routing_errors(target_groups, rules, default)
    assert error.startswith(expected), error
    assert error.count(expected.split(":")[0] + ":") == 1, error
