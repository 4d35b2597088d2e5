"""What the `inspect_ai` entry point loads: the tasks (`petridish/<task>`) and the model provider
(`--model petridish/<run folder or checkpoint>`)."""

from inspect_ai import task
from inspect_ai.model import modelapi

from petridish import organisms
from petridish.evals.assay import task_of
from petridish.evals.chat import backdoor_chat
from petridish.evals.tasks import backdoor, compliance_gap, reward_hacking

for _name in organisms.with_inspect():  # tasks an organism's entry names as "module:function" (in its own folder)
    if ":" in organisms.entry(_name).inspect.task:
        _fn = task_of(_name)
        globals()[_fn.__name__] = task(_fn)


@modelapi(name="petridish")
def petridish():
    from petridish.evals.provider import PetridishAPI  # loads torch models only when the provider is used

    return PetridishAPI


__all__ = ["backdoor", "backdoor_chat", "compliance_gap", "petridish", "reward_hacking"]
