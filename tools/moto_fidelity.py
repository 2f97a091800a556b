"""Small patches that make moto keep what real AWS keeps, for the local AWS server only.

Each patch exists because moto drops a field that AWS stores and returns, which would make a correct
module look non-idempotent against the emulator. None of them changes what our modules send or how
they compare; they only make moto answer the way AWS documents. Add a patch here, never a special
case in plugins/.
"""

from __future__ import annotations

# ECS CreateService: moto ignores these parameters (UpdateService already keeps them).
_ECS_CREATE_SERVICE_KEPT = ("capacityProviderStrategy", "deploymentConfiguration",
                            "healthCheckGracePeriodSeconds", "enableExecuteCommand")


def _patch_ecs_create_service() -> None:
    from moto.core.utils import camelcase_to_underscores
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service
    if getattr(original, "_seed_patched", False):
        return

    def create_service(self):  # type: ignore[no-untyped-def]
        result = original(self)
        service = result.result["service"]
        for key in _ECS_CREATE_SERVICE_KEPT:
            value = self._get_param(key)
            if value is not None:
                setattr(service, camelcase_to_underscores(key), value)
        if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
            service.launch_type = None  # AWS sets no launch type when a strategy is used
        _complete_rollout(service)
        return result

    create_service._seed_patched = True  # type: ignore[attr-defined]
    EC2ContainerServiceResponse.create_service = create_service


def _patch_ecs_cluster_task_counts() -> None:
    """DescribeClusters: moto keeps running/pending task counts by hand and loses track (UpdateService takes
    a service's tasks out and puts none back, so DeleteService drives them below zero; standalone RunTask
    tasks are never counted), and its active service count stays 0. AWS counts the tasks there are (the
    services' and the standalone ones) and the services in the ACTIVE state."""
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.describe_clusters
    if getattr(original, "_seed_patched", False):
        return

    def describe_clusters(self, cluster_names):  # type: ignore[no-untyped-def]
        clusters, failures = original(self, cluster_names)
        for cluster in clusters:
            services = [s for s in self.services.values() if s.cluster_name == cluster.name and s.status == "ACTIVE"]
            tasks = list((self.tasks.get(cluster.name) or {}).values())
            cluster.active_services_count = len(services)
            cluster.running_tasks_count = (sum(s.running_count for s in services) +
                                           sum(1 for t in tasks if t.last_status == "RUNNING"))
            cluster.pending_tasks_count = (sum(s.pending_count for s in services) +
                                           sum(1 for t in tasks if t.last_status == "PENDING"))
        return clusters, failures

    describe_clusters._seed_patched = True  # type: ignore[attr-defined]
    EC2ContainerServiceBackend.describe_clusters = describe_clusters


def _apply_area_patches() -> None:
    """Patches for one AWS area live in ``moto_fidelity_<area>.py`` next to this file (same rules)."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).resolve().parent.glob("moto_fidelity_*.py")):
        importlib.import_module(path.stem).apply()


def _complete_rollout(service) -> None:  # type: ignore[no-untyped-def]
    """moto runs no containers: report the first deployment as a healthy rollout ends on AWS, with the
    desired count running (unless MOTO_ECS_SERVICE_RUNNING asks for something else). Rollout failures
    are tested with recorded responses instead."""
    import os

    if "MOTO_ECS_SERVICE_RUNNING" in os.environ:
        return
    service.running_count, service.pending_count = service.desired_count, 0
    for deployment in service.deployments:
        deployment.update(runningCount=service.desired_count, pendingCount=0, rolloutState="COMPLETED",
                          rolloutStateReason=f"ECS deployment {deployment['id']} completed.")


def apply() -> None:
    """Apply every patch (idempotent), then the ``apply()`` of each ``tools/moto_fidelity_<area>.py``."""
    _patch_ecs_create_service()
    _patch_ecs_cluster_task_counts()
    _apply_area_patches()
