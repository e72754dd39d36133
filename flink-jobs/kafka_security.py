"""TLS and SASL for the generator and the job when they talk to a secured cluster.

The flags say how (--security-protocol, --sasl-mechanism, --sasl-username); the password never comes from the
command line, which every user of the machine can read (/proc/<pid>/cmdline): it comes from a file only its owner
can read, named by PIPELINE_SASL_PASSWORD_FILE (mode 0600), or from PIPELINE_SASL_PASSWORD. The `pipeline` CLI sets
one of them for exactly the cluster the process is pointed at.
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


def problem(a: argparse.Namespace) -> str | None:
    """One sentence on what is missing, or None."""
    if uses_sasl(a) and not (a.sasl_mechanism and a.sasl_username):
        return f"--security-protocol {a.security_protocol} needs --sasl-mechanism and --sasl-username"
    return None


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
    return {"security.protocol": protocol, **(dict(zip(("sasl.mechanisms", "sasl.username", "sasl.password"), sasl)) if sasl else {})}


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
    if sasl:
        mechanism, username, password = sasl
        opts["properties.sasl.mechanism"] = mechanism
        opts["properties.sasl.jaas.config"] = (f"{SHADED_KAFKA}{LOGIN_MODULES[mechanism]} required "
                                               f"username={_jaas_quoted(username)} password={_jaas_quoted(password)};")
    return opts
