"""The RL substrate: a batched numpy gridworld engine (a gymnasium VectorEnv), single-env gymnasium classes
registered as `petridish/<Name>-v0`, CleanRL-style PPO, scripted calibration policies, and rendering.

Importing this package (or just `petridish`) registers the environment ids with gymnasium.
"""

from petridish.rl.registration import register_all

register_all()
