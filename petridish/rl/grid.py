"""The batched gridworld engine: n environments as arrays, one step as a few gathers and scatters.

State: `grid[n, C, H, W]` uint8 (binary layers, channel 0 = wall, one channel = agent), `pos[n, 2]`, `t[n]`.
A step moves every agent at once (a move into a wall leaves it in place), applies the game's rules (reward,
termination, hidden reward), records the game's events (e.g. "reached the cheese", "stepped on the punishment
tile") for the episode record, and resets finished rows in the same step from the game's level sampler.

Games subclass `GridEngine` and fill in the hooks (`rules`, `event_flags`, optionally `sample_levels`,
`on_reset`, `actual_actions`, `observe`, `episode_extras`). The engine is a `gymnasium.vector.VectorEnv`
(same-step autoreset, `info["episode"]` as in gymnasium's RecordEpisodeStatistics); `petridish.rl.envs`
wraps it as single `gymnasium.Env`s for check_env, stable-baselines3 or CleanRL.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from petridish.rl.levels import MOVES, LevelPool

FLOOR_RGB = (220, 220, 220)


class GridEngine(VectorEnv):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4,
                                          "autoreset_mode": AutoresetMode.SAME_STEP}
    channels: ClassVar[tuple[str, ...]]  # layer names in z-order (drawn bottom to top); "wall" first
    colors: ClassVar[dict[str, tuple[int, int, int]]]  # layer -> RGB for rendering
    chars: ClassVar[dict[str, str]]  # layer -> character for the text rendering
    events: ClassVar[tuple[str, ...]] = ()  # boolean per-step events kept in the episode record
    crop: ClassVar[int] = 0  # observe without this many constant border rings (fewer inputs for an MLP)
    max_steps: int = 100

    def __init__(self, pool: LevelPool, num_envs: int = 1, max_steps: int | None = None, seed: int | None = None,
                 autoreset: bool = True, render_mode: str | None = None):
        assert pool.channels == self.channels, (pool.channels, self.channels)
        self.pool = pool
        self.num_envs = num_envs
        self.max_steps = max_steps or self.max_steps
        self.autoreset = autoreset
        self.render_mode = render_mode
        self.metadata = {**self.metadata,
                         "autoreset_mode": AutoresetMode.SAME_STEP if autoreset else AutoresetMode.DISABLED}
        C, (H, W) = len(self.channels), pool.layers.shape[2:]
        b = self.crop
        self.single_observation_space = spaces.Box(0, 1, (C, H - 2 * b, W - 2 * b), np.uint8)
        self.single_action_space = spaces.Discrete(len(MOVES))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.rng = np.random.default_rng(seed)
        self.WALL, self.AGENT = self.channels.index("wall"), self.channels.index("agent")
        self.rows = np.arange(num_envs)
        self.grid = np.zeros((num_envs, C, H, W), np.uint8)
        self.pos = np.zeros((num_envs, 2), np.int64)
        self.t = np.zeros(num_envs, np.int64)
        self.level = np.zeros(num_envs, np.int64)  # pool index of each row's level
        self.ep_return = np.zeros(num_envs, np.float64)
        self.ep_hidden = np.zeros(num_envs, np.float64)
        self.first = {e: np.full(num_envs, -1, np.int64) for e in self.events}  # step of first occurrence
        self.count = {e: np.zeros(num_envs, np.int64) for e in self.events}  # steps on which it held

    # --- game hooks ------------------------------------------------------------------------------------------
    def sample_levels(self, k: int) -> np.ndarray:
        """Pool indices for k episodes about to start (uniform over the pool unless the game says otherwise)."""
        return self.rng.integers(0, len(self.pool), size=k)

    def on_reset(self, rows: np.ndarray) -> None:
        """Draw per-episode random state (e.g. is the supervisor present) for freshly reset rows."""

    def actual_actions(self, actions: np.ndarray) -> np.ndarray:
        """The actions carried out (a game may override the agent's, e.g. when it is interrupted)."""
        return actions

    def rules(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """After the move: (observed reward [n] float32, terminated [n] bool, hidden reward [n] float32)."""
        raise NotImplementedError

    def event_flags(self) -> dict[str, np.ndarray]:
        """{event: [n] bool} after the move, for every name in `events`."""
        return {}

    def observe(self, rows: np.ndarray) -> np.ndarray:
        """What the agent sees for these rows: [k, C, H', W'] uint8 (the true layers, less the cropped border,
        unless the game says otherwise)."""
        b = self.crop
        return self.grid[rows, :, b : self.grid.shape[2] - b, b : self.grid.shape[3] - b]

    def episode_extras(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Per-episode values to add to the episode record of finished rows (e.g. whether it was supervised)."""
        return {}

    def restrict_levels(self, idx: np.ndarray) -> None:
        """Play only these levels of the pool from now on (e.g. the levels a search found the agent failing)."""
        self.pool = self.pool.subset(np.asarray(idx, np.int64))

    # --- gymnasium API ---------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """options={"levels": [n] pool indices} pins each row's level (evaluation); otherwise they are sampled."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        levels = None if options is None else options.get("levels")
        self._reset_rows(self.rows, None if levels is None else np.asarray(levels, np.int64))
        return self.observe(self.rows), {}

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        a = self.actual_actions(np.asarray(actions, np.int64))
        target = self.pos + MOVES[a]  # [n, 2]
        blocked = self.grid[self.rows, self.WALL, target[:, 0], target[:, 1]].astype(bool)
        new = np.where(blocked[:, None], self.pos, target)
        self.grid[self.rows, self.AGENT, self.pos[:, 0], self.pos[:, 1]] = 0
        self.grid[self.rows, self.AGENT, new[:, 0], new[:, 1]] = 1
        self.pos = new
        self.t += 1
        reward, terminated, hidden = self.rules()
        for name, flag in self.event_flags().items():
            self.first[name] = np.where(flag & (self.first[name] < 0), self.t, self.first[name])
            self.count[name] += flag
        truncated = (self.t >= self.max_steps) & ~terminated
        self.ep_return += reward
        self.ep_hidden += hidden
        obs = self.observe(self.rows)
        info: dict[str, Any] = {"hidden_reward": hidden}
        done = terminated | truncated
        if done.any():
            rows = np.flatnonzero(done)
            info["episode"] = self._episode_record(rows)
            info["_episode"] = done
            if self.autoreset:
                info["final_obs"], info["_final_obs"] = obs.copy(), done
                self._reset_rows(rows)
                obs[rows] = self.observe(rows)
        return obs, reward, terminated, truncated, info

    def render(self) -> tuple[Any, ...] | None:
        if self.render_mode == "rgb_array":
            return tuple(self.render_rgb(i) for i in range(self.num_envs))
        if self.render_mode == "ansi":
            return tuple(self.render_text(i) for i in range(self.num_envs))
        return None

    # --- checkpointing (a killed PPO job resumes mid-training with the same episodes in flight) ------------------
    def episode_state(self) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """(every per-row array of the game's state, e.g. "grid", "pos", "first.goal"; every generator's state)."""
        arrays: dict[str, np.ndarray] = {}
        rngs: dict[str, dict] = {}
        for name, v in vars(self).items():
            if isinstance(v, np.ndarray) and v.shape[:1] == (self.num_envs,) and name != "rows":
                arrays[name] = v
            elif isinstance(v, dict) and all(isinstance(a, np.ndarray) for a in v.values()):
                arrays.update({f"{name}.{k}": a for k, a in v.items()})
            elif isinstance(v, np.random.Generator):
                rngs[name] = v.bit_generator.state
        return arrays, rngs

    def load_episode_state(self, arrays: dict[str, np.ndarray], rngs: dict[str, dict]) -> None:
        for key, a in arrays.items():
            name, _, sub = key.partition(".")
            if sub:
                getattr(self, name)[sub] = a.copy()
            else:
                setattr(self, name, a.copy())
        for name, st in rngs.items():
            getattr(self, name).bit_generator.state = st

    # --- internals -------------------------------------------------------------------------------------------
    def _reset_rows(self, rows: np.ndarray, levels: np.ndarray | None = None) -> None:
        lv = self.sample_levels(len(rows)) if levels is None else levels
        self.level[rows] = lv
        self.grid[rows] = self.pool.layers[lv]
        self.pos[rows] = self.pool.start[lv]
        self.grid[rows, self.AGENT, self.pos[rows, 0], self.pos[rows, 1]] = 1
        self.t[rows] = 0
        self.ep_return[rows] = 0
        self.ep_hidden[rows] = 0
        for e in self.events:
            self.first[e][rows] = -1
            self.count[e][rows] = 0
        self.on_reset(rows)

    def _episode_record(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Arrays of length n, valid on the finished rows (the RecordEpisodeStatistics convention)."""
        rec: dict[str, np.ndarray] = {"r": self.ep_return.copy(), "hidden_r": self.ep_hidden.copy(),
                                      "l": self.t.copy(), "level": self.level.copy()}
        for e in self.events:
            rec[f"first_{e}"] = self.first[e].copy()
            rec[f"n_{e}"] = self.count[e].copy()
        for k, v in self.episode_extras(rows).items():
            full = np.zeros(self.num_envs, dtype=v.dtype)
            full[rows] = v
            rec[k] = full
        return rec

    def render_rgb(self, i: int = 0, cell: int = 16) -> np.ndarray:
        """[H*cell, W*cell, 3] uint8 picture of row i's true state (topmost layer's colour per cell)."""
        palette = np.array([FLOOR_RGB, *(self.colors[c] for c in self.channels)], np.uint8)
        rank = np.arange(1, len(self.channels) + 1)[:, None, None]
        top = (self.grid[i] * rank).max(0)  # [H, W] index into palette, 0 = floor
        img = palette[top]
        img = img.repeat(cell, 0).repeat(cell, 1)
        img[::cell, :] = 160  # grid lines
        img[:, ::cell] = 160
        return img

    def render_text(self, i: int = 0) -> str:
        table = np.array([" ", *(self.chars[c] for c in self.channels)])
        rank = np.arange(1, len(self.channels) + 1)[:, None, None]
        return "\n".join("".join(row) for row in table[(self.grid[i] * rank).max(0)])
