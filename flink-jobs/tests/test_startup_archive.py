"""The start-up archive's rehearsal: a failure leaves a note beside the runtime (so it is not retried at every
start) and no half-written archive; success renames the whole archive into place."""

import os

import startup_archive


def test_a_failed_rehearsal_leaves_its_reason_and_no_partial_archive(tmp_path, monkeypatch):
    partial = tmp_path / f"start-up.jsa.tmp-{os.getpid()}"

    def broken(argv):
        partial.write_bytes(b"half an archive")
        raise RuntimeError("the gateway JVM died")

    monkeypatch.setattr(startup_archive, "main", broken)
    assert startup_archive.run(["--runtime-dir", str(tmp_path)]) == 1
    assert (tmp_path / startup_archive.START_UP_FAILED).read_text() == "RuntimeError: the gateway JVM died"
    assert not partial.exists()
    assert not (tmp_path / "start-up.jsa").exists()


def test_a_rehearsal_that_wrote_no_archive_is_noted_too(tmp_path, monkeypatch):
    monkeypatch.setattr(startup_archive, "main", lambda argv: 1)
    assert startup_archive.run(["--runtime-dir", str(tmp_path)]) == 1
    assert "wrote no class archive" in (tmp_path / startup_archive.START_UP_FAILED).read_text()


def test_success_leaves_no_note(tmp_path, monkeypatch):
    monkeypatch.setattr(startup_archive, "main", lambda argv: 0)
    assert startup_archive.run(["--runtime-dir", str(tmp_path)]) == 0
    assert not (tmp_path / startup_archive.START_UP_FAILED).exists()
