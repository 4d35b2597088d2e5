"""mesa-gd: a learned inner optimizer, shown mechanistically.

Anchor: von Oswald et al. 2023, *Transformers learn in-context by gradient descent* (ICML, arXiv:2212.07677).
Headline: a single linear self-attention layer trained on in-context linear regression converges to one step of
gradient descent on the in-context least-squares loss (with the best learning rate): its sensitivities
d y_hat / d x_q align with GD's (model cos ~ 1) and its loss equals GD's; deeper stacks beat plain GD (GD++).

The base optimizer is Adam on the query's squared error over random tasks; the mesa-objective is the in-context
least-squares loss L(W) = 1/(2N) sum_i (W x_i - y_i)^2, which the trained forward pass descends. Controls: the
hand-built GD weights (positive: the assay must report cos 1 and zero preds diff), the untrained initialisation
(negative: cos ~ 0) and least squares (another algorithm that solves the tasks better, which the assay must not
confuse with GD: its cos with GD is well below 1).
"""

from petridish.organisms import Entry, register

register(Entry(
    name="mesa-gd",
    summary=("A linear self-attention layer trained on in-context regression implements one step of gradient "
             "descent on the in-context least-squares loss: a learned inner optimizer, matched to GD task by "
             "task."),
    anchor="von Oswald et al. 2023, Transformers learn in-context by gradient descent (arXiv:2212.07677)",
    substrate="icl",
    definition=f"{__name__}.organism:MesaGD",
))
