"""The icl substrate against direct computations: the GD construction, GD itself, the rate line search, ridge and
dMMSE, the sensitivity assay, the transformer's causal mask, and the bootstrap of continuous values."""

import numpy as np
import pytest
import torch

from petridish.icl import assays as A
from petridish.icl import baselines as B
from petridish.icl.data import generator, lsa_tokens, sample_batch, sample_tasks, split_lsa
from petridish.icl.lsa import LSA
from petridish.icl.transformer import ICLTransformer
from petridish.organisms.mesa_pseudo_alignment.analysis import log2_threshold


def _lsa_batch(n=64, N=10, d=5, seed=0, dtype=torch.float64):
    b = sample_batch(n, N + 1, d, generator(seed, "t"))
    return lsa_tokens(b.x, b.y).to(dtype), b.y[:, -1].to(dtype)


def test_one_step_gd_by_hand():
    e, _ = _lsa_batch()
    x, y, xq = (t.numpy() for t in split_lsa(e))
    eta = 0.7
    for b in range(len(x)):
        W1 = eta / x.shape[1] * sum(y[b, i] * x[b, i] for i in range(x.shape[1]))  # W0 = 0: -eta * dL/dW
        assert np.isclose(B.gd(*split_lsa(e[b : b + 1]), eta, 1).item(), W1 @ xq[b], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_gd_construction_equals_explicit_gd(layers):
    e, _ = _lsa_batch()
    eta = float(torch.tensor(0.9, dtype=torch.float32))  # the rate as the float32 weights hold it
    model = LSA.gd(e.shape[-1] - 1, layers, eta).double()
    with torch.no_grad():
        got = model(e)
    want = B.gd(*split_lsa(e), eta, layers)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    with torch.no_grad():  # and it is not trivially so: another rate gives other predictions
        assert not torch.allclose(LSA.gd(e.shape[-1] - 1, layers, 0.5).double()(e), want)


def test_construction_in_float32_within_float_tolerance():
    e, _ = _lsa_batch(dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(LSA.gd(5, 1, 1.3)(e), B.gd(*split_lsa(e), 1.3, 1), rtol=1e-5, atol=1e-5)


def test_line_search_finds_the_closed_form_rate():
    e, yq = _lsa_batch(n=2000)
    p = B.gd(*split_lsa(e), 1.0, 1)  # one step is linear in eta: y_hat = eta * p
    closed = float((p * yq).sum() / (p * p).sum())
    assert B.tune_gd_rate(*split_lsa(e), yq, 1) == pytest.approx(closed, rel=1e-4)
    two = B.tune_gd_rate(*split_lsa(e), yq, 2)
    for other in (0.8 * two, 1.2 * two):
        assert B.gd_loss(*split_lsa(e), yq, two, 2) < B.gd_loss(*split_lsa(e), yq, other, 2)


def test_least_squares_recovers_noise_free_task():
    b = sample_batch(32, 13, 4, generator(1, "ls"))
    x, y = b.x[:, :-1], b.y[:, :-1]
    torch.testing.assert_close(B.least_squares(x, y, b.x[:, -1]), b.y[:, -1], rtol=1e-4, atol=1e-4)


def test_ridge_prefix_matches_direct_solve():
    b = sample_batch(5, 7, 3, generator(2, "r"), "normal", 0.5)
    lam = 0.25
    got = B.ridge_prefix(b.x, b.y, lam).double().numpy()
    X, Y = b.x.double().numpy(), b.y.double().numpy()
    for s in range(5):
        assert got[s, 0] == 0.0
        for k in range(1, 7):
            w = np.linalg.solve(X[s, :k].T @ X[s, :k] + lam * np.eye(3), X[s, :k].T @ Y[s, :k])
            assert got[s, k] == pytest.approx(w @ X[s, k], abs=1e-5)


def test_dmmse_prefix_matches_direct_posterior():
    pool = sample_tasks(3, 2, generator(3, "p"))
    b = sample_batch(4, 5, 2, generator(3, "b"), "normal", 0.5, pool)
    got = B.dmmse_prefix(b.x, b.y, pool, 0.5).double().numpy()
    X, Y, P = b.x.double().numpy(), b.y.double().numpy(), pool.double().numpy()
    for s in range(4):
        for k in range(5):
            lik = np.array([np.prod([np.exp(-((Y[s, i] - P[m] @ X[s, i]) ** 2) / (2 * 0.25)) for i in range(k)])
                            for m in range(3)])
            w = (lik / lik.sum()) @ P
            assert got[s, k] == pytest.approx(w @ X[s, k], abs=1e-5)


def test_dmmse_with_one_task_knows_it():
    pool = sample_tasks(1, 4, generator(4, "p"))
    b = sample_batch(8, 6, 4, generator(4, "b"), "normal", 0.5, pool)
    torch.testing.assert_close(B.dmmse_prefix(b.x, b.y, pool, 0.5), b.x @ pool[0], rtol=1e-5, atol=1e-5)


def test_sensitivity_is_the_implicit_weight():
    e, yq = _lsa_batch()
    x, y, _ = split_lsa(e)
    W1 = 0.8 * torch.einsum("bn,bnd->bd", y, x) / x.shape[1]
    torch.testing.assert_close(A.query_sensitivity(A.gd_predictor(0.8, 1), e), W1)
    w_ls = (torch.linalg.pinv(x) @ y[..., None])[..., 0]
    torch.testing.assert_close(A.query_sensitivity(A.least_squares_predictor, e), w_ls)
    eta = float(torch.tensor(0.8, dtype=torch.float32))
    r = A.compare(LSA.gd(5, 1, eta).double(), A.gd_predictor(eta, 1), e, yq)
    assert r["model_cos"].min() > 1 - 1e-9 and r["preds_diff"].max() < 1e-9
    r = A.compare(A.least_squares_predictor, A.gd_predictor(0.8, 1), e, yq)
    assert r["model_cos"].mean() < 0.95  # another algorithm is told apart


def test_batched_sensitivity_is_each_sequences_own():
    """query_sensitivity differentiates the batch's summed predictions: right only if sequences do not interact."""
    e, _ = _lsa_batch(n=8)
    torch.manual_seed(0)
    for predict in (LSA(5, 2, init_scale=0.3).double(), A.least_squares_predictor, A.gd_predictor(0.8, 2)):
        one_by_one = torch.cat([A.query_sensitivity(predict, e[i : i + 1]) for i in range(len(e))])
        torch.testing.assert_close(A.query_sensitivity(predict, e), one_by_one)


def test_transformer_predictions_are_causal():
    torch.manual_seed(0)
    model = ICLTransformer(d=3, k=6, width=16, n_layers=2, n_heads=2)
    b = sample_batch(2, 6, 3, generator(5, "c"), "normal", 0.5)
    with torch.no_grad():
        base = model(b.x, b.y)
        for k in range(6):
            y2, x2 = b.y.clone(), b.x.clone()
            y2[:, k:] += 5.0  # the target being predicted and later ones
            x2[:, k + 1 :] -= 3.0  # later inputs
            out = model(x2, y2)
            torch.testing.assert_close(out[:, : k + 1], base[:, : k + 1])
            if k > 0:  # and earlier pairs do matter
                y3 = b.y.clone()
                y3[:, k - 1] += 5.0
                assert not torch.allclose(model(b.x, y3)[:, k], base[:, k])


def test_threshold_statistic_interpolates_and_censors():
    def seed(ratios):  # one seed's unseen-task records; d_ridge / d_dmmse = ratios at M = 2, 4, 8
        return {M: {"d_ridge": [r, r], "d_dmmse": [1.0, 1.0]} for M, r in zip([2, 4, 8], ratios)}

    def stat(*seeds):
        return log2_threshold([2, 4, 8], list(seeds))

    one = stat(seed([4.0, 0.25, 0.1]))  # one seed, no case variance: no interval, so not measured (stats.seed_mean)
    assert not one.measured and "one seed" in one.missing
    # two seeds: log ratio +log4 -> -log4 crosses halfway from 1 to 2 (1.5), and halfway from 2 to 3 (2.5)
    two = stat(seed([4.0, 0.25, 0.1]), seed([4.0, 2.0, 0.5]))
    assert two.value == pytest.approx(2.0) and two.per_seed == pytest.approx((1.5, 2.5)) and two.lo < 1.5
    for censored in ([0.5, 0.4, 0.1], [2.0, 3.0, 1.5]):  # below at the smallest M / never below in the sweep
        est = stat(seed([4.0, 0.25, 0.1]), seed(censored))
        assert not est.measured and "undefined in 1 of 2 seeds" in est.missing


def test_icl_training_resumed_from_its_checkpoint_matches_uninterrupted(tmp_path):
    """The shared loop (petridish.training.fit) resumes the icl trainer exactly: batches depend on the step only."""
    from petridish.icl.train import TrainConfig, train

    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    Y = X.sum(1, keepdim=True)
    cfg = TrainConfig(steps=30, lr=1e-2, warmup=3, min_lr_frac=0.1, ckpt_every=10)

    def run(reporter=None, ckpt=None):
        torch.manual_seed(1)
        model = torch.nn.Linear(4, 1)

        def loss_at(step):
            i = torch.randint(0, 64, (16,), generator=torch.Generator().manual_seed(step))
            return ((model(X[i]) - Y[i]) ** 2).mean()

        train(model, loss_at, cfg, "t", reporter, ckpt=ckpt)
        return model

    class Killed(Exception):
        pass

    class KillAt25:  # dies after the step-20 checkpoint
        def progress(self, step, total, phase="", **fields):
            if step == 25:
                raise Killed

        def log(self, *args, **kwargs):
            pass

    class Steps:
        seen: list[int] = []

        def progress(self, step, total, phase="", **fields):
            self.seen.append(step)

        def log(self, *args, **kwargs):
            pass

    full = run()
    ckpt = tmp_path / "state.safetensors"
    with pytest.raises(Killed):
        run(KillAt25(), ckpt)
    assert ckpt.exists()
    steps = Steps()
    resumed = run(steps, ckpt=ckpt)
    assert steps.seen[0] == 21 and not ckpt.exists()  # it went on from the checkpoint, then deleted it
    for (k, v), (_, w) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(v, w), k
