"""TLS/SASL settings of the generator and the job: flags for how, the password only from a 0600 file or the env."""

import os

import pytest

import data_generator as g
import flink_job as fj
import kafka_security as ks

SASL = ["--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", "PLAIN", "--sasl-username", "alice"]


def test_plaintext_adds_nothing():
    a = g.parse_args([])
    assert ks.librdkafka_config(a, env={}) == {}
    assert ks.flink_kafka_options(a, env={}) == {}


def test_the_generator_gets_sasl_settings_and_the_password_from_the_environment():
    a = g.parse_args(SASL)
    assert ks.librdkafka_config(a, env={ks.PASSWORD_ENV: "s3cret"}) == {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN", "sasl.username": "alice", "sasl.password": "s3cret"}
    tls_only = g.parse_args(["--security-protocol", "SSL"])
    assert ks.librdkafka_config(tls_only, env={}) == {"security.protocol": "SSL"}


def test_the_password_is_never_a_flag():
    with pytest.raises(SystemExit):
        g.parse_args([*SASL, "--sasl-password", "s3cret"])
    with pytest.raises(SystemExit):
        fj.parse_args(["--connector-jar", "/x.jar", *SASL, "--sasl-password", "s3cret"])


def test_sasl_needs_mechanism_and_user():
    with pytest.raises(SystemExit):
        g.parse_args(["--security-protocol", "SASL_SSL"])
    with pytest.raises(SystemExit):
        fj.parse_args(["--connector-jar", "/x.jar", "--security-protocol", "SASL_SSL", "--sasl-mechanism", "PLAIN"])


def test_a_password_file_must_be_readable_by_its_owner_only(tmp_path):
    f = tmp_path / "pw"
    f.write_text("from-file\n")
    os.chmod(f, 0o644)
    with pytest.raises(ks.SecurityError, match="chmod 600"):
        ks.read_password({ks.PASSWORD_FILE_ENV: str(f), ks.PASSWORD_ENV: "from-env"})
    os.chmod(f, 0o600)
    assert ks.read_password({ks.PASSWORD_FILE_ENV: str(f), ks.PASSWORD_ENV: "from-env"}) == "from-file"
    with pytest.raises(ks.SecurityError, match="cannot be read"):
        ks.read_password({ks.PASSWORD_FILE_ENV: str(tmp_path / "missing")})
    with pytest.raises(ks.SecurityError, match=ks.PASSWORD_ENV):
        ks.read_password({})


def test_the_job_source_and_alerts_sink_carry_the_same_sasl_options(monkeypatch):
    monkeypatch.setenv(ks.PASSWORD_ENV, 'p"w\\x')
    a = fj.parse_args(["--connector-jar", "/x.jar", *SASL])
    jaas = ('org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required '
            'username="alice" password="p\\"w\\\\x";')
    assert fj.kafka_security_options(a) == {
        "properties.security.protocol": "SASL_PLAINTEXT", "properties.sasl.mechanism": "PLAIN", "properties.sasl.jaas.config": jaas}
    for ddl in (fj.source_ddl(a), fj.alerts_kafka_ddl(a)):
        assert "'properties.security.protocol' = 'SASL_PLAINTEXT'" in ddl
        assert "'properties.sasl.mechanism' = 'PLAIN'" in ddl
        assert fj.sql_str(jaas) in ddl


def test_scram_uses_the_shaded_scram_login_module():
    a = g.parse_args(["--security-protocol", "SASL_SSL", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", "bob"])
    opts = ks.flink_kafka_options(a, env={ks.PASSWORD_ENV: "pw"})
    assert opts["properties.sasl.jaas.config"].startswith(
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required ")
    assert opts["properties.security.protocol"] == "SASL_SSL"


def test_a_private_ca_goes_to_librdkafka_and_to_the_java_clients_as_a_pem_truststore():
    gen = g.parse_args(["--security-protocol", "SSL", "--tls-ca-file", "/etc/corp-ca.pem"])
    assert ks.librdkafka_config(gen, env={}) == {"security.protocol": "SSL", "ssl.ca.location": "/etc/corp-ca.pem"}
    a = fj.parse_args(["--connector-jar", "/x.jar", *SASL[:1], "SASL_SSL", *SASL[2:], "--tls-ca-file", "/etc/corp-ca.pem"])
    opts = ks.flink_kafka_options(a, env={ks.PASSWORD_ENV: "s3cret"})
    assert opts["properties.security.protocol"] == "SASL_SSL"
    assert opts["properties.ssl.truststore.type"] == "PEM"
    assert opts["properties.ssl.truststore.location"] == "/etc/corp-ca.pem"
    assert "ssl.truststore.location" not in ks.flink_kafka_options(fj.parse_args(["--connector-jar", "/x.jar",
                                                                                  "--security-protocol", "SSL"]), env={})
    with pytest.raises(SystemExit):
        g.parse_args(["--tls-ca-file", "/etc/corp-ca.pem"])  # a CA without TLS


def test_an_untrusted_certificate_names_the_cluster_and_the_setting():
    librdkafka = ("ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify "
                  "failed: broker certificate could not be verified, verify that ssl.ca.location is correctly configured")
    a = g.parse_args(["--security-protocol", "SSL", "--tls-ca-file", "/etc/other-ca.pem"])
    msg = ks.untrusted_certificate("127.0.0.1:9093", a, librdkafka)
    assert msg.startswith("Kafka at 127.0.0.1:9093 sent a TLS certificate that the CA in /etc/other-ca.pem did not sign")
    assert "kafkaFlinkLab.tlsCaFile (CLI: --tls-ca-file" in msg
    assert "system's CAs" in ks.untrusted_certificate("127.0.0.1:9093", g.parse_args(["--security-protocol", "SSL"]), librdkafka)
    assert ks.untrusted_certificate("127.0.0.1:9093", a, "Connect to ipv4#127.0.0.1:9093 failed: Connection refused") is None
