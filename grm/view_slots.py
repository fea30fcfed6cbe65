"""Which camera feeds each of a GRM's view slots, and frames laid out for them.

A checkpoint names its views by the cameras that feed them (`["corner", "topview", "gripperPOV"]`
for the shipped model). A robot or dataset with other cameras maps them onto those slots once,
when the GRM is adapted (`'++views={corner: front, topview: top, gripperPOV: null}'`: `++` sets a
mapping on Hydra's command line, where a plain `views=` would only merge into it); the adapted
checkpoint is then named by the robot's cameras (`["front", "top", null]`), so evaluation and
the ROS monitor need no mapping. A slot fed by no camera (`null`) is masked: the model fuses the
views it has.
"""
from __future__ import annotations

import logging
from typing import Mapping, Optional, Sequence

import numpy as np

Cameras = list[Optional[str]]
log = logging.getLogger("grm")


class ViewMappingError(ValueError):
    """Cameras that cannot be laid onto a model's view slots as given."""


def _suggestion(slots: Sequence[Optional[str]], available: Sequence[str]) -> str:
    pairs = [f"{s}: {available[i] if i < len(available) else 'null'}" for i, s in enumerate(slots) if s]
    return "'++views={" + ", ".join(pairs) + "}'"


def map_views(slots: Sequence[Optional[str]], available: Sequence[str],
              mapping: Mapping[str, Optional[str]] | None = None) -> Cameras:
    """The camera feeding each slot (None: no camera, masked).

    Without `mapping`, a slot takes the camera of its own name, and a slot whose camera the data
    lacks is masked, provided at least one slot is fed; with `mapping` (slot -> camera or None),
    mapped slots take the named camera and the others behave as without one."""
    slots, available = list(slots), list(available)
    named = [s for s in slots if s]
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(named))
    if unknown:
        raise ViewMappingError(f"views: {', '.join(map(repr, unknown))} is not a view of this model; "
                               f"its views are {named}")
    fed = []
    for slot in slots:
        camera = mapping[slot] if slot in mapping else (slot if slot in available else None)
        if camera is not None and camera not in available:
            raise ViewMappingError(f"views.{slot}={camera!r}: no such camera in the data; it has {available}")
        fed.append(camera)
    if not any(fed):
        raise ViewMappingError(f"the data's cameras {available} feed none of the model's views {named}; "
                               f"map them, e.g. {_suggestion(slots, available)} (null: a view the robot lacks)")
    unfed = [s for s, c in zip(slots, fed) if s and c is None and s not in mapping]
    if unfed:
        log.warning("view(s) %s have no camera in the data %s: masked (map them with views= if they do)",
                    unfed, available)
    return fed


def present(cameras: Sequence[Optional[str]]) -> np.ndarray:
    """(V,) bool: the slots fed by a camera."""
    return np.array([c is not None for c in cameras], dtype=bool)


def inputs(cameras: Sequence[Optional[str]]) -> list[str]:
    """The cameras to read, in slot order (masked slots skipped)."""
    return [c for c in cameras if c is not None]


def to_slots(x: np.ndarray, cameras: Sequence[Optional[str]], axis: int = -4) -> np.ndarray:
    """Inputs along `axis` (n_inputs) -> slots (V): frames (axis -4) of masked slots are black,
    view masks (axis -1) False."""
    mask = present(cameras)
    if mask.all():
        return x
    x = np.moveaxis(x, axis, 0)
    out = np.zeros((len(mask), *x.shape[1:]), dtype=x.dtype)
    out[mask] = x
    return np.moveaxis(out, 0, axis)
