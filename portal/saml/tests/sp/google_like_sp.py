#!/usr/bin/python3
"""A SAML 2.0 service provider configured the way Google Workspace is, for QuickCard's tests.

It is pysaml2 (Debian's python3-pysaml2), an implementation independent of ours:
  - the IdP certificate is pinned from the IdP metadata file (only_use_keys_in_metadata);
  - the Response AND the Assertion must be signed (want_response_signed,
    want_assertions_signed), checked by xmlsec1;
  - unsolicited responses are refused; InResponseTo must be an outstanding request id, and an
    id is removed once answered (so a replayed response is refused);
  - Destination must be our ACS URL, the Recipient our ACS URL or entity id (conv_info), the
    Audience our entity id, NotBefore/NotOnOrAfter hold.
On top of pysaml2 (7.0.1 accepts SHA-1) this script enforces Google's-and-our algorithm policy:
every SignatureMethod must be rsa-sha256 and every DigestMethod sha256.

Commands:
  authn-request  prints {"url": ..., "request_id": ...}: a real HTTP-Redirect AuthnRequest
  accept FILE... reads base64 SAMLResponse values from the files in order (one shared
                 outstanding-request table) and prints one JSON line per file:
                 {"ok": true, "name_id": ..., "attributes": {...}} or {"ok": false, "error": ...}
"""
import argparse
import base64
import json
import logging
import os
import sys
import traceback

from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

DS = "{http://www.w3.org/2000/09/xmldsig#}"
ALLOWED_SIG = {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}
ALLOWED_DIGEST = {"http://www.w3.org/2001/04/xmlenc#sha256"}


def client(args):
    conf = SPConfig()
    conf.load({
        "entityid": args.entity_id,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [args.idp_metadata]},
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(args.acs, BINDING_HTTP_POST)],
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
    return Saml2Client(conf)


def algorithm_policy(xml_bytes):
    root = ElementTree.fromstring(xml_bytes)
    sigs = list(root.iter(DS + "SignatureMethod"))
    digests = list(root.iter(DS + "DigestMethod"))
    # No signature at all is left to pysaml2 to refuse (want_response_signed).
    for el in sigs:
        if el.get("Algorithm") not in ALLOWED_SIG:
            raise ValueError("signature algorithm not allowed: %s" % el.get("Algorithm"))
    for el in digests:
        if el.get("Algorithm") not in ALLOWED_DIGEST:
            raise ValueError("digest algorithm not allowed: %s" % el.get("Algorithm"))


def authn_request(args):
    sp = client(args)
    req_id, info = sp.prepare_for_authenticate(
        relay_state="https://www.google.com/a/%s/ServiceLogin?continue=https%%3A%%2F%%2Fmail.google.com" % args.domain,
        binding=BINDING_HTTP_REDIRECT,
    )
    url = dict(info["headers"])["Location"]
    print(json.dumps({"url": url, "request_id": req_id}))


def accept(args):
    sp = client(args)
    outstanding = {rid: "/" for rid in args.outstanding}
    for path in args.files:
        with open(path, "rb") as f:
            b64 = f.read().strip()
        try:
            algorithm_policy(base64.b64decode(b64))
            resp = sp.parse_authn_request_response(
                b64.decode("ascii"), BINDING_HTTP_POST, outstanding=outstanding,
                conv_info={"entity_id": args.entity_id},
            )
            # pysaml2 7.0.1 returns a response object WITHOUT an assertion when, e.g., the
            # Destination is wrong (it only logs the error): no assertion means refused.
            if resp is None or resp.assertion is None or resp.name_id is None:
                raise ValueError("no verified assertion (pysaml2 refused the response)")
            if resp.in_response_to not in outstanding:
                raise ValueError("InResponseTo is not an outstanding request")
            del outstanding[resp.in_response_to]
            print(json.dumps({
                "ok": True,
                "name_id": resp.name_id.text,
                "name_id_format": resp.name_id.format,
                "in_response_to": resp.in_response_to,
                "attributes": resp.ava,
            }))
        except Exception as e:  # every refusal is reported, not raised
            if args.verbose:
                traceback.print_exc(file=sys.stderr)
            print(json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}))
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["authn-request", "accept"])
    p.add_argument("files", nargs="*")
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--domain", default="example.edu")
    p.add_argument("--entity-id", default=None)
    p.add_argument("--acs", default=None)
    p.add_argument("--outstanding", action="append", default=[])
    p.add_argument("--verbose", action="store_true", default=bool(os.environ.get("QC_SP_VERBOSE")))
    args = p.parse_intermixed_args()
    args.entity_id = args.entity_id or "google.com/a/%s" % args.domain
    args.acs = args.acs or "https://www.google.com/a/%s/acs" % args.domain
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.CRITICAL)
    if args.command == "authn-request":
        authn_request(args)
    else:
        accept(args)


if __name__ == "__main__":
    main()
