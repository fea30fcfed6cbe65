"""An anthropomorphic hand holding tweezers: the MuJoCo scene, the low-level goal-conditioned
task (reach and hold a tool opening) and depth point clouds."""
