#!/bin/sh
# Makes the certificates of the HTTPS fetcher tests in directory $1 (ECDSA P-256): a test
# CA, one valid leaf covering every policy host the tests fetch successfully, and for the
# broken hosts an expired leaf, a leaf issued to another name, a self-signed leaf and a
# leaf from a CA nobody trusts. All leaves share leaf-key.pem.
set -eu
. "$(dirname "$0")/test_ca.sh"
test_ca_init "$1"
sans=""
for s in ok utf8 html notfound forbidden moved big drip stall reset hold gzip deflate bomb badgzip \
  compress badtype badloc; do
  sans="${sans}DNS:mta-sts.$s.test,"
done
sans="${sans}DNS:mta-sts.no-such-name-7d41.invalid"
test_ca_leaf valid.pem mta-sts.ok.test "$sans" ca "-1 day" "+365 days"
test_ca_leaf expired.pem mta-sts.expired.test DNS:mta-sts.expired.test ca "-90 days" "-2 days"
test_ca_leaf wrongname.pem www.wrongname.test DNS:www.wrongname.test ca "-1 day" "+365 days"
test_ca_leaf untrusted.pem mta-sts.untrusted.test DNS:mta-sts.untrusted.test other-ca \
  "-1 day" "+365 days"
test_ca_self_signed selfsigned.pem mta-sts.selfsigned.test
