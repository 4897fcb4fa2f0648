#!/bin/sh
# Makes the certificates of the SMTP and TLS tests in directory $1 (ECDSA P-256): a test
# CA, and leaves for the MX name mx1.example.test that are valid, expired, not yet valid,
# issued to another name, self-signed, issued by an unknown CA, wildcard and partial
# wildcard. Every leaf file holds the leaf certificate; all leaves share leaf-key.pem.
set -eu
dir=$1
name=mx1.example.test
mkdir -p "$dir"
cd "$dir"
rm -rf db && mkdir -p db/new
: > db/index.txt
echo 1000 > db/serial
cat > ca.cnf <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[ca]
default_ca = tca
[tca]
database = db/index.txt
new_certs_dir = db/new
serial = db/serial
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
x509_extensions = leaf_ext
[pol]
commonName = supplied
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca-key.pem
key other-ca-key.pem
key leaf-key.pem
openssl req -config ca.cnf -x509 -new -key ca-key.pem -subj "/CN=Test CA" -days 3650 \
  -extensions ca_ext -out ca.pem
openssl req -config ca.cnf -x509 -new -key other-ca-key.pem -subj "/CN=Other CA" -days 3650 \
  -extensions ca_ext -out other-ca.pem
when() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
# leaf OUT CN SAN CA CAKEY START END
leaf() {
  openssl req -config ca.cnf -new -key leaf-key.pem -subj "/CN=$2" \
    -addext "subjectAltName=DNS:$3" -out "$1.csr"
  openssl ca -config ca.cnf -batch -notext -cert "$4" -keyfile "$5" -in "$1.csr" \
    -startdate "$(when "$6")" -enddate "$(when "$7")" -out "$1" 2>/dev/null
  rm -f "$1.csr"
}
leaf valid.pem $name $name ca.pem ca-key.pem "-1 day" "+365 days"
leaf expired.pem $name $name ca.pem ca-key.pem "-60 days" "-1 day"
leaf not-yet-valid.pem $name $name ca.pem ca-key.pem "+30 days" "+365 days"
leaf wrong-name.pem other.example.test other.example.test ca.pem ca-key.pem "-1 day" "+365 days"
leaf untrusted.pem $name $name other-ca.pem other-ca-key.pem "-1 day" "+365 days"
leaf wildcard.pem "*.example.test" "*.example.test" ca.pem ca-key.pem "-1 day" "+365 days"
leaf partial-wildcard.pem "mx*.example.test" "mx*.example.test" ca.pem ca-key.pem \
  "-1 day" "+365 days"
openssl req -config ca.cnf -x509 -new -key leaf-key.pem -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name" -extensions leaf_ext -days 365 -out self-signed.pem
