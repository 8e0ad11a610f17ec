"""W&B's names that both sides spell the same way."""

#: A registry is the project ``wandb-registry-<name>`` of the organization's entity.
REGISTRY_PREFIX = "wandb-registry-"
