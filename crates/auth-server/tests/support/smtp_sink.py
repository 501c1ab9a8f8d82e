#!/usr/bin/env python3
"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1.

Usage: smtp_sink.py DIR [--port PORT] [--reject-domain DOMAIN] [--starttls TLS_DIR]

Prints "listening PORT" on stdout once it accepts connections (PORT 0 or absent: a free one).
Each message it accepts becomes DIR/message-NNNN.json, written whole (a temporary file renamed),
holding the envelope and what Python's email package reads from the message: its headers, its
content type, and each leaf part's content type and decoded text. Each recipient refused with
--reject-domain (550) becomes DIR/rejected-NNNN.json. With --starttls, it makes a test CA
(TLS_DIR/ca.pem, for the client to trust) and a certificate it signs for localhost and
127.0.0.1 (needs the cryptography package), offers STARTTLS with it, and refuses mail before it.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import logging
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


def make_tls(folder):
    """A CA and a server certificate it signs; returns (cert file, key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)

    def name(common):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("smtp sink test CA"))
        .issuer_name(name("smtp sink test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - day)
        .not_valid_after(now + day)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - day)
        .not_valid_after(now + day)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(folder, "ca.pem"), "wb") as out:
        out.write(ca.public_bytes(pem))
    cert_file = os.path.join(folder, "server.pem")
    key_file = os.path.join(folder, "server.key")
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(pem))
    with open(key_file, "wb") as out:
        out.write(
            key.private_bytes(
                pem,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_file, key_file


class Sink:
    def __init__(self, folder, reject_domain):
        self.folder = folder
        self.reject_domain = reject_domain
        self.numbers = itertools.count(1)

    def write(self, prefix, record):
        path = os.path.join(self.folder, f"{prefix}-{next(self.numbers):04}.json")
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_domain and address.lower().endswith("@" + self.reject_domain):
            self.write("rejected", {"rcpt": address})
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = [
            {"content_type": part.get_content_type(), "text": part.get_content()}
            for part in message.walk()
            if not part.is_multipart()
        ]
        self.write(
            "message",
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "tls": session.ssl is not None,
                "headers": {name: str(value) for name, value in message.items()},
                "content_type": message.get_content_type(),
                "parts": parts,
            },
        )
        return "250 Message accepted"


async def main():
    # The tests provoke failed sessions on purpose (an untrusted certificate, a hang-up):
    # aiosmtpd's tracebacks about them would only clutter the test output.
    logging.getLogger("mail.log").addHandler(logging.NullHandler())
    logging.getLogger("mail.log").propagate = False
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject-domain")
    parser.add_argument("--starttls", metavar="TLS_DIR")
    args = parser.parse_args()
    sink = Sink(args.folder, args.reject_domain)
    context = None
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*make_tls(args.starttls))

    def protocol():
        return SMTP(
            sink,
            hostname="sink.test",
            tls_context=context,
            require_starttls=context is not None,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    # Until the test kills us, or closes our standard input.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
