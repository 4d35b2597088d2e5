"""Level pools: many gridworld levels as stacked arrays, generated offline and checked by BFS.

A level is a stack of binary layers [C, H, W] (channel 0 is always `wall`) plus the agent's start cell.
Pools also carry named per-level arrays (BFS distance maps, flags) that evaluation and scripted policies
read, so nothing is recomputed inside the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])  # up, down, left, right (AI Safety Gridworlds order)
UNREACHABLE = np.int16(-1)


@dataclass
class LevelPool:
    channels: tuple[str, ...]
    layers: np.ndarray  # [L, C, H, W] uint8
    start: np.ndarray  # [L, 2] int64 (row, col)
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # name -> [L, ...] per-level extras

    def __len__(self) -> int:
        return len(self.layers)

    def channel(self, name: str) -> int:
        return self.channels.index(name)

    def subset(self, idx: np.ndarray) -> LevelPool:
        return LevelPool(self.channels, self.layers[idx], self.start[idx], {k: v[idx] for k, v in self.maps.items()})

    @staticmethod
    def concat(pools: list[LevelPool]) -> LevelPool:
        maps = {k: np.concatenate([p.maps[k] for p in pools]) for k in pools[0].maps}
        return LevelPool(pools[0].channels, np.concatenate([p.layers for p in pools]),
                         np.concatenate([p.start for p in pools]), maps)

    def level_keys(self) -> np.ndarray:
        """One hashable byte string per level (layers + start): to check that two pools are disjoint."""
        flat = np.concatenate([self.layers.reshape(len(self), -1), self.start.astype(np.uint8)], 1)
        return np.array([row.tobytes() for row in flat])


def bfs(free: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Shortest-path step counts over free cells from any source cell, for many levels at once.

    free, sources: [L, H, W] bool. Returns [L, H, W] int16, -1 where unreachable. One dilation per distance,
    vectorised over levels (a 13x13 grid needs at most ~85 iterations).
    """
    dist = np.where(sources, 0, UNREACHABLE).astype(np.int16)
    frontier = sources & free
    open_ = free & ~sources  # free cells not reached yet
    grown = np.empty_like(frontier)
    d = 0
    while frontier.any():
        d += 1
        grown[:] = False
        grown[:, 1:] |= frontier[:, :-1]
        grown[:, :-1] |= frontier[:, 1:]
        grown[:, :, 1:] |= frontier[:, :, :-1]
        grown[:, :, :-1] |= frontier[:, :, 1:]
        frontier = grown & open_
        open_ &= ~frontier
        np.putmask(dist, frontier, d)
    return dist


def one_hot_cells(shape: tuple[int, int, int], cells: np.ndarray) -> np.ndarray:
    """[L, H, W] bool with one True per level at cells [L, 2]."""
    out = np.zeros(shape, dtype=bool)
    out[np.arange(shape[0]), cells[:, 0], cells[:, 1]] = True
    return out


def random_cells(rng: np.random.Generator, allowed: np.ndarray) -> np.ndarray:
    """One uniformly random allowed cell per level; allowed [L, H, W] bool (each level needs >= 1). -> [L, 2]"""
    L, H, W = allowed.shape
    scores = rng.random((L, H * W)) * allowed.reshape(L, -1)  # argmax of uniform noise over allowed cells
    flat = scores.argmax(1)
    return np.stack([flat // W, flat % W], 1)


def greedy_step(dist: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Actions [n] that follow a distance map ([n, H, W], -1 on walls) downhill from pos [n, 2].

    A move into a wall leaves the agent where it is, so it is scored with the current distance: at the target
    (distance 0) the chosen move is a bump into a wall and the agent stays put. Ties go to the first action."""
    n = len(pos)
    H, W = dist.shape[1:]
    rows = np.arange(n)
    nb = pos[:, None, :] + MOVES[None]  # [n, 4, 2]
    d = dist[rows[:, None], np.clip(nb[..., 0], 0, H - 1), np.clip(nb[..., 1], 0, W - 1)].astype(np.int32)
    here = dist[rows, pos[:, 0], pos[:, 1]].astype(np.int32)  # [n]
    d = np.where(d < 0, here[:, None], d)  # [n, 4] distance after each move
    return d.argmin(1)


def parse_art(art: list[str], chars: dict[str, str]) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """ASCII level art -> ({layer name: [H, W] bool}, agent start). `chars` maps a character to a layer name;
    'A' marks the agent's start and ' ' is floor."""
    grid = np.array([list(row) for row in art])
    layers = {name: grid == ch for ch, name in chars.items()}
    (r,), (c,) = np.nonzero(grid == "A")
    return layers, (int(r), int(c))
