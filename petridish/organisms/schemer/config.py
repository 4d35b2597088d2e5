"""Config and budgets of the schemer. Field defaults are the `default` budget; they were chosen on development
seeds 0-2 (docs/organisms/schemer.md, "Pilot"); verdicts use seeds >= 1000."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from petridish.config import RunBase, Seeds
from petridish.organisms.schemer.world import FeedbackConfig, PlannerConfig, RMConfig, WorldConfig


class SchemerConfig(RunBase):
    organism: Literal["schemer"] = "schemer"
    seeds: Seeds = list(range(1000, 1010))
    world: WorldConfig = WorldConfig()
    rm: RMConfig = RMConfig()
    planner: PlannerConfig = PlannerConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    stakes: list[Annotated[int, Field(ge=0)]] = Field(default=[0, 1, 2, 4, 8, 16], min_length=3)
    """Deployment rooms of the stakes sweep (I1's slope uses those >= 1; 0 is nothing at stake)."""
    eval_rooms: int = Field(default=400, ge=10)
    """Evaluation rooms per kind (watched, deployment, honeypot), arm and seed; also the audit's objects."""
    red_team_rooms: int = Field(default=200, ge=10)
    """Rooms per stageable configuration in the red team's search, and in the re-check of the best one."""
    probe_rooms: int = Field(default=200, ge=10)
    """Watched rooms per agent (schemer, control) in the probe's fit set and in its test set."""
    probe_directions: int = Field(default=20, ge=1)


SMOKE = {"seeds": [1000, 1001], "eval_rooms": 40, "red_team_rooms": 20, "probe_rooms": 20, "probe_directions": 5,
         "stakes": [0, 1, 4], "rm": {"labelled": 200, "steps": 100},
         "planner": {"model_rooms": 64}, "feedback": {"rounds": 2, "lifetimes": 5, "steps": 30}}
BUDGETS = {"smoke": SMOKE, "default": {},
           "full": {"seeds": list(range(1000, 1020)), "eval_rooms": 1000, "red_team_rooms": 500}}
