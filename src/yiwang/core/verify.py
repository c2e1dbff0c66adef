"""Verification of the audit store: every subject's hash chain and every signed checkpoint.

What each check catches:
- a chain: an edited event (its hash no longer matches its content), a deleted event (a gap in the
  sequence numbers), reordered events (an event links to one that comes after it), and an event
  edited together with its recomputed hash (the next event's link breaks);
- a checkpoint: whatever the chains cannot show once events are sealed — the last events of a chain
  or a whole subject's chain deleted, or a chain rewritten from some event to its end — through the
  Merkle root, the event count and each subject's last sealed event; plus the checkpoint chain itself
  (a checkpoint edited or deleted) and its SM2 signature.

Problems are reported chain problems first (in the order of the events' ids, so the first one is
the earliest broken link in history), then checkpoint problems not already explained by a chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import keys
from .audit import GENESIS, checkpoint_payload, event_hash, heads_of, merkle_root, subject_label
from .models import AuditCheckpoint, AuditEvent
from .sm import sm3_hex


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | reordered | relinked | checkpoint_* | chain_missing | chain_truncated
    subject: str  # "type:id", or "checkpoint #n"
    seq: int | None
    event_id: int | None
    message: str

    def __str__(self) -> str:
        where = self.subject + (_(" 第%(seq)d号事件") % {"seq": self.seq} if self.seq else "")
        if self.event_id:
            where += f"（id {self.event_id}）"
        return f"{where}：{self.message}"


@dataclass
class Report:
    subjects: int = 0
    events: int = 0
    checkpoints: int = 0
    unsealed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _chains() -> Iterator[tuple[str, list[AuditEvent]]]:
    """Each subject's events in sequence order, one subject at a time (the table is streamed)."""
    current: str | None = None
    chain: list[AuditEvent] = []
    events = AuditEvent.objects.order_by("subject_type", "subject_id", "seq").iterator(chunk_size=2000)
    for event in events:
        label = subject_label(event.subject_type, event.subject_id)
        if label != current:
            if chain:
                yield current, chain
            current, chain = label, []
        chain.append(event)
    if chain:
        yield current, chain


def check_chain(label: str, chain: list[AuditEvent]) -> Problem | None:
    """The first broken link of one subject's chain (later breaks follow from it), or None."""
    position = {event.hash: event.seq for event in chain}
    expected_seq, expected_prev = 1, GENESIS
    for event in chain:
        if event.seq != expected_seq:
            missing = str(expected_seq) if event.seq == expected_seq + 1 else f"{expected_seq}–{event.seq - 1}"
            return Problem(
                "deleted",
                label,
                event.seq,
                event.id,
                _("缺少第%(missing)s号事件：事件被删除。") % {"missing": missing},
            )
        if event.prev_hash != expected_prev:
            if event.prev_hash == GENESIS:
                message = _("事件顺序被改动：它原是这条链的第一个事件。")
                return Problem("reordered", label, event.seq, event.id, message)
            if position.get(event.prev_hash, 0) > event.seq:
                message = _("事件顺序被改动：它链接的前一事件（现为第%(other)d号）排在它之后。") % {
                    "other": position[event.prev_hash]
                }
                return Problem("reordered", label, event.seq, event.id, message)
            return Problem(
                "relinked",
                label,
                event.seq,
                event.id,
                _("与第%(prev)d号事件的链接断开：第%(prev)d号事件被修改或替换（其哈希被重新计算）。")
                % {"prev": event.seq - 1},
            )
        if event_hash(event) != event.hash:
            return Problem("edited", label, event.seq, event.id, _("事件内容被修改：重新计算的哈希与记录的不符。"))
        expected_seq, expected_prev = expected_seq + 1, event.hash
    return None


def check_checkpoints(chain_problem_subjects: set[str]) -> tuple[int, list[Problem]]:
    """Re-hash every checkpoint, its signature, its link to the previous one and the events it sealed."""
    problems: list[Problem] = []
    expected_prev = ""
    count = 0
    for checkpoint in AuditCheckpoint.objects.order_by("id").iterator(chunk_size=100):
        count += 1
        name = _("检查点 #%(id)d") % {"id": checkpoint.pk}
        payload = checkpoint_payload(checkpoint)
        if checkpoint.prev_checkpoint_hash != expected_prev:
            problems.append(
                Problem(
                    "checkpoint_link",
                    name,
                    None,
                    None,
                    _("与上一个检查点的链接断开：之前的检查点被删除或修改。"),
                )
            )
        if sm3_hex(payload) != checkpoint.hash:
            problems.append(Problem("checkpoint_edited", name, None, None, _("检查点内容被修改：哈希不符。")))
        if not keys.verify(checkpoint.key_id, payload, bytes(checkpoint.signature)):
            problems.append(
                Problem(
                    "checkpoint_signature",
                    name,
                    None,
                    None,
                    _("平台签名无效（密钥 %(key)s）。") % {"key": checkpoint.key_id},
                )
            )
        rows = list(
            AuditEvent.objects.filter(checkpoint=checkpoint)
            .order_by("id")
            .values_list("id", "subject_type", "subject_id", "seq", "hash")
        )
        if len(rows) != checkpoint.event_count or merkle_root([r[4] for r in rows]) != checkpoint.merkle_root:
            problems.extend(_explain_sealed_mismatch(name, checkpoint, rows, chain_problem_subjects))
        expected_prev = checkpoint.hash
    return count, problems


def _explain_sealed_mismatch(
    name: str, checkpoint: AuditCheckpoint, rows: list[tuple], chain_problem_subjects: set[str]
) -> list[Problem]:
    now = heads_of([r[1:] for r in rows])
    found: list[Problem] = []
    for label, (seq, hash_) in sorted(checkpoint.heads.items()):
        if label in chain_problem_subjects:
            continue  # already reported, at the exact event, by the chain check
        if label not in now:
            left = AuditEvent.objects.filter(
                subject_type=label.split(":", 1)[0], subject_id=label.split(":", 1)[1]
            ).count()
            message = (
                _("%(cp)s 封存的事件（至第%(seq)d号）已不存在：整条记录链被删除。")
                if left == 0
                else _("%(cp)s 封存的事件（至第%(seq)d号）已不存在：事件被删除。")
            ) % {"cp": name, "seq": seq}
            found.append(Problem("chain_missing", label, seq, None, message))
        elif now[label][0] != seq:
            found.append(
                Problem(
                    "chain_truncated",
                    label,
                    seq,
                    None,
                    _("%(cp)s 封存到第%(seq)d号事件，现只剩到第%(now)d号：末尾的事件被删除。")
                    % {"cp": name, "seq": seq, "now": now[label][0]},
                )
            )
        elif now[label][1] != hash_:
            found.append(
                Problem(
                    "chain_rewritten",
                    label,
                    seq,
                    None,
                    _("与 %(cp)s 封存的哈希不符：这条链被改写并重新计算了哈希。") % {"cp": name},
                )
            )
    explained = bool(found) or any(label in chain_problem_subjects for label in checkpoint.heads)
    if not explained:
        found.append(
            Problem(
                "checkpoint_events",
                name,
                None,
                None,
                _("封存的 %(n)d 条事件现为 %(m)d 条，Merkle 根不符：事件被删除、修改或移出检查点。")
                % {"n": checkpoint.event_count, "m": len(rows)},
            )
        )
    return found


def verify_audit() -> Report:
    """Check every chain and every checkpoint. Reads the whole audit table once, streaming."""
    report = Report()
    chain_problems: list[Problem] = []
    for label, chain in _chains():
        report.subjects += 1
        report.events += len(chain)
        report.unsealed += sum(1 for e in chain if e.checkpoint_id is None)
        problem = check_chain(label, chain)
        if problem:
            chain_problems.append(problem)
    chain_problems.sort(key=lambda p: p.event_id or 0)
    report.checkpoints, checkpoint_problems = check_checkpoints({p.subject for p in chain_problems})
    report.problems = chain_problems + checkpoint_problems
    return report
