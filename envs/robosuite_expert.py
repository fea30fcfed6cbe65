"""A scripted pick-and-place expert for the robosuite tasks (lift a cube; stack one cube on another).

It reads only the state vector (envs/robosuite_env.py lays it out as Meta-World's) and walks
through phases: above the cube, down to it, close the gripper, then lift (Lift) or carry it
above the other cube and let go (Stack). Like the Meta-World experts it returns the phase's
target position with each action, so target jumps and grip flips mark the keyframes. Unlike
them it keeps the phase it is in, so make one per episode.
"""
from __future__ import annotations

import numpy as np

from envs.tasks import ROBOSUITE_TASKS, check_task

GAIN = 20.0  # action per metre of error (the controller moves up to 5 cm per unit action)
ABOVE = 0.08  # approach height over the cube (m)
LIFT = 0.15  # Lift: how far the cube is raised
STACK_CLEARANCE = 0.06  # Stack: cube A's centre over cube B's when it is let go
GRASP_STEPS = 10  # steps the fingers get to close before the arm moves
REACHED = 0.012  # m: a waypoint counts as reached


class PickPlaceExpert:
    def __init__(self, task: str):
        self.task = check_task(task)
        self.stack = ROBOSUITE_TASKS[task][0] == "Stack"
        self.phase, self._grasp_t, self._lift_from = "reach", 0, None

    def act(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hand, cube, other = state[0:3], state[4:7], state[11:14]
        grip = -1.0
        if self.phase == "reach":
            target = cube + [0.0, 0.0, ABOVE]
            if np.linalg.norm(hand - target) < REACHED:
                self.phase = "descend"
        if self.phase == "descend":
            target = cube.copy()
            if np.linalg.norm(hand - cube) < REACHED:
                self.phase = "grasp"
        if self.phase == "grasp":
            target, grip = hand.copy(), 1.0
            self._grasp_t += 1
            if self._grasp_t >= GRASP_STEPS:
                self.phase, self._lift_from = "carry", hand.copy()
        if self.phase == "carry":
            grip = 1.0
            target = other + [0.0, 0.0, STACK_CLEARANCE] if self.stack else self._lift_from + [0.0, 0.0, LIFT]
            if self.stack and np.linalg.norm(hand - target) < REACHED:
                self.phase = "release"
        if self.phase == "release":
            target, grip = hand.copy(), -1.0
        action = np.append(np.clip(GAIN * (target - hand), -1.0, 1.0), grip).astype(np.float32)
        return action, np.asarray(target, dtype=np.float64)
