"""General Reward Model: multi-view, step-discretized task progress (Robo-Dopamine style)."""
