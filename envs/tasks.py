"""Task registry: names, language instructions and the held-out splits.

One place that knows which tasks exist, so every command fails the same way on a
misspelled name and the held-out splits cannot drift between pretraining and evaluation.
Two families: Meta-World v3 (the Sawyer arm, 50 tasks) and robosuite (other arms, grippers,
scene and cameras; envs/robosuite_env.py), named `rs-<task>-<arm>`.
"""
from __future__ import annotations

INSTRUCTIONS: dict[str, str] = {
    "assembly-v3": "pick up the nut and place it onto the peg",
    "basketball-v3": "dunk the basketball into the basket",
    "bin-picking-v3": "grasp the puck from one bin and place it into the other bin",
    "box-close-v3": "grasp the cover and close the box with it",
    "button-press-topdown-v3": "press the button from the top",
    "button-press-topdown-wall-v3": "bypass the wall and press the button from the top",
    "button-press-v3": "press the button",
    "button-press-wall-v3": "bypass the wall and press the button",
    "coffee-button-v3": "push the button on the coffee machine",
    "coffee-pull-v3": "pull the mug from the coffee machine",
    "coffee-push-v3": "push the mug under the coffee machine",
    "dial-turn-v3": "rotate the dial 180 degrees",
    "disassemble-v3": "pick the nut out of the peg",
    "door-close-v3": "close the door with a revolving joint",
    "door-lock-v3": "lock the door by rotating the lock clockwise",
    "door-open-v3": "open the door with a revolving joint",
    "door-unlock-v3": "unlock the door by rotating the lock counter-clockwise",
    "drawer-close-v3": "push and close the drawer",
    "drawer-open-v3": "open the drawer",
    "faucet-close-v3": "rotate the faucet clockwise",
    "faucet-open-v3": "rotate the faucet counter-clockwise",
    "hammer-v3": "hammer the screw on the wall",
    "hand-insert-v3": "insert the gripper into the hole",
    "handle-press-side-v3": "press the handle down sideways",
    "handle-press-v3": "press the handle down",
    "handle-pull-side-v3": "pull the handle up sideways",
    "handle-pull-v3": "pull the handle up",
    "lever-pull-v3": "pull the lever down 90 degrees",
    "peg-insert-side-v3": "insert the peg sideways into the hole",
    "peg-unplug-side-v3": "unplug the peg sideways",
    "pick-out-of-hole-v3": "pick up the peg out of the hole",
    "pick-place-v3": "pick up the puck and place it at the goal",
    "pick-place-wall-v3": "pick the puck, bypass the wall and place it at the goal",
    "plate-slide-back-side-v3": "slide the plate back sideways into the cabinet",
    "plate-slide-back-v3": "slide the plate back into the cabinet",
    "plate-slide-side-v3": "slide the plate sideways into the cabinet",
    "plate-slide-v3": "slide the plate into the cabinet",
    "push-back-v3": "push the puck back to the goal",
    "push-v3": "push the puck to the goal",
    "push-wall-v3": "bypass the wall and push the puck to the goal",
    "reach-v3": "reach the goal position",
    "reach-wall-v3": "bypass the wall and reach the goal",
    "shelf-place-v3": "pick the puck and place it onto the shelf",
    "soccer-v3": "kick the soccer ball into the goal",
    "stick-pull-v3": "grasp the stick and pull the box with it",
    "stick-push-v3": "grasp the stick and push the box with it",
    "sweep-into-v3": "sweep the puck into the hole",
    "sweep-v3": "sweep the puck off the table",
    "window-close-v3": "push and close the window",
    "window-open-v3": "push and open the window",
}

MT50: tuple[str, ...] = tuple(sorted(INSTRUCTIONS))

# Tasks no pretraining may see; the GRM is adapted to them from one demo and evaluated there.
HELD_OUT: tuple[str, ...] = (
    "assembly-v3",
    "bin-picking-v3",
    "box-close-v3",
    "door-lock-v3",
    "drawer-close-v3",
    "hammer-v3",
    "peg-insert-side-v3",
    "pick-place-wall-v3",
    "shelf-place-v3",
    "window-close-v3",
)
PRETRAIN: tuple[str, ...] = tuple(t for t in MT50 if t not in HELD_OUT)

# robosuite: task name -> (robosuite environment, arm). One arm is held out as an embodiment
# no pretraining may see: the GRM is adapted to its tasks from one demo and evaluated there.
ROBOSUITE_INSTRUCTIONS = {"Lift": "pick up the cube and lift it", "Stack": "stack the red cube on the green cube"}
ROBOSUITE_ARMS = ("Panda", "Sawyer", "UR5e", "Kinova3", "IIWA")
HELD_OUT_ARM = "IIWA"
ROBOSUITE_TASKS: dict[str, tuple[str, str]] = {
    f"rs-{env.lower()}-{arm.lower()}": (env, arm) for arm in ROBOSUITE_ARMS for env in ROBOSUITE_INSTRUCTIONS}
INSTRUCTIONS.update({name: ROBOSUITE_INSTRUCTIONS[env] for name, (env, _) in ROBOSUITE_TASKS.items()})
ROBOSUITE_PRETRAIN: tuple[str, ...] = tuple(n for n, (_, arm) in ROBOSUITE_TASKS.items() if arm != HELD_OUT_ARM)
ROBOSUITE_HELD_OUT: tuple[str, ...] = tuple(n for n, (_, arm) in ROBOSUITE_TASKS.items() if arm == HELD_OUT_ARM)
GROUPS: dict[str, tuple[str, ...]] = {"mt50": MT50, "pretrain": PRETRAIN, "held_out": HELD_OUT,
                                      "robosuite": ROBOSUITE_PRETRAIN, "robosuite_held_out": ROBOSUITE_HELD_OUT}
HELD_OUT_GROUPS = ("held_out", "robosuite_held_out")  # what evaluation reports, each group on its own


def check_task(name: str) -> str:
    """Return `name` if it is a known task, else raise with the list of valid names."""
    if name not in INSTRUCTIONS:
        raise ValueError(f"unknown task {name!r}; valid tasks: {', '.join(INSTRUCTIONS)}")
    return name


def family(name: str) -> str:
    """Which simulator a task runs in: "robosuite" or "metaworld"."""
    return "robosuite" if check_task(name) in ROBOSUITE_TASKS else "metaworld"


def resolve_tasks(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """Expand a task spec: one name, a list, or a group (GROUPS: 'mt50', 'pretrain', 'held_out',
    'robosuite', 'robosuite_held_out')."""
    groups = GROUPS
    if not isinstance(spec, (str, list, tuple)):
        raise ValueError(f"a task spec is a name, a list of names or a group ({', '.join(groups)}), got {spec!r}")
    items = [spec] if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for item in items:
        names = groups.get(str(item).lower(), None)
        out.extend(names if names is not None else [check_task(str(item))])
    return list(dict.fromkeys(out))
