# Sourced by the deployment tests: lays out the shipped nginx site in a scratch prefix that
# any user may run (high ports, a self-signed certificate, every path inside the prefix).
#   nginx_sandbox DIR HTTPS_PORT HTTP_PORT UPSTREAM_PORT_1 UPSTREAM_PORT_2
# writes DIR/nginx.conf (which includes DIR/cunhuo.conf, the site with those substitutions).
nginx_sandbox() {
  local dir=$1 https=$2 http=$3 up1=$4 up2=$5
  local site
  site="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/nginx/cunhuo.conf"
  mkdir -p "$dir/tls" "$dir/logs" "$dir/temp"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=shop.example.cn" \
    -keyout "$dir/tls/privkey.pem" -out "$dir/tls/fullchain.pem" >/dev/null 2>&1
  # IPv6 listeners go: a test machine may have no IPv6.
  sed -e "s|/etc/cunhuo/tls/|$dir/tls/|" -e "s|/var/log/nginx/|$dir/logs/|" \
      -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https ssl http2;|" \
      -e "s|listen 80;|listen 127.0.0.1:$http;|" \
      -e '/listen \[::\]/d' \
      -e "s|127.0.0.1:8081 |127.0.0.1:$up1 |" -e "s|127.0.0.1:8082 |127.0.0.1:$up2 |" \
      "$site" >"$dir/cunhuo.conf"
  # As root the workers run as root too (the scratch prefix is root's alone).
  local user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user root;"
  cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 256; }
http {
    types { text/html html; text/css css; text/javascript js; }
    default_type application/octet-stream;
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    include $dir/cunhuo.conf;
}
CONF
}
