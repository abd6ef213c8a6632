#!/usr/bin/env bash
# Installs LemonLDAP::NG (Debian's 2.16.1 packages) and nginx for the tests that use LemonLDAP as
# a second, independent OpenID provider, and maps its host name to 127.0.0.1.
#
# Exit codes (callers print "skipped" on 3):
#   0  installed (or already installed: a fast check, no apt)
#   3  cannot install here: not root, or not a Debian/apt machine (one line on stdout says why)
#   1  the install itself failed
#
# The packages' own services (nginx on port 80, llng-fastcgi-server) must not start: tests start
# instances of their own on free loopback ports (scripts/lemonldap/llng.ts). A policy-rc.d that
# answers 101 ("action forbidden") keeps invoke-rc.d from starting them; the previous policy-rc.d,
# if any, is put back afterwards.
set -euo pipefail

# The portal sets its SSO cookie for a domain, which must be dotted: a name under the reserved
# `.test` TLD (RFC 6761) that only this line resolves, to loopback.
LLNG_HOST="${LLNG_HOST:-auth.llng.test}"
HOSTS_LINE="127.0.0.1 ${LLNG_HOST}"

# --no-install-recommends keeps out ghostscript, fonts, docs and the rest that the recommends of
# recommends pull in (122 packages instead of 204 on bookworm). The portal does need the
# first-level Recommends of liblemonldap-ng-portal-perl and liblemonldap-ng-common-perl (it loads
# its captcha module, which draws with GD::SecurityImage and Image::Magick, at start-up even with
# no captcha enabled; the OIDC issuer needs IO::String): they are named here, all but
# fonts-urw-base35 (the captcha's font).
PACKAGES=(
  lemonldap-ng lemonldap-ng-fastcgi-server nginx
  # liblemonldap-ng-portal-perl's Recommends
  libgd-securityimage-perl libimage-magick-perl libauthen-webauthn-perl libcrypt-openssl-bignum-perl
  libconvert-base32-perl libio-string-perl libipc-run-perl libmime-tools-perl libnet-ldap-perl
  libio-socket-timeout-perl libunicode-string-perl
  # liblemonldap-ng-common-perl's Recommends
  libapache-session-browseable-perl libemail-sender-perl libcookie-baker-xs-perl libdbi-perl
  libhttp-parser-xs-perl liblwp-protocol-https-perl libstring-random-perl
)

packages_installed() {
  local status
  status="$(dpkg-query -W -f='${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null)" || return 1
  [ "$(grep -c '^ii' <<<"$status")" -eq "${#PACKAGES[@]}" ]
}

host_mapped() {
  # getent reads /etc/hosts through nsswitch, as Node's resolver (getaddrinfo) does.
  [ "$(getent ahostsv4 "$LLNG_HOST" 2>/dev/null | awk 'NR == 1 { print $1 }')" = "127.0.0.1" ]
}

if command -v dpkg-query >/dev/null 2>&1 && packages_installed && host_mapped; then
  exit 0
fi

if [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "lemonldap: not a Debian/apt machine, cannot install LemonLDAP::NG"
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  if packages_installed; then
    echo "lemonldap: not root, cannot map ${LLNG_HOST} to 127.0.0.1 in /etc/hosts (run scripts/lemonldap/install.sh as root once)"
  else
    echo "lemonldap: not root, cannot apt-get install lemonldap-ng (run scripts/lemonldap/install.sh as root once)"
  fi
  exit 3
fi

started=$(date +%s)

if ! packages_installed; then
  POLICY=/usr/sbin/policy-rc.d
  BACKUP=""
  if [ -e "$POLICY" ]; then
    BACKUP="$(mktemp /usr/sbin/policy-rc.d.llng-backup.XXXXXX)"
    cp -p "$POLICY" "$BACKUP"
  fi
  restore_policy() {
    if [ -n "$BACKUP" ]; then mv -f "$BACKUP" "$POLICY"; else rm -f "$POLICY"; fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\n# scripts/lemonldap/install.sh: no service starts while it installs\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"

  # Another apt run (e.g. the test script installing chromium) may hold the lock: wait for it.
  LOG="$(mktemp /tmp/llng-install.XXXXXX.log)"
  APT=(apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  # A fresh machine (or image) may have no package lists yet: fetch them only then.
  if ! apt-cache show lemonldap-ng-fastcgi-server >/dev/null 2>&1; then
    "${APT[@]}" update -qq
  fi
  if ! DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq --no-install-recommends "${PACKAGES[@]}" >"$LOG" 2>&1; then
    # Stale lists (a superseded security update 404s): refresh once and retry.
    "${APT[@]}" update -qq
    if ! DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq --no-install-recommends "${PACKAGES[@]}" >"$LOG" 2>&1; then
      tail -n 20 "$LOG" >&2
      echo "lemonldap: apt-get install failed (full log: $LOG)" >&2
      exit 1
    fi
  fi
  rm -f "$LOG"
  restore_policy
  trap - EXIT
fi

if ! host_mapped; then
  # Appended, not rewritten: /etc/hosts is often a bind mount in containers (no rename over it).
  if grep -qE "^[^#]*[[:space:]]${LLNG_HOST//./\\.}([[:space:]]|\$)" /etc/hosts; then
    echo "lemonldap: /etc/hosts maps ${LLNG_HOST} elsewhere than 127.0.0.1; fix that line" >&2
    exit 1
  fi
  printf '%s\n' "$HOSTS_LINE" >>/etc/hosts
fi

echo "lemonldap: installed $(dpkg-query -W -f='${Version}' lemonldap-ng) in $(( $(date +%s) - started )) s; ${LLNG_HOST} -> 127.0.0.1"
