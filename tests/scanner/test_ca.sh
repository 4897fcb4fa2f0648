# A small OpenSSL CA for the scanner's TLS tests, sourced by https_make_certs.sh and
# tls_make_certs.sh: test_ca_init DIR makes (in DIR, which becomes the working directory)
# a trusted test CA (ca.pem), a CA nobody trusts (other-ca.pem) and one ECDSA P-256 key
# shared by every leaf (leaf-key.pem); test_ca_leaf and test_ca_self_signed mint leaves.
test_ca_init() {
  mkdir -p "$1"
  cd "$1"
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
  for k in ca-key.pem other-ca-key.pem leaf-key.pem; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k" 2>/dev/null
  done
  openssl req -config ca.cnf -x509 -new -key ca-key.pem -subj "/CN=Test CA" -days 3650 \
    -extensions ca_ext -out ca.pem
  openssl req -config ca.cnf -x509 -new -key other-ca-key.pem -subj "/CN=Other CA" \
    -days 3650 -extensions ca_ext -out other-ca.pem
}

# test_ca_leaf OUT CN SANS ISSUER START END: ISSUER is "ca" or "other-ca"; SANS a
# subjectAltName list ("DNS:a,DNS:b"); START and END relative dates ("-1 day").
test_ca_leaf() {
  openssl req -config ca.cnf -new -key leaf-key.pem -subj "/CN=$2" -addext "subjectAltName=$3" \
    -out "$1.csr"
  openssl ca -config ca.cnf -batch -notext -cert "$4.pem" -keyfile "$4-key.pem" -in "$1.csr" \
    -startdate "$(date -u -d "$5" +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "$6" +%Y%m%d%H%M%SZ)" \
    -out "$1" 2>/dev/null
  rm -f "$1.csr"
}

# test_ca_self_signed OUT NAME
test_ca_self_signed() {
  openssl req -config ca.cnf -x509 -new -key leaf-key.pem -subj "/CN=$2" \
    -addext "subjectAltName=DNS:$2" -extensions leaf_ext -days 365 -out "$1"
}
