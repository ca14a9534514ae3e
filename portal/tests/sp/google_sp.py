#!/usr/bin/python3
"""A SAML 2.0 service provider on loopback, configured the way Google Workspace is, for the
end-to-end tests of QuickCard's Chromebook sign-in.

Usage (the IdP is a running QuickCard portal with a [saml] section, or `serve --demo
--saml-sp-entity ENTITY --saml-acs http://127.0.0.1:PORT/acs`):

    /usr/bin/python3 portal/tests/sp/google_sp.py \\
        --idp-metadata-url http://127.0.0.1:8080/saml/metadata \\
        [--port 0] [--entity-id google.com/a/example.edu] [--domain example.edu] \\
        [--idp-metadata FILE] [--verbose]

It prints one line on stdout once it listens, then serves until killed:

    google_sp listening on http://127.0.0.1:PORT entity_id=ENTITY acs=http://127.0.0.1:PORT/acs

  GET  /login[?relay_state=TEXT]  302 to the IdP's sign-in URL with a fresh AuthnRequest
                                  (HTTP-Redirect binding) and a RelayState (Google-like by
                                  default); the request id becomes "outstanding".
  POST /acs                       the HTTP-POST binding (form fields SAMLResponse, RelayState):
                                  200 "signed in as <email>" when the response is accepted,
                                  403 "refused: <reason>" otherwise.
  GET  /results                   JSON list of every /acs outcome, oldest first:
                                  {"ok": true, "name_id", "in_response_to", "relay_state"} or
                                  {"ok": false, "error"}.
  GET  /info                      JSON {"entity_id", "acs_url", "idp_metadata_url"}.

The IdP metadata (and with it the IdP certificate, pinned from then on) is read from
--idp-metadata FILE, or fetched once from --idp-metadata-url on the first /login or /acs, so
the SP can start before the portal (whose config needs this SP's ACS URL).

The SP is pysaml2 (Debian's python3-pysaml2, which calls xmlsec1), an implementation
independent of QuickCard's, configured like Google:
  - the IdP certificate is pinned from the metadata (only_use_keys_in_metadata);
  - the Response AND the Assertion must be signed (want_response_signed,
    want_assertions_signed);
  - unsolicited responses are refused; InResponseTo must be an outstanding request id, which is
    removed once answered (a replayed response is refused); the RelayState must come back as
    it was sent;
  - Destination and Recipient must be this ACS URL, the Audience this entity id, and
    NotBefore/NotOnOrAfter must hold (no slack);
  - every SignatureMethod must be rsa-sha256 and every DigestMethod sha256 (checked here:
    pysaml2 7.0.1 would accept SHA-1).
"""
import argparse
import base64
import json
import logging
import os
import sys
import tempfile
import threading
import traceback
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

DS = "{http://www.w3.org/2000/09/xmldsig#}"
ALLOWED_SIG = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}
ALLOWED_DIGEST = {"http://www.w3.org/2001/04/xmlenc#sha256"}
MAX_FORM = 256 * 1024


def algorithm_policy(xml_bytes):
    root = ElementTree.fromstring(xml_bytes)
    for el in root.iter(DS + "SignatureMethod"):
        if el.get("Algorithm") not in ALLOWED_SIG:
            raise ValueError("signature algorithm not allowed: %s" % el.get("Algorithm"))
    for el in root.iter(DS + "DigestMethod"):
        if el.get("Algorithm") not in ALLOWED_DIGEST:
            raise ValueError("digest algorithm not allowed: %s" % el.get("Algorithm"))


class Sp:
    def __init__(self, args, base_url):
        self.args = args
        self.base_url = base_url
        self.acs_url = base_url + "/acs"
        self.lock = threading.Lock()
        self.client = None
        self.outstanding = {}  # request id -> relay state sent
        self.results = []

    def sp_client(self):
        if self.client is not None:
            return self.client
        path = self.args.idp_metadata
        if path is None:
            with urllib.request.urlopen(self.args.idp_metadata_url, timeout=10) as r:
                data = r.read()
            fd, path = tempfile.mkstemp(prefix="google_sp_idp_", suffix=".xml")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        conf = SPConfig()
        conf.load({
            "entityid": self.args.entity_id,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"local": [path]},
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)],
                    },
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "want_assertions_or_response_signed": True,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "only_use_keys_in_metadata": True,
                    "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                },
            },
        })
        self.client = Saml2Client(conf)
        return self.client

    def login(self, relay_state):
        with self.lock:
            sp = self.sp_client()
            req_id, info = sp.prepare_for_authenticate(
                relay_state=relay_state, binding=BINDING_HTTP_REDIRECT,
            )
            self.outstanding[req_id] = relay_state
            return dict(info["headers"])["Location"]

    def acs(self, b64, relay_state):
        with self.lock:
            try:
                sp = self.sp_client()
                algorithm_policy(base64.b64decode(b64, validate=True))
                outstanding = {rid: "/" for rid in self.outstanding}
                resp = sp.parse_authn_request_response(
                    b64, BINDING_HTTP_POST, outstanding=outstanding,
                    conv_info={"entity_id": self.args.entity_id},
                )
                # pysaml2 7.0.1 returns a response WITHOUT an assertion when, e.g., the
                # Destination is wrong (it only logs): no assertion means refused.
                if resp is None or resp.assertion is None or resp.name_id is None:
                    raise ValueError("no verified assertion (pysaml2 refused the response)")
                if resp.in_response_to not in self.outstanding:
                    raise ValueError("InResponseTo is not an outstanding request")
                sent = self.outstanding[resp.in_response_to]
                if (relay_state or "") != (sent or ""):
                    raise ValueError("RelayState differs from the one sent with the request")
                del self.outstanding[resp.in_response_to]
                result = {
                    "ok": True,
                    "name_id": resp.name_id.text,
                    "name_id_format": resp.name_id.format,
                    "in_response_to": resp.in_response_to,
                    "relay_state": relay_state,
                }
            except Exception as e:  # every refusal is reported, not raised
                if self.args.verbose:
                    traceback.print_exc(file=sys.stderr)
                result = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            self.results.append(result)
            return result


def handler_for(sp):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            if sp.args.verbose:
                sys.stderr.write("google_sp: " + (fmt % a) + "\n")

        def send(self, status, body, ctype="text/plain; charset=utf-8", headers=()):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            if url.path == "/login":
                relay = q.get("relay_state", [None])[0] or (
                    "https://www.google.com/a/%s/ServiceLogin?continue=https%%3A%%2F%%2Fmail.google.com"
                    % sp.args.domain
                )
                try:
                    location = sp.login(relay)
                except Exception as e:
                    return self.send(502, "cannot make an AuthnRequest: %s\n" % e)
                return self.send(302, "", headers=[("Location", location)])
            if url.path == "/results":
                with sp.lock:
                    body = json.dumps(sp.results)
                return self.send(200, body, "application/json")
            if url.path == "/info":
                return self.send(200, json.dumps({
                    "entity_id": sp.args.entity_id,
                    "acs_url": sp.acs_url,
                    "idp_metadata_url": sp.args.idp_metadata_url,
                }), "application/json")
            return self.send(404, "not found\n")

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/acs":
                return self.send(404, "not found\n")
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_FORM:
                return self.send(413, "refused: form too large\n")
            form = urllib.parse.parse_qs(self.rfile.read(n).decode("utf-8", "replace"))
            b64 = (form.get("SAMLResponse") or [""])[0]
            relay = (form.get("RelayState") or [None])[0]
            r = sp.acs(b64, relay)
            if r["ok"]:
                return self.send(
                    200,
                    "<!doctype html><title>Signed in</title><p>signed in as %s</p>\n" % r["name_id"],
                    "text/html; charset=utf-8",
                )
            return self.send(403, "refused: %s\n" % r["error"])

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--idp-metadata-url", default=None)
    p.add_argument("--idp-metadata", default=None, help="a metadata file instead of the URL")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--domain", default="example.edu")
    p.add_argument("--entity-id", default=None, help="default google.com/a/DOMAIN")
    p.add_argument("--verbose", action="store_true", default=bool(os.environ.get("QC_SP_VERBOSE")))
    args = p.parse_args()
    if not args.idp_metadata and not args.idp_metadata_url:
        p.error("give --idp-metadata-url or --idp-metadata")
    args.entity_id = args.entity_id or "google.com/a/%s" % args.domain
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.CRITICAL)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), None)
    base = "http://127.0.0.1:%d" % server.server_address[1]
    sp = Sp(args, base)
    server.RequestHandlerClass = handler_for(sp)
    print("google_sp listening on %s entity_id=%s acs=%s" % (base, args.entity_id, sp.acs_url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
