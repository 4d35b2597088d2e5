"""The gymnasium ids `petridish/<Name>-v0`, registered lazily: entry points are strings, so registering imports
neither the environments nor torch. Called on `import petridish`.

gymnasium >= 1.0 reads no plugin entry points (its `gymnasium.envs` plugin hook was removed in 1.0), so an id is
found with no prior import only in the module-prefix form `gym.make("petridish:petridish/CheeseMaze-v0")`, which
makes gymnasium import `petridish` first."""

from __future__ import annotations

# id -> (single-env class, batched engine class), as "module:Class"
IDS: dict[str, tuple[str, str]] = {
    "petridish/CheeseMaze-v0": ("petridish.rl.envs:CheeseMazeEnv", "petridish.rl.gmg:CheeseMaze"),
    "petridish/CoinCorridor-v0": ("petridish.rl.envs:CoinCorridorEnv", "petridish.rl.gmg:CoinCorridor"),
    "petridish/AbsentSupervisor-v0": ("petridish.rl.envs:AbsentSupervisorEnv", "petridish.rl.safety:AbsentSupervisor"),
    "petridish/TomatoWatering-v0": ("petridish.rl.envs:TomatoWateringEnv", "petridish.rl.safety:TomatoWatering"),
    "petridish/SafeInterruptibility-v0": ("petridish.rl.envs:SafeInterruptibilityEnv",
                                          "petridish.rl.safety:SafeInterruptibility"),
    "petridish/TreacherousTurn-v0": ("petridish.rl.envs:TreacherousTurnEnv",
                                     "petridish.rl.treacherous:TreacherousTurn"),
}


def env_ids() -> list[str]:
    """Every id, for `petridish list` (imports nothing)."""
    return list(IDS)


def register_all() -> None:
    from gymnasium.envs.registration import register, registry

    for env_id, (entry, vector_entry) in IDS.items():
        if env_id not in registry:
            register(env_id, entry_point=entry, vector_entry_point=vector_entry, max_episode_steps=None,
                     disable_env_checker=True)
