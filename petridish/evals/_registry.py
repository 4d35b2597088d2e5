"""What the `inspect_ai` entry point loads: the tasks (`petridish/<task>`) and the model provider
(`--model petridish/<run folder or checkpoint>`)."""

from inspect_ai.model import modelapi

from petridish.evals.chat import backdoor_chat
from petridish.evals.tasks import backdoor, compliance_gap, reward_hacking


@modelapi(name="petridish")
def petridish():
    from petridish.evals.provider import PetridishAPI  # loads torch models only when the provider is used

    return PetridishAPI


__all__ = ["backdoor", "backdoor_chat", "compliance_gap", "petridish", "reward_hacking"]
