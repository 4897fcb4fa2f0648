#!/usr/bin/env bash
# The real-server fixture: real software beside the simulated world, so the scanner is also
# tested against implementations nobody here wrote.
#
#   realservers.sh start DIR    start unbound, nginx and postfix, state kept in DIR
#   realservers.sh stop DIR     stop exactly the processes started for DIR (by pid)
#
# Environment for start:
#   WORLD_READY   mtasts-world's --ready-file (unbound forwards to its DNS server)
#   WORLD_CA_DIR  mtasts-world's --ca-dir (certificates come from the same test root)
#   WORLD_MKCERT  the world-mkcert program
#   REAL_POLICY_HOSTS  policy hosts nginx serves (default: mta-sts.real.srv.test)
#   REAL_GZIP_HOSTS    policy hosts nginx serves gzip-coded to every client, asked or not
#                      (gzip_static always, as some hosts do; default: none)
#   REAL_MX_HOST       the name postfix announces and its certificate (default: mx.real.srv.test)
#   REAL_MX_NUMERIC_HOST  an all-numeric MX name (e.g. 127.25.0.1): a second postfix listener
#                      on 127.1.255.4 holds a certificate for it (default: none)
#
# Everything listens on loopback only: unbound on 127.0.0.1, nginx on 127.1.255.1, postfix on
# 127.1.255.2 (127.1.255.0/24 is reserved for real servers: no world host lives there), each on
# a free port. On the same port postfix also answers 554 at connect on 127.1.255.3 (a client
# restriction evaluated before the greeting), and nothing ever listens on 127.1.255.5 (TCP
# refused). DIR/realservers.env gets the addresses and ports as shell assignments. DIR
# (and its parents) must be searchable by the postfix user, whose daemons work in it.
set -euo pipefail

NGINX_ADDR=127.1.255.1
POSTFIX_ADDR=127.1.255.2
POSTFIX_REJECT_ADDR=127.1.255.3
POSTFIX_NUMERIC_ADDR=127.1.255.4
REFUSED_ADDR=127.1.255.5
UNBOUND_ADDR=127.0.0.1

usage() {
  echo "usage: realservers.sh start|stop DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
DIR=$(realpath -m "$2")

# A port nobody listens on at addr (the kernel's pick, released again right away).
free_port() {
  /usr/bin/python3 -c 'import socket,sys
s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# wait_listen ADDR PORT: up to 10 s for a TCP listener.
wait_listen() {
  local i
  for i in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "realservers: nothing listens on $1:$2" >&2
  return 1
}

start_unbound() {
  local dns_port
  dns_port=$(sed -n 's/^dns_port=//p' "$WORLD_READY")
  local dns_addr
  dns_addr=$(sed -n 's/^dns_addr=//p' "$WORLD_READY")
  [ -n "$dns_port" ] || { echo "realservers: no dns_port in $WORLD_READY" >&2; return 1; }
  UNBOUND_PORT=$(free_port "$UNBOUND_ADDR")
  # No validator module: the world is not signed. Forwarding (not stub) because the world's
  # server answers every name itself, CNAME chains included.
  cat >"$DIR/unbound.conf" <<EOF
server:
    interface: $UNBOUND_ADDR
    port: $UNBOUND_PORT
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$DIR"
    pidfile: ""
    use-syslog: no
    logfile: "$DIR/unbound.log"
    verbosity: 1
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    qname-minimisation: no
    cache-max-ttl: 5
    cache-max-negative-ttl: 5
    # The world lives under names unbound answers NXDOMAIN for by itself (RFC 6761).
    local-zone: "test." nodefault
    local-zone: "invalid." nodefault
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: $dns_addr@$dns_port
EOF
  unbound -c "$DIR/unbound.conf" >>"$DIR/unbound.log" 2>&1 &
  echo $! >"$DIR/unbound.pid"
  # UDP: ask until it answers (unbound binds only after reading its configuration).
  local i
  for i in $(seq 1 100); do
    if dig +short +time=1 +tries=1 @"$UNBOUND_ADDR" -p "$UNBOUND_PORT" . SOA >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "realservers: unbound does not answer" >&2
  return 1
}

start_nginx() {
  NGINX_PORT=$(free_port "$NGINX_ADDR")
  mkdir -p "$DIR/nginx/tmp" "$DIR/certs"
  local servers="" host coding
  for host in $REAL_POLICY_HOSTS $REAL_GZIP_HOSTS; do
    "$WORLD_MKCERT" "$WORLD_CA_DIR" "$host" valid "$DIR/certs/$host.pem" "$DIR/certs/$host.key"
    mkdir -p "$DIR/www/$host/.well-known"
    printf 'version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n' "$REAL_MX_HOST" \
      >"$DIR/www/$host/.well-known/mta-sts.txt"
    coding=""
    if [[ " $REAL_GZIP_HOSTS " == *" $host "* ]]; then
      gzip -k -9 "$DIR/www/$host/.well-known/mta-sts.txt"
      coding="gzip_static always;"
    fi
    servers+="
    server {
        listen $NGINX_ADDR:$NGINX_PORT ssl;
        server_name $host;
        ssl_certificate $DIR/certs/$host.pem;
        ssl_certificate_key $DIR/certs/$host.key;
        root $DIR/www/$host;
        location = /.well-known/mta-sts.txt { default_type text/plain; $coding }
    }"
  done
  cat >"$DIR/nginx/nginx.conf" <<EOF
daemon on;
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log;
events { worker_connections 256; }
http {
    access_log $DIR/nginx/access.log;
    client_body_temp_path $DIR/nginx/tmp/body;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    types { text/plain txt; }
    default_type application/octet-stream;
$servers
}
EOF
  nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/error.log"
  wait_listen "$NGINX_ADDR" "$NGINX_PORT"
  cp "$DIR/nginx/nginx.pid" "$DIR/nginx.pid"
}

start_postfix() {
  POSTFIX_PORT=$(free_port "$POSTFIX_ADDR")
  local conf="$DIR/postfix"
  mkdir -p "$conf" "$DIR/postfix-queue" "$DIR/postfix-data" "$DIR/certs"
  "$WORLD_MKCERT" "$WORLD_CA_DIR" "$REAL_MX_HOST" valid "$DIR/certs/$REAL_MX_HOST.pem" \
    "$DIR/certs/$REAL_MX_HOST.key"
  chown postfix "$DIR/postfix-data"
  cat >"$conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $DIR/postfix-queue
data_directory = $DIR/postfix-data
myhostname = $REAL_MX_HOST
mydestination =
mynetworks = 127.0.0.0/8
# 127.1.255.2 is not an interface address (only 127.0.0.1 is), which postfix checks here;
# the smtpd service below binds it explicitly all the same.
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_banner = \$myhostname ESMTP
smtpd_tls_security_level = may
smtpd_tls_cert_file = $DIR/certs/$REAL_MX_HOST.pem
smtpd_tls_key_file = $DIR/certs/$REAL_MX_HOST.key
smtpd_relay_restrictions = reject
# postfix start logs here (stdout goes to DIR/postfix.log); without it, to syslog.
maillog_file = /dev/stdout
EOF
  # Only what an STARTTLS probe needs: smtpd, its TLS session cache, the log writer, and the
  # services master insists on.
  local numeric=""
  if [ -n "$REAL_MX_NUMERIC_HOST" ]; then
    "$WORLD_MKCERT" "$WORLD_CA_DIR" "$REAL_MX_NUMERIC_HOST" valid \
      "$DIR/certs/$REAL_MX_NUMERIC_HOST.pem" "$DIR/certs/$REAL_MX_NUMERIC_HOST.key"
    # Only the certificate: postfix refuses an all-numeric myhostname.
    numeric="$POSTFIX_NUMERIC_ADDR:$POSTFIX_PORT inet n - n - - smtpd
  -o smtpd_tls_cert_file=$DIR/certs/$REAL_MX_NUMERIC_HOST.pem
  -o smtpd_tls_key_file=$DIR/certs/$REAL_MX_NUMERIC_HOST.key"
  fi
  cat >"$conf/master.cf" <<EOF
$POSTFIX_ADDR:$POSTFIX_PORT inet n - n - - smtpd
$POSTFIX_REJECT_ADDR:$POSTFIX_PORT inet n - n - - smtpd -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=reject
$numeric
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
EOF
  postfix -c "$conf" start >>"$DIR/postfix.log" 2>&1
  wait_listen "$POSTFIX_ADDR" "$POSTFIX_PORT"
  wait_listen "$POSTFIX_REJECT_ADDR" "$POSTFIX_PORT"
  [ -z "$REAL_MX_NUMERIC_HOST" ] || wait_listen "$POSTFIX_NUMERIC_ADDR" "$POSTFIX_PORT"
  local i
  for i in $(seq 1 100); do
    [ -s "$DIR/postfix-queue/pid/master.pid" ] && break
    sleep 0.05
  done
  tr -d ' ' <"$DIR/postfix-queue/pid/master.pid" >"$DIR/postfix.pid"
}

# Kills the process in pidfile (only if it is still the program named), then waits for it.
stop_pid() {
  local pidfile=$1 prog=$2 pid i
  [ -s "$pidfile" ] || return 0
  pid=$(tr -dc '0-9' <"$pidfile")
  if [ -n "$pid" ] && grep -q "$prog" "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  fi
  rm -f "$pidfile"
}

case $cmd in
start)
  : "${WORLD_READY:?WORLD_READY: mtasts-world ready file}"
  : "${WORLD_CA_DIR:?WORLD_CA_DIR: mtasts-world CA directory}"
  : "${WORLD_MKCERT:?WORLD_MKCERT: the world-mkcert program}"
  REAL_POLICY_HOSTS=${REAL_POLICY_HOSTS:-mta-sts.real.srv.test}
  REAL_MX_HOST=${REAL_MX_HOST:-mx.real.srv.test}
  REAL_GZIP_HOSTS=${REAL_GZIP_HOSTS:-}
  REAL_MX_NUMERIC_HOST=${REAL_MX_NUMERIC_HOST:-}
  mkdir -p "$DIR"
  if ! runuser -u postfix -- test -x "$DIR"; then
    echo "realservers: postfix's daemons must reach $DIR: make it and its parents searchable" >&2
    exit 1
  fi
  start_unbound
  start_nginx
  start_postfix
  cat >"$DIR/realservers.env" <<EOF
UNBOUND_ADDR=$UNBOUND_ADDR
UNBOUND_PORT=$UNBOUND_PORT
NGINX_ADDR=$NGINX_ADDR
NGINX_PORT=$NGINX_PORT
POSTFIX_ADDR=$POSTFIX_ADDR
POSTFIX_PORT=$POSTFIX_PORT
POSTFIX_REJECT_ADDR=$POSTFIX_REJECT_ADDR
POSTFIX_NUMERIC_ADDR=$POSTFIX_NUMERIC_ADDR
REFUSED_ADDR=$REFUSED_ADDR
REAL_GZIP_HOSTS="$REAL_GZIP_HOSTS"
REAL_MX_NUMERIC_HOST=$REAL_MX_NUMERIC_HOST
REAL_POLICY_HOSTS="$REAL_POLICY_HOSTS"
REAL_MX_HOST=$REAL_MX_HOST
EOF
  ;;
stop)
  stop_pid "$DIR/postfix.pid" master
  stop_pid "$DIR/nginx.pid" nginx
  stop_pid "$DIR/unbound.pid" unbound
  ;;
*)
  usage
  ;;
esac
