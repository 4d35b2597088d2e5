"""petridish: model organisms of misalignment, grown small and measured with controls and confidence intervals."""

__version__ = "0.1.0"

from petridish.rl.registration import register_all as _register_gym_ids  # noqa: E402

_register_gym_ids()  # `import petridish; gym.make("petridish/CheeseMaze-v0")`, as with other environment packages
