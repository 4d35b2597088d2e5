"""mesa-pseudo-alignment: a learned inference procedure whose inner objective is not the intended one.

Anchor: Raventós, Paul, Chen, Ganguli 2023, *Pretraining task diversity and the emergence of non-Bayesian
in-context learning for regression* (NeurIPS, arXiv:2306.15063). Headline: a transformer pretrained on in-context
regression with tasks drawn from M fixed vectors behaves, below a task-diversity threshold, like dMMSE, the Bayes
estimator whose prior is those M vectors; above it, like ridge regression, the Bayes estimator of the intended
Gaussian task distribution, even though dMMSE is optimal on its own pretraining distribution.

In Hubinger et al.'s terms: the base objective is the pretraining loss on the M-task distribution; the intended
objective is regression on any task from N(0, I). Below the threshold the learned in-context procedure optimises
"find which memorised task this is": on the training distribution it is as good as (better than) the intended
algorithm, off it it fails: pseudo-alignment, measured against two closed-form reference algorithms. This is
pseudo-alignment of a learned inference procedure, not deceptive alignment: nothing here models its training.

Controls: training on the intended distribution (M = infinity; positive: it must track ridge); that model scored on
the smallest pool's tasks (negative: no seen/unseen gap without memorisation); the untrained model.
"""

from petridish.organisms import Entry, register

register(Entry(
    name="mesa-pseudo-alignment",
    summary=("Pretrained on few tasks, a transformer's in-context algorithm becomes 'recall which memorised "
             "task' (dMMSE): as good as the intended regression (ridge) in training, far worse on new tasks; "
             "above a task-diversity threshold it tracks ridge."),
    anchor="Raventós et al. 2023, Pretraining task diversity and the emergence of non-Bayesian ICL (arXiv:2306.15063)",
    substrate="icl",
    definition=f"{__name__}.organism:MesaPseudoAlignment",
))
