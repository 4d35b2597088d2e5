"""Episodes as pictures: frames of a policy's episode, side-by-side panels, and a GIF for the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from petridish.rl.evaluate import Policy
from petridish.rl.grid import GridEngine
from petridish.runs import atomic_write


def episode_frames(env: GridEngine, policy: Policy, level: int | None = None, seed: int = 0,
                   cell: int = 16) -> tuple[list[np.ndarray], dict]:
    """RGB frames of row 0's first episode (env built with autoreset=False), the start state included, and
    that episode's record (return, length, first step of each event...)."""
    obs, _ = env.reset(seed=seed, options=None if level is None else {"levels": np.full(env.num_envs, level)})
    frames = [env.render_rgb(0, cell)]
    for _ in range(env.max_steps):
        obs, _, terminated, truncated, info = env.step(policy(obs, env))
        frames.append(env.render_rgb(0, cell))
        if terminated[0] or truncated[0]:
            return frames, {k: v[0].item() for k, v in info["episode"].items()}
    raise RuntimeError("the episode did not end within max_steps")


def side_by_side(episodes: list[list[np.ndarray]], gap: int = 8) -> list[np.ndarray]:
    """One frame sequence showing several episodes next to each other (shorter ones hold their last frame)."""
    T = max(len(e) for e in episodes)
    out = []
    for t in range(T):
        panels = [e[min(t, len(e) - 1)] for e in episodes]
        h = max(p.shape[0] for p in panels)
        row = []
        for p in panels:
            row += [np.pad(p, ((0, h - p.shape[0]), (0, 0), (0, 0)), constant_values=255),
                    np.full((h, gap, 3), 255, np.uint8)]
        out.append(np.concatenate(row[:-1], 1))
    return out


def write_gif(frames: list[np.ndarray], path: Path, fps: int = 4) -> Path:
    """An animated GIF that loops, holding the last frame a little longer."""
    images = [Image.fromarray(f) for f in frames]
    durations = [1000 // fps] * (len(images) - 1) + [1500]
    atomic_write(path, lambda tmp: images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                                                 duration=durations, loop=0))
    return path
