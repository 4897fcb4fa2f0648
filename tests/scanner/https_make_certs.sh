#!/bin/sh
# Makes the certificates of the HTTPS fetcher tests in directory $1 (ECDSA P-256): a test
# CA, one valid leaf covering every policy host the tests fetch successfully, and for the
# broken hosts an expired leaf, a leaf issued to another name, a self-signed leaf and a
# leaf from a CA nobody trusts. All leaves share leaf-key.pem.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
rm -rf db && mkdir -p db/new
: > db/index.txt
echo 2000 > db/serial
cat > openssl.cnf <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[ca]
default_ca = test_ca
[test_ca]
database = db/index.txt
new_certs_dir = db/new
serial = db/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
x509_extensions = v3_leaf
[any]
commonName = supplied
CNF
genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
genkey ca-key.pem
genkey rogue-ca-key.pem
genkey leaf-key.pem
openssl req -config openssl.cnf -x509 -new -key ca-key.pem -subj "/CN=HTTPS Test CA" \
  -days 3650 -extensions v3_ca -out ca.pem
openssl req -config openssl.cnf -x509 -new -key rogue-ca-key.pem -subj "/CN=Rogue CA" \
  -days 3650 -extensions v3_ca -out rogue-ca.pem
stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
# issue OUT CN SANLIST CACERT CAKEY NOTBEFORE NOTAFTER
issue() {
  openssl req -config openssl.cnf -new -key leaf-key.pem -subj "/CN=$2" \
    -addext "subjectAltName=$3" -out "$1.csr"
  openssl ca -config openssl.cnf -batch -notext -cert "$4" -keyfile "$5" -in "$1.csr" \
    -startdate "$(stamp "$6")" -enddate "$(stamp "$7")" -out "$1" 2>/dev/null
  rm -f "$1.csr"
}
sans=""
for s in ok utf8 html notfound forbidden moved big drip stall reset hold; do
  sans="${sans}DNS:mta-sts.$s.test,"
done
sans="${sans}DNS:mta-sts.no-such-name-7d41.invalid"
issue valid.pem mta-sts.ok.test "$sans" ca.pem ca-key.pem "-1 day" "+365 days"
issue expired.pem mta-sts.expired.test DNS:mta-sts.expired.test ca.pem ca-key.pem \
  "-90 days" "-2 days"
issue wrongname.pem www.wrongname.test DNS:www.wrongname.test ca.pem ca-key.pem \
  "-1 day" "+365 days"
issue untrusted.pem mta-sts.untrusted.test DNS:mta-sts.untrusted.test rogue-ca.pem \
  rogue-ca-key.pem "-1 day" "+365 days"
openssl req -config openssl.cnf -x509 -new -key leaf-key.pem -subj "/CN=mta-sts.selfsigned.test" \
  -addext "subjectAltName=DNS:mta-sts.selfsigned.test" -extensions v3_leaf -days 365 \
  -out selfsigned.pem
