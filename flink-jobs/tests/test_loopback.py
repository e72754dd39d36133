"""Every Flink the project starts in a Python process listens on loopback only, takes no jar uploads, and lets no
other web origin read its REST API."""

import pytest

import flink_job
import reference_job

LOOPBACK_KEYS = ("rest.bind-address", "rest.address", "jobmanager.bind-host", "jobmanager.rpc.address",
                 "taskmanager.bind-host", "taskmanager.host")


def job_conf():
    a = flink_job.parse_args(["--connector-jar", "/c.jar", "--job-lib-jar", "/j.jar", "--rest-port", "18081"])
    return flink_job.flink_configuration(a, None)


def reference_conf():
    return reference_job.configuration(reference_job.parse_args(
        ["--topic", "t", "--connector-jar", "/c.jar", "--rest-port", "18081"]))


@pytest.mark.parametrize("conf", [job_conf, reference_conf], ids=["flink_job", "reference_job"])
def test_every_server_on_loopback_no_uploads_only_its_own_origin(conf):
    c = conf()
    for key in LOOPBACK_KEYS:
        assert c.get(key) == "127.0.0.1", f"{key} is {c.get(key)!r}"
    assert c["rest.port"] == "18081"
    assert c["web.submit.enable"] == "false"
    assert c["web.access-control-allow-origin"] == "http://127.0.0.1:18081"
