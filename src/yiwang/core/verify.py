"""Verification of the audit store: every subject's hash chain and every signed checkpoint.

What each check catches:
- a chain: an edited event (its hash no longer matches its content), a deleted event (a gap in the
  sequence numbers), reordered events (an event links to one that comes after it), and an event
  edited together with its recomputed hash (the next event's link breaks);
- a checkpoint: whatever the chains cannot show once events are sealed — the last events of a chain
  or a whole subject's chain deleted, or a chain rewritten from some event to its end — through the
  Merkle root, the event count and each subject's last sealed event; plus the checkpoint chain itself
  (a checkpoint edited or deleted) and its SM2 signature.

- the rows of the subjects that keep a state (``audit.STATEFUL``: cases, licences): a row without
  any chain (written around the services, or its whole chain deleted before it was sealed) and a
  row whose state differs from the one its chain's events last recorded (changed around the audit,
  or the chain's tail deleted or rewritten before it was sealed).

Problems are reported chain problems first (in the order of the events' ids, so the first one is
the earliest broken link in history), then checkpoint problems not already explained by a chain, then row problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from . import keys
from .audit import (
    GENESIS,
    STATEFUL,
    StatefulSubject,
    checkpoint_payload,
    event_hash,
    heads_of,
    merkle_root,
    subject_label,
)
from .models import AuditCheckpoint, AuditEvent
from .sm import sm3_hex


@dataclass(frozen=True)
class Problem:
    kind: str  # edited | deleted | reordered | relinked | checkpoint_* | chain_* | row_without_chain | state_differs
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
    rows: int = 0  # rows of stateful subjects checked against their chains
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


ROW_BATCH = 2000  # rows read per query when comparing states
NAMED_ROWS = 20  # rows without a chain named one by one; the count covers the rest


def _recorded_state(kind: StatefulSubject, chain: list[AuditEvent]) -> tuple[Any, int] | None:
    """The state the chain last recorded and that event's seq, or None if it records none."""
    for event in reversed(chain):
        state = kind.state_of(event.data) if isinstance(event.data, dict) else None
        if state is not None:
            return state, event.seq
    return None


def _compare_states(kind: StatefulSubject, recorded: dict[str, tuple[Any, int]]) -> list[Problem]:
    """One query for a batch of subjects: the rows whose state is not their chain's."""
    found = []
    rows = kind.model.objects.filter(pk__in=list(recorded)).values_list("pk", kind.field)
    for pk, state in rows:
        label = subject_label(kind.model._meta.label_lower, str(pk))
        said, seq = recorded[str(pk)]
        if str(state) != str(said):
            message = _(
                "记录中的状态为“%(row)s”，记录链最后记载的是“%(chain)s”：状态未经审计被修改，或记录链末尾被删改。"
            ) % {
                "row": state,
                "chain": said,
            }
            found.append(Problem("state_differs", label, seq, None, message))
    return found


def _rows_without_chain(kind: StatefulSubject) -> tuple[int, list[Problem]]:
    """Rows with no event at all (an anti-join over the chain index); (how many rows, problems)."""
    subject_type = kind.model._meta.label_lower
    chained = AuditEvent.objects.filter(subject_type=subject_type, subject_id=OuterRef("subject_key"))
    orphans = kind.model.objects.annotate(subject_key=Cast("pk", CharField())).filter(~Exists(chained))
    total = kind.model.objects.count()
    named = list(orphans.order_by("pk").values_list("pk", flat=True)[:NAMED_ROWS])
    if not named:
        return total, []
    count = orphans.count() if len(named) == NAMED_ROWS else len(named)
    message = _("没有任何审计事件：这一行未经平台服务写入，或其整条记录链被删除。")
    found = [Problem("row_without_chain", subject_label(subject_type, str(pk)), None, None, message) for pk in named]
    if count > len(named):
        rest = _("另有 %(n)d 行同样没有审计事件。") % {"n": count - len(named)}
        found.append(Problem("row_without_chain", subject_type, None, None, rest))
    return total, found


def verify_audit() -> Report:
    """Check every chain, every checkpoint and every stateful row against its chain. Reads the whole
    audit table once, streaming; the rows in batches of ``ROW_BATCH``."""
    report = Report()
    chain_problems: list[Problem] = []
    row_problems: list[Problem] = []
    recorded: dict[str, dict[str, tuple[Any, int]]] = {label: {} for label in STATEFUL}
    for label, chain in _chains():
        report.subjects += 1
        report.events += len(chain)
        report.unsealed += sum(1 for e in chain if e.checkpoint_id is None)
        problem = check_chain(label, chain)
        if problem:
            chain_problems.append(problem)
            continue  # the broken chain is the finding; its state says nothing more
        subject_type, subject_id = chain[0].subject_type, chain[0].subject_id
        kind = STATEFUL.get(subject_type)
        if kind is not None and (state := _recorded_state(kind, chain)) is not None:
            batch = recorded[subject_type]
            batch[subject_id] = state
            if len(batch) >= ROW_BATCH:
                row_problems += _compare_states(kind, batch)
                batch.clear()
    for subject_type, batch in recorded.items():
        if batch:
            row_problems += _compare_states(STATEFUL[subject_type], batch)
    for kind in STATEFUL.values():
        rows, problems = _rows_without_chain(kind)
        report.rows += rows
        row_problems += problems
    chain_problems.sort(key=lambda p: p.event_id or 0)
    report.checkpoints, checkpoint_problems = check_checkpoints({p.subject for p in chain_problems})
    report.problems = chain_problems + checkpoint_problems + row_problems
    return report
