#!/usr/bin/env python3
"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1.

Usage: smtp_sink.py DIR [--port PORT] [--reject-domain DOMAIN] [--starttls CERT KEY]

Prints "listening PORT" on stdout once it accepts connections (PORT 0 or absent: a free one).
Each message it accepts becomes DIR/message-NNNN.json, written whole (a temporary file renamed),
holding the envelope and what Python's email package reads from the message: its headers, its
content type, and each leaf part's content type and decoded text. Each recipient refused with
--reject-domain (550) becomes DIR/rejected-NNNN.json. With --starttls, the server offers
STARTTLS with that certificate and refuses mail before it.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


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
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reject-domain")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    sink = Sink(args.folder, args.reject_domain)
    context = None
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.starttls)

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
