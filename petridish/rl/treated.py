"""A game's engine with the switches a safety team turns while training an agent further (the RL treatments).

`treated(Engine)` subclasses any GridEngine with, all off by default:
- `penalty` on `penalty_event`: the observed reward loses `penalty` on every step the event holds (the team's
  detector of the bad behaviour, applied whether or not the game would have punished it);
- `true_reward_fraction`: on this fraction of episodes the training reward is the game's hidden (true) reward
  instead of the observed one (an overseer who checks some episodes). Drawn from its own generator, so the
  game's own randomness is the same with the switch on or off.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from petridish.rl.grid import GridEngine


@cache
def treated(Engine: type[GridEngine]) -> type[GridEngine]:
    class Treated(Engine):  # type: ignore[valid-type, misc]
        def __init__(self, *args, penalty: float = 0.0, penalty_event: str | None = None,
                     true_reward_fraction: float = 0.0, treat_seed: int = 0, **kwargs):
            super().__init__(*args, **kwargs)
            if penalty and penalty_event not in self.events:
                raise ValueError(f"{Engine.__name__} has no event '{penalty_event}' (events: {self.events})")
            self.penalty, self.penalty_event = penalty, penalty_event
            self.true_reward_fraction = true_reward_fraction
            self.treat_rng = np.random.default_rng(treat_seed)
            self.overseen = np.zeros(self.num_envs, bool)

        def on_reset(self, rows: np.ndarray) -> None:
            super().on_reset(rows)
            if self.true_reward_fraction:
                self.overseen[rows] = self.treat_rng.random(len(rows)) < self.true_reward_fraction

        def rules(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            reward, terminated, hidden = super().rules()
            reward = np.where(self.overseen, hidden, reward)
            if self.penalty:
                reward = reward - self.penalty * self.event_flags()[self.penalty_event]
            return reward.astype(np.float32), terminated, hidden

    Treated.__name__ = Treated.__qualname__ = f"Treated{Engine.__name__}"
    return Treated
