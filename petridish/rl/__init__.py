"""The RL substrate: a batched numpy gridworld engine (a gymnasium VectorEnv), single-env gymnasium classes
registered as `petridish/<Name>-v0`, CleanRL-style PPO, scripted calibration policies, and rendering.

Importing this package registers the environment ids with gymnasium.
"""

from petridish.rl.envs import register_all

register_all()
