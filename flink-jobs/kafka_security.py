"""TLS and SASL for the generator and the job when they talk to a secured cluster.

The flags say how (--security-protocol, --sasl-mechanism, --sasl-username); the password never comes from the
command line, which every user of the machine can read (/proc/<pid>/cmdline): it comes from a file only its owner
can read, named by PIPELINE_SASL_PASSWORD_FILE (mode 0600), or from PIPELINE_SASL_PASSWORD. The `pipeline` CLI sets
one of them for exactly the cluster the process is pointed at.

A cluster with a private CA: --tls-ca-file names a PEM file of the CA(s) to trust instead of the system's, for
librdkafka (`ssl.ca.location`) and for the job's Java Kafka clients (a PEM truststore, Kafka's
`ssl.truststore.type=PEM`).
"""

from __future__ import annotations

import argparse
import os

PASSWORD_ENV = "PIPELINE_SASL_PASSWORD"
PASSWORD_FILE_ENV = "PIPELINE_SASL_PASSWORD_FILE"
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

# The Flink SQL Kafka connector bundles the Kafka client shaded under this package: its login modules too.
SHADED_KAFKA = "org.apache.flink.kafka.shaded."
LOGIN_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


class SecurityError(ValueError):
    """The security settings or the password cannot be used; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("secured cluster (the password: env PIPELINE_SASL_PASSWORD_FILE or PIPELINE_SASL_PASSWORD)")
    g.add_argument("--security-protocol", choices=PROTOCOLS, default="PLAINTEXT")
    g.add_argument("--sasl-mechanism", choices=MECHANISMS)
    g.add_argument("--sasl-username")
    g.add_argument("--tls-ca-file", help="PEM file of the CA(s) that signed the brokers' certificates (SSL, SASL_SSL)")


def problem(a: argparse.Namespace) -> str | None:
    """One sentence on what is missing, or None."""
    if uses_sasl(a) and not (a.sasl_mechanism and a.sasl_username):
        return f"--security-protocol {a.security_protocol} needs --sasl-mechanism and --sasl-username"
    if ca_file(a) and not uses_tls(a):
        return f"--tls-ca-file needs --security-protocol SSL or SASL_SSL (got {a.security_protocol})"
    return None


def uses_tls(a: argparse.Namespace) -> bool:
    return getattr(a, "security_protocol", "PLAINTEXT") in ("SSL", "SASL_SSL")


def ca_file(a: argparse.Namespace) -> str | None:
    return getattr(a, "tls_ca_file", None) or None


# librdkafka's words for a broker certificate it does not trust (OpenSSL's verify errors).
_UNTRUSTED = ("certificate verify failed", "broker certificate could not be verified", "self-signed certificate",
              "self signed certificate", "unable to get local issuer certificate")


def untrusted_certificate(bootstrap_servers: str, a: argparse.Namespace, error: str) -> str | None:
    """What to do when `error` says the broker's certificate is not trusted, else None; names the setting to change."""
    if not any(w in error.lower() for w in _UNTRUSTED):
        return None
    where = "kafkaFlinkLab.tlsCaFile (CLI: --tls-ca-file or PIPELINE_TLS_CA_FILE)"
    if ca_file(a):
        return (f"Kafka at {bootstrap_servers} sent a TLS certificate that the CA in {ca_file(a)} did not sign: "
                f"name the CA that signed it in {where}")
    return (f"Kafka at {bootstrap_servers} sent a TLS certificate that the system's CAs do not trust: "
            f"if the cluster has its own CA, name its PEM file in {where}")


def uses_sasl(a: argparse.Namespace) -> bool:
    return getattr(a, "security_protocol", "PLAINTEXT").startswith("SASL_")


def read_password(env=None) -> str:
    """The SASL password: from a file only its owner can read, else from the environment."""
    env = os.environ if env is None else env
    path = env.get(PASSWORD_FILE_ENV)
    if path:
        try:
            st = os.stat(path)
        except OSError as e:
            raise SecurityError(f"{PASSWORD_FILE_ENV} names {path}, which cannot be read ({e.strerror})") from e
        if st.st_mode & 0o077 or st.st_uid != os.getuid():
            raise SecurityError(f"the SASL password file {path} can be read by others (mode {st.st_mode & 0o777:o}): "
                                f"chmod 600 {path}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text[:-1] if text.endswith("\n") else text
    password = env.get(PASSWORD_ENV)
    if not password:
        raise SecurityError(f"SASL needs the password in {PASSWORD_FILE_ENV} (a 0600 file) or {PASSWORD_ENV}")
    return password


def _secured(a: argparse.Namespace, env) -> tuple[str, tuple[str, str, str] | None] | None:
    """(security.protocol, (mechanism, user, password) or None) of a secured cluster; None for plaintext."""
    protocol = getattr(a, "security_protocol", "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return None
    return protocol, ((a.sasl_mechanism, a.sasl_username, read_password(env)) if uses_sasl(a) else None)


def librdkafka_config(a: argparse.Namespace, env=None) -> dict:
    """confluent_kafka (librdkafka) settings for the cluster: nothing for plaintext."""
    secured = _secured(a, env)
    if not secured:
        return {}
    protocol, sasl = secured
    return {"security.protocol": protocol,
            **({"ssl.ca.location": ca_file(a)} if uses_tls(a) and ca_file(a) else {}),
            **(dict(zip(("sasl.mechanisms", "sasl.username", "sasl.password"), sasl)) if sasl else {})}


def _jaas_quoted(value: str) -> str:
    # Kafka reads sasl.jaas.config with a StreamTokenizer: inside double quotes, backslash escapes.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flink_kafka_options(a: argparse.Namespace, env=None) -> dict:
    """The `properties.*` options of a Flink Kafka table (source or sink) for the cluster: nothing for plaintext."""
    secured = _secured(a, env)
    if not secured:
        return {}
    protocol, sasl = secured
    opts = {"properties.security.protocol": protocol}
    if uses_tls(a) and ca_file(a):
        # Kafka's Java client reads a PEM file as its truststore (KIP-651): no JKS to make.
        opts["properties.ssl.truststore.type"] = "PEM"
        opts["properties.ssl.truststore.location"] = ca_file(a)
    if sasl:
        mechanism, username, password = sasl
        opts["properties.sasl.mechanism"] = mechanism
        opts["properties.sasl.jaas.config"] = (f"{SHADED_KAFKA}{LOGIN_MODULES[mechanism]} required "
                                               f"username={_jaas_quoted(username)} password={_jaas_quoted(password)};")
    return opts
