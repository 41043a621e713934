"""CLI errors that need no index: one clear line on stderr and exit code 2."""

from legalqa.cli import main


def test_verify_missing_file_names_it(capsys):
    assert main(["verify", "nothere.txt"]) == 2
    err = capsys.readouterr().err
    assert "文件不存在：nothere.txt" in err and "标准输入" in err


def test_missing_index_says_to_ingest(tmp_path, capsys):
    assert main(["search", "借款", "--index", str(tmp_path / "none")]) == 2
    assert "legalqa ingest" in capsys.readouterr().err


def test_ingest_of_nothing_readable_fails_clearly(tmp_path, capsys):
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01")
    assert main(["ingest", str(tmp_path), "--index", str(tmp_path / "idx"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "没有可索引的内容" in err and "bad.txt" in err and "二进制文件" in err
    assert not (tmp_path / "idx").exists()


def test_ingest_with_some_unreadable_files_writes_the_index_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEGALQA_HOME", str(tmp_path / "home"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bad.txt").write_bytes(b"\x00\x01")
    (docs / "ok.md").write_text("# 借条\n\n借条要写清楚借款金额和还款日期。\n", encoding="utf-8")
    code = main(["ingest", str(docs), "--index", str(tmp_path / "idx"), "--model", "fake", "-q"])
    out = capsys.readouterr().out
    assert code == 1 and "bad.txt" in out
    assert (tmp_path / "idx" / "manifest.json").is_file()


def test_ingest_of_paths_without_an_index_says_what_it_would_replace(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEGALQA_HOME", str(tmp_path / "home"))
    (tmp_path / "one.md").write_text("# 借条\n\n借条要写清楚借款金额。\n", encoding="utf-8")
    assert main(["ingest", str(tmp_path / "one.md"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "替换默认索引" in err and "--index" in err and "--replace" in err
    assert not (tmp_path / "home" / "index").exists()
    assert main(["ingest", str(tmp_path / "one.md"), "--replace", "--model", "fake", "-q"]) == 0
    assert (tmp_path / "home" / "index" / "manifest.json").is_file()


def test_undecodable_bytes_in_an_argument_are_one_clear_line(capsys):
    assert main(["ask", "借款\udcff"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "无法识别的字节" in line and "UTF-8" in line and "Traceback" not in line
