"""GuardDuty: UpdateDetector changes only the features it names, as AWS documents.

AWS: ``UpdateDetector(Features=[...])`` updates the features listed and leaves every other feature (and every
additional configuration not listed) as it was. moto 5.2.5 replaces the detector's whole feature list with the
request's, so a feature the module leaves alone (an option not given) would silently turn off - a correct
module would look wrong against the emulator. This patch merges by feature name, and by additional
configuration name inside a feature. It changes nothing else.
"""

from __future__ import annotations

from typing import Any


def _merge(current: list[dict[str, Any]], update: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {f.get("name"): dict(f) for f in current or []}
    for feature in update or []:
        name = feature.get("name")
        entry = merged.setdefault(name, {"name": name})
        for key, value in feature.items():
            if key == "additionalConfiguration":
                configs = {c.get("name"): dict(c) for c in entry.get("additionalConfiguration") or []}
                for config in value or []:
                    configs.setdefault(config.get("name"), {}).update(config)
                entry["additionalConfiguration"] = list(configs.values())
            else:
                entry[key] = value
    return list(merged.values())


def _detector(response):  # type: ignore[no-untyped-def]
    from urllib.parse import unquote

    arn = unquote(response.path.split("/tags/", 1)[1])
    return response.guardduty_backend.get_detector(arn.rsplit("detector/", 1)[-1])


def _patch_tags() -> None:
    import json

    from moto.guardduty import urls
    from moto.guardduty.responses import GuardDutyResponse

    if getattr(getattr(GuardDutyResponse, "tag_resource", None), "_seed_patched", False):
        return

    def tag_resource(self):  # type: ignore[no-untyped-def]
        _detector(self).tags.update(json.loads(self.body or "{}").get("tags") or {})
        return 204, {}, ""

    def untag_resource(self):  # type: ignore[no-untyped-def]
        detector = _detector(self)
        for key in self.querystring.get("tagKeys", []):
            detector.tags.pop(key, None)
        return 204, {}, ""

    def list_tags_for_resource(self):  # type: ignore[no-untyped-def]
        return 200, {}, json.dumps({"tags": _detector(self).tags})

    for method in (tag_resource, untag_resource, list_tags_for_resource):
        method._seed_patched = True  # type: ignore[attr-defined]
        setattr(GuardDutyResponse, method.__name__, method)
    urls.url_paths.setdefault("{0}/tags/(?P<resource_arn>.+)$", GuardDutyResponse.dispatch)


def apply() -> None:
    _patch_tags()
    from moto.guardduty.models import Detector

    original = Detector.update
    if getattr(original, "_seed_patched", False):
        return

    def update(self, enable, finding_publishing_frequency, data_sources, features):  # type: ignore[no-untyped-def]
        merged = _merge(self.features, features) if features is not None else None
        original(self, enable, finding_publishing_frequency, data_sources, merged)

    update._seed_patched = True  # type: ignore[attr-defined]
    Detector.update = update
