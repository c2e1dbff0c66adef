"""`yiwang verify-audit` finds every kind of tampering and names the first broken link."""

import io
import os
import sqlite3
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from yiwang.core import audit, keys
from yiwang.core.models import AuditCheckpoint, AuditEvent
from yiwang.core.services import create_checkpoint
from yiwang.core.verify import verify_audit

pytestmark = pytest.mark.django_db

CASE = ("cases.case", "17")
OTHER = ("licences.licence", "L1")


@pytest.fixture
def chains():
    keys.active_key("platform")  # the platform key's creation is itself audited
    for action in ("submitted", "accepted", "reviewed", "approved", "delivered"):
        audit.record(CASE, f"case.{action}", actor="clerk", data={"step": action})
    for action in ("issued", "revoked"):
        audit.record(OTHER, f"licence.{action}")


def event(subject, seq) -> AuditEvent:
    return audit.history(subject).get(seq=seq)


def run_verify(*args) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_intact_store_passes(chains):
    create_checkpoint()
    audit.record(CASE, "case.archived")  # not sealed yet: the chain still vouches for it
    out, error = run_verify()
    assert error is None
    assert "审计记录：3 个主体，9 条事件，1 个检查点（1 条事件尚未封存）；核对了 0 条办件、证照等记录的状态。" in out
    assert "校验通过" in out


def test_edited_row_is_named(chains):
    target = event(CASE, 3)
    AuditEvent.objects.filter(pk=target.pk).update(data={"step": "approved without review"})
    out, error = run_verify()
    assert error is not None and error.returncode == 1
    assert f"第一处断裂：cases.case:17 第3号事件（id {target.pk}）：事件内容被修改：重新计算的哈希与记录的不符。" in out
    assert verify_audit().first.kind == "edited"


def test_deleted_row_is_named(chains):
    AuditEvent.objects.filter(pk=event(CASE, 2).pk).delete()
    out, error = run_verify()
    assert error is not None
    assert "cases.case:17 第3号事件" in out and "缺少第2号事件：事件被删除。" in out


def test_several_deleted_rows(chains):
    AuditEvent.objects.filter(pk__in=[event(CASE, 2).pk, event(CASE, 3).pk]).delete()
    assert "缺少第2–3号事件" in str(verify_audit().first)


def test_reordered_rows_are_named(chains):
    a, b = event(CASE, 2), event(CASE, 3)
    AuditEvent.objects.filter(pk=a.pk).update(seq=99)
    AuditEvent.objects.filter(pk=b.pk).update(seq=2)
    AuditEvent.objects.filter(pk=a.pk).update(seq=3)
    problem = verify_audit().first
    assert problem.kind == "reordered" and problem.seq == 2
    assert str(problem).endswith("事件顺序被改动：它链接的前一事件（现为第3号）排在它之后。")


def test_edit_with_recomputed_hash_breaks_the_next_link(chains):
    target = event(CASE, 2)
    target.data = {"step": "forged"}
    target.hash = audit.event_hash(target)
    AuditEvent.objects.filter(pk=target.pk).update(data=target.data, hash=target.hash)
    problem = verify_audit().first
    assert problem.kind == "relinked" and problem.seq == 3
    assert "与第2号事件的链接断开" in problem.message


def test_first_broken_link_is_the_earliest_in_history(chains):
    AuditEvent.objects.filter(pk=event(OTHER, 2).pk).update(action="licence.suspended")
    AuditEvent.objects.filter(pk=event(CASE, 4).pk).update(action="case.denied")
    report = verify_audit()
    assert [(p.subject, p.seq) for p in report.problems] == [("cases.case:17", 4), ("licences.licence:L1", 2)]
    out, _ = run_verify()
    assert "另有 1 处问题，使用 --all 列出。" in out
    out, _ = run_verify("--all")
    assert "licences.licence:L1 第2号事件" in out


def test_deleting_a_whole_checkpointed_chain_is_detected(chains):
    create_checkpoint()
    AuditEvent.objects.filter(subject_type="licences.licence", subject_id="L1").delete()
    out, error = run_verify()
    assert error is not None
    assert "第一处断裂：licences.licence:L1 第2号事件：检查点 #" in out
    assert "封存的事件（至第2号）已不存在：整条记录链被删除。" in out


def test_deleting_the_last_events_of_a_checkpointed_chain_is_detected(chains):
    create_checkpoint()
    AuditEvent.objects.filter(pk__in=[event(CASE, 4).pk, event(CASE, 5).pk]).delete()
    problem = verify_audit().first
    assert problem.kind == "chain_truncated" and problem.subject == "cases.case:17"
    assert "封存到第5号事件，现只剩到第3号" in problem.message


def test_rewriting_a_chain_tail_with_fresh_hashes_is_detected(chains):
    create_checkpoint()
    last = event(CASE, 5)
    last.data = {"step": "forged"}
    last.hash = audit.event_hash(last)
    AuditEvent.objects.filter(pk=last.pk).update(data=last.data, hash=last.hash)
    problem = verify_audit().first
    assert problem.kind == "chain_rewritten" and problem.subject == "cases.case:17"


def test_unexplained_removal_from_a_checkpoint_is_detected(chains):
    create_checkpoint()
    AuditEvent.objects.filter(pk=event(CASE, 2).pk).update(checkpoint=None)
    problem = verify_audit().first
    assert problem.kind == "checkpoint_events"
    assert "封存的 8 条事件现为 7 条" in problem.message


def test_edited_checkpoint_and_broken_checkpoint_chain(chains):
    first = create_checkpoint()
    audit.record(CASE, "case.archived")
    second = create_checkpoint()
    AuditCheckpoint.objects.filter(pk=first.pk).update(merkle_root="0" * 64)
    kinds = [p.kind for p in verify_audit().problems]
    assert kinds[:2] == ["checkpoint_edited", "checkpoint_signature"]
    AuditCheckpoint.objects.filter(pk=first.pk).update(merkle_root=first.merkle_root)
    AuditCheckpoint.objects.filter(pk=second.pk).update(prev_checkpoint_hash="1" * 64)
    assert "checkpoint_link" in [p.kind for p in verify_audit().problems]


def test_exit_code_of_the_cli(tmp_path):
    """The real command line: exit 0 on an intact store, non-zero and the broken link otherwise."""
    env = {
        **os.environ,
        "YIWANG_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }

    def yiwang(*args):
        return subprocess.run(
            [sys.executable, "-m", "yiwang.cli", *args], env=env, capture_output=True, text=True, check=False
        )

    assert yiwang("migrate", "--noinput", "-v0").returncode == 0
    script = "from yiwang.core import audit\nfor a in 'abc': audit.record(('cases.case', 1), a)"
    assert yiwang("shell", "-c", script).returncode == 0
    sealed = yiwang("audit-checkpoint")
    assert sealed.returncode == 0 and "检查点 #1：封存 4 条事件" in sealed.stdout  # 3 + the key's creation
    ok = yiwang("verify-audit")
    assert ok.returncode == 0 and "校验通过" in ok.stdout

    with sqlite3.connect(tmp_path / "cli.sqlite3") as db:
        db.execute("UPDATE core_auditevent SET actor = 'mallory' WHERE seq = 2")
    broken = yiwang("verify-audit")
    assert broken.returncode == 1
    assert "第一处断裂：cases.case:1 第2号事件" in broken.stdout
    assert "审计记录校验失败" in broken.stderr
