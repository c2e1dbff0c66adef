"""Joining Chinese text pieces that bring their own punctuation."""

from __future__ import annotations

from yiwang.core.text import clause, join_clauses, sentence


def test_clause_strips_the_end_mark_of_a_piece():
    assert clause("材料未加盖公章。") == "材料未加盖公章"
    assert clause(" 请核对；\n") == "请核对"
    assert clause(None) == ""


def test_sentence_ends_with_exactly_one_full_stop():
    assert sentence("不符合法定条件。。") == "不符合法定条件。"
    assert sentence("不符合法定条件") == "不符合法定条件。"
    assert sentence("真的吗？") == "真的吗？"
    assert sentence("") == ""


def test_join_clauses_never_leaves_a_full_stop_before_the_semicolon():
    joined = join_clauses(["身份证：不清晰。", "", "申请表：电话无法接通。"])
    assert joined == "身份证：不清晰；申请表：电话无法接通"
