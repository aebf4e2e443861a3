"""Issue 18, defect 6: what holds personal data or secrets on disk is its owner's alone.
The SQLite database with its -wal and -shm, the data directory, the demo mailbox and its
messages, the secret files: files 0600, the directories we make 0700, under the usual
umask 022 (which made them 644 and 755 before)."""

from __future__ import annotations

import os
import stat
import uuid
from email.message import EmailMessage

import pytest
from sqlalchemy import text

from mienskip_notify.adapters.senders import MailboxSender
from mienskip_notify.domain.notifications import Notification
from mienskip_shared.db import make_engine
from mienskip_shared.links import secret_key


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_sqlite_database_its_wal_and_its_new_folders_are_private(tmp_path):
    data_dir = tmp_path / "var" / "demo"
    existing = mode(tmp_path)
    engine = make_engine(f"sqlite:///{data_dir / 'mienskip.sqlite3'}")
    with engine.begin() as tx:
        tx.execute(text("CREATE TABLE t (x TEXT)"))
        tx.execute(text("INSERT INTO t VALUES ('Durk Postma')"))
    with engine.connect() as conn:  # a reader keeps the WAL and its index around
        conn.execute(text("SELECT x FROM t")).all()
        for name in ("mienskip.sqlite3", "mienskip.sqlite3-wal", "mienskip.sqlite3-shm"):
            assert mode(data_dir / name) == 0o600, name
    engine.dispose()
    assert mode(data_dir) == 0o700 and mode(tmp_path / "var") == 0o700
    assert mode(tmp_path) == existing  # a folder that existed is left as it was


def test_an_existing_database_file_is_made_private_on_start(tmp_path):
    path = tmp_path / "mienskip.sqlite3"
    path.touch()
    os.chmod(path, 0o644)  # as an installation from before made it
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_the_demo_mailbox_and_its_messages_are_private(tmp_path):
    sender = MailboxSender(tmp_path / "data" / "mailbox")
    notification = Notification(key=uuid.uuid4().hex, source_event_id="e", source_event_type="assignment.approved",
                                request_id="r", kamer_id="kamer-1", recipient_kind="volunteer",
                                recipient="mailbox:kamer-1", channel="mailbox", template="volunteer_offer",
                                language="nl")
    message = EmailMessage()
    message["Subject"] = "Wil je helpen?"
    message.set_content("https://mienskip.example/v/vl1.secret-link")
    sender.send(notification, message)
    written = sender.path_for(notification)
    assert mode(written) == 0o600
    assert mode(written.parent) == 0o700 and mode(tmp_path / "data" / "mailbox") == 0o700
    assert mode(tmp_path / "data") == 0o700


def test_the_link_secret_and_its_folder_are_private(tmp_path):
    secret_key("", tmp_path / "data")
    assert mode(tmp_path / "data" / "secret_key") == 0o600 and mode(tmp_path / "data") == 0o700
