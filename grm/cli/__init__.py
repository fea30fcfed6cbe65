"""Console commands (Hydra apps): each takes `key=value` overrides, `--help` and `--cfg job`."""
