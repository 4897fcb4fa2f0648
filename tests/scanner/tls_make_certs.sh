#!/bin/sh
# Makes the certificates of the SMTP and TLS tests in directory $1 (ECDSA P-256): a test
# CA, and leaves for the MX name mx1.example.test that are valid, expired, not yet valid,
# issued to another name, self-signed, issued by an unknown CA, wildcard and partial
# wildcard. Every leaf file holds the leaf certificate; all leaves share leaf-key.pem.
set -eu
. "$(dirname "$0")/test_ca.sh"
name=mx1.example.test
test_ca_init "$1"
test_ca_leaf valid.pem $name DNS:$name ca "-1 day" "+365 days"
test_ca_leaf expired.pem $name DNS:$name ca "-60 days" "-1 day"
test_ca_leaf not-yet-valid.pem $name DNS:$name ca "+30 days" "+365 days"
test_ca_leaf wrong-name.pem other.example.test DNS:other.example.test ca "-1 day" "+365 days"
test_ca_leaf untrusted.pem $name DNS:$name other-ca "-1 day" "+365 days"
test_ca_leaf wildcard.pem "*.example.test" "DNS:*.example.test" ca "-1 day" "+365 days"
test_ca_leaf partial-wildcard.pem "mx*.example.test" "DNS:mx*.example.test" ca \
  "-1 day" "+365 days"
test_ca_self_signed self-signed.pem $name
