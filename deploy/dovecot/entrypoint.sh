#!/bin/sh
set -eu
while [ ! -f /etc/mailadmin/dovecot/conf.snippet ]; do sleep 1; done
chown vmail:vmail /var/vmail
exec dovecot -F
