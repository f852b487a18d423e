"""The outbox and its sender, in-process: order, durability of state, refusals parked, backoff."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.outbox import Entry, Outbox, Outcome, Sender, State, Unavailable


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "kiosk.db")
    yield box
    box.close()


def add(outbox: Outbox, n: int) -> Entry:
    return outbox.add("grade", {"n": n}, lesson_id=1, teacher_id=7, summary=f"entry {n}")


def test_the_file_is_wal_with_full_sync(outbox: Outbox) -> None:
    assert outbox.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_an_entry_is_committed_before_add_returns(outbox: Outbox, tmp_path: Path) -> None:
    entry = add(outbox, 1)
    # Another connection (as after a kill -9 and restart) sees it at once.
    other = sqlite3.connect(tmp_path / "kiosk.db")
    row = other.execute("SELECT key, state FROM entries").fetchone()
    other.close()
    assert row == (entry.key, "saved")
    assert len(entry.key) == 36


def test_sender_sends_in_order_and_marks_synced(outbox: Outbox) -> None:
    entries = [add(outbox, n) for n in range(5)]
    sent: list[int] = []

    def send(entry: Entry) -> Outcome:
        sent.append(entry.payload["n"])
        return Outcome("synced", result={"status": "applied"})

    sender = Sender(outbox, send, can_send=lambda: True)
    while sender.step() is None:
        pass
    assert sent == [0, 1, 2, 3, 4]
    assert all(outbox.get(e.key).state is State.SYNCED for e in entries)  # type: ignore[union-attr]


def test_unavailable_keeps_the_entry_in_place_and_backs_off(outbox: Outbox) -> None:
    first, second = add(outbox, 1), add(outbox, 2)
    calls: list[str] = []

    def send(entry: Entry) -> Outcome:
        calls.append(entry.key)
        if len(calls) < 3:
            raise Unavailable("timeout")
        return Outcome("synced", result={"status": "duplicate"})

    sender = Sender(outbox, send, can_send=lambda: True, retry_base=0.5, retry_max=30)
    waits = [sender.step(), sender.step()]
    assert all(w is not None and 0 < w <= 30 for w in waits)
    assert calls == [first.key, first.key]  # never skips ahead of the unsent first entry
    assert outbox.get(first.key).attempts == 2  # type: ignore[union-attr]
    assert sender.step() is None
    assert sender.step() is None
    assert calls == [first.key, first.key, first.key, second.key]


def test_a_refused_entry_is_parked_not_dropped_and_the_queue_moves_on(outbox: Outbox) -> None:
    refused, fine = add(outbox, 1), add(outbox, 2)

    def send(entry: Entry) -> Outcome:
        if entry.key == refused.key:
            return Outcome("parked", code="pupil_not_in_lesson", message="Ucznia nie ma na liście.")
        return Outcome("synced", result={"status": "applied"})

    sender = Sender(outbox, send, can_send=lambda: True)
    sender.step()
    sender.step()
    parked = outbox.get(refused.key)
    assert parked is not None and parked.state is State.PARKED
    assert parked.refusal_message == "Ucznia nie ma na liście."
    assert outbox.get(fine.key).state is State.SYNCED  # type: ignore[union-attr]
    assert outbox.counts()["parked"] == 1
    assert outbox.resend(refused.key)
    assert outbox.next_unsent().key == refused.key  # type: ignore[union-attr]


def test_hold_keeps_the_entry_and_nothing_is_sent_while_offline(outbox: Outbox) -> None:
    entry = add(outbox, 1)
    sender = Sender(outbox, lambda e: Outcome("hold", code="device_revoked"), can_send=lambda: True)
    assert sender.step() == 60.0
    assert outbox.get(entry.key).state is State.SAVED  # type: ignore[union-attr]
    offline = Sender(outbox, lambda e: pytest.fail("sent while offline"), can_send=lambda: False)
    assert offline.step() == 60.0


def test_delivered_follows_synced_only(outbox: Outbox) -> None:
    entry = add(outbox, 1)
    assert not outbox.mark_delivered(entry.key)
    outbox.mark_synced(entry.key, {"status": "applied"})
    assert outbox.mark_delivered(entry.key)
    assert outbox.get(entry.key).state is State.DELIVERED  # type: ignore[union-attr]


def test_backoff_has_jitter_and_a_ceiling(outbox: Outbox) -> None:
    sender = Sender(outbox, lambda e: Outcome("synced"), can_send=lambda: True, retry_max=8)
    sender._failures = 20
    values = {round(sender.backoff(), 3) for _ in range(50)}
    assert len(values) > 10
    assert max(values) <= 8


def test_the_sender_thread_wakes_on_a_new_entry(outbox: Outbox) -> None:
    done = threading.Event()

    def send(entry: Entry) -> Outcome:
        done.set()
        return Outcome("synced", result={})

    sender = Sender(outbox, send, can_send=lambda: True)
    sender.start()
    try:
        add(outbox, 1)
        assert done.wait(5)
    finally:
        sender.stop()


def test_a_stopped_sender_can_be_joined(outbox: Outbox) -> None:
    # Thread.join() and is_alive() call the thread's own _stop(): the sender must not shadow it.
    sender = Sender(outbox, lambda entry: Outcome("synced", result={}), can_send=lambda: True)
    sender.start()
    sender.stop()
    sender.join(5)
    assert not sender.is_alive()


def test_cache_is_separate_from_entries(outbox: Outbox) -> None:
    add(outbox, 1)
    outbox.cache_put("roster:5", {"pupils": [1, 2]})
    outbox.cache_put("room_day", {"lessons": []})
    outbox.cache_delete("roster:")
    assert outbox.cache_get("roster:5") is None
    assert outbox.cache_get("room_day") == {"lessons": []}
    outbox.cache_delete()
    assert outbox.cache_get("room_day") is None
    assert outbox.counts()["saved"] == 1


def test_entries_refused_for_an_ended_session_go_again_under_the_new_one(outbox: Outbox) -> None:
    mine = outbox.add("grade", {"n": 1}, lesson_id=1, teacher_id=7, auth={"session": "old"})
    other = outbox.add("grade", {"n": 2}, lesson_id=1, teacher_id=8, auth={"session": "x"})
    invalid = outbox.add("grade", {"n": 3}, lesson_id=1, teacher_id=7, auth={"session": "old"})
    outbox.mark_parked(mine.key, "session_ended", "Sesja nauczyciela zakończyła się.")
    outbox.mark_parked(other.key, "session_ended", "Sesja nauczyciela zakończyła się.")
    outbox.mark_parked(invalid.key, "grade_invalid", "Nieprawidłowa ocena.")
    assert outbox.requeue_for_teacher(7, ("session_ended",), "new") == 1
    again = outbox.get(mine.key)
    assert again is not None and again.state is State.SAVED and again.auth["session"] == "new"
    assert outbox.get(other.key).state is State.PARKED  # type: ignore[union-attr]
    assert outbox.get(invalid.key).state is State.PARKED  # type: ignore[union-attr]


def test_conflicts_reported_by_the_server_are_shown(outbox: Outbox) -> None:
    entry = add(outbox, 1)
    conflicts = [{"pupil_id": 3, "base": None, "server": "nb", "wanted": "ob"}]
    outbox.mark_synced(entry.key, {"status": "applied", "result": {"conflicts": conflicts}})
    assert outbox.get(entry.key).public()["conflicts"] == conflicts  # type: ignore[union-attr]
