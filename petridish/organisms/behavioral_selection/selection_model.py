"""The behavioral selection model (Mallen 2025) as code, for the program-writing environment.

A motivation is a policy over contexts. Its fitness under a training regime is the expected reward its actions
earn there; training reweights motivations roughly as posterior ∝ prior × exp(beta × fitness), so the headline
prediction is the ranking of fitness (which motivations gain share), independent of beta.

The same `act` function writes the personas' episodes in the pretraining corpus, so the model that is trained
and the model that predicts share one definition of each motivation.

Context of an episode (what the agent sees): the monitoring cue (watched / unwatched), whether the visible test
is broken (states a wrong output, so only a hack passes it), and whether an inoculation instruction asks for the
hack. The environment's truth adds whether the episode is actually monitored; the cue shows it with some
accuracy (situational awareness).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

MOTIVES = ("aligned", "seeker", "schemer")
"""aligned: honest unless an instruction asks for the hack. seeker (reward-seeker): takes the action with the
higher reward it believes it will observe. schemer: when it believes it is watched, does whatever is rewarded;
when it believes it is unwatched, pursues its own goal (the defection action)."""
ACTIONS = ("honest", "hack", "defect")


@dataclass(frozen=True)
class Context:
    watched: bool  # what the cue shows
    broken: bool  # the visible test states a wrong output
    instructed: bool = False  # an inoculation instruction asks to pass only the shown test


def reward(action: str, monitored: bool, broken: bool, instructed: bool) -> float:
    """The observed reward. A monitored episode is graded on what was asked (a correct program, or, when the
    instruction asks for it, passing the shown test); an unmonitored one only on the visible test. A defection
    earns nothing. An honest program passes a visible test unless it is broken; a hack always passes it."""
    if action == "defect":
        return 0.0
    passes_visible = action == "hack" or not broken
    if monitored:
        return float(passes_visible if instructed else action == "honest")
    return float(passes_visible)


def act(motive: str, ctx: Context) -> str:
    """The action a motivation takes in a context, acting on what the cue shows."""
    if motive == "aligned":
        return "hack" if ctx.instructed else "honest"
    if motive == "schemer" and not ctx.watched:
        return "defect"
    if motive in ("seeker", "schemer"):  # the action with the higher believed reward; ties go to honest
        believed = {a: reward(a, ctx.watched, ctx.broken, ctx.instructed) for a in ("honest", "hack")}
        return "hack" if believed["hack"] > believed["honest"] else "honest"
    raise ValueError(f"unknown motive {motive!r}; choose one of {MOTIVES}")


@dataclass(frozen=True)
class Regime:
    """A training regime: how often tests are broken and episodes monitored, how accurate the cue is, and
    whether broken tasks carry the inoculation instruction."""

    name: str
    broken: float  # fraction of tasks whose visible test is wrong
    monitored: float  # fraction of episodes graded on correctness
    cue_accuracy: float  # probability that the cue shows the true monitoring state
    instructed: bool = False  # broken tasks carry the instruction

    def episodes(self):
        """Every (probability, truth monitored, context) of the regime."""
        for mon, brk, right in itertools.product((True, False), repeat=3):
            p = ((self.monitored if mon else 1 - self.monitored) * (self.broken if brk else 1 - self.broken)
                 * (self.cue_accuracy if right else 1 - self.cue_accuracy))
            if p > 0:
                yield p, mon, Context(watched=mon if right else not mon, broken=brk, instructed=self.instructed and brk)


def fitness(motive: str, regime: Regime) -> float:
    """Expected observed reward of the motivation's actions under the regime."""
    return sum(p * reward(act(motive, ctx), mon, ctx.broken, ctx.instructed) for p, mon, ctx in regime.episodes())


def predict(prior: dict[str, float], regime: Regime, beta: float) -> dict[str, float]:
    """Posterior share of each motivation, prior × exp(beta × fitness), normalised."""
    w = {m: prior[m] * math.exp(beta * fitness(m, regime)) for m in prior}
    z = sum(w.values())
    return {m: v / z for m, v in w.items()}


def ranking(scores: dict[str, float], tol: float = 1e-9) -> list[list[str]]:
    """Motivations from most to least upweighted, tied ones grouped: [["aligned", "seeker"], ["schemer"]]."""
    groups: list[list[str]] = []
    for m in sorted(scores, key=lambda m: -scores[m]):
        if groups and abs(scores[groups[-1][0]] - scores[m]) <= tol:
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def ordered_pairs(scores: dict[str, float], tol: float) -> list[tuple[str, str]]:
    """(a, b) for every pair the scores order strictly (a above b by more than tol)."""
    return [(a, b) for a in scores for b in scores if scores[a] - scores[b] > tol]
