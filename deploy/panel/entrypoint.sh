#!/bin/sh
# Migrate, create the roles Postfix/Dovecot use, write their configuration, then serve.
set -eu
python manage.py migrate --no-input
# The role passwords are read from MAILADMIN_READER_PASSWORD / MAILADMIN_QUOTA_PASSWORD (not argv: ps).
python manage.py dbroles
python manage.py mailconfig --out /etc/mailadmin --db-host "$MAILADMIN_DB_HOST" --db-port "$MAILADMIN_DB_PORT" \
    --db-name "$MAILADMIN_DB_NAME" --mail-root "$MAILADMIN_MAIL_ROOT" \
    --uid "$MAILADMIN_VMAIL_UID" --gid "$MAILADMIN_VMAIL_GID" --vmail-group vmail \
    --postfix-group mailconfig --dovecot-group mailconfig \
    --dovecot-version 2.3   # deploy/dovecot is Debian 12 (bookworm): Dovecot 2.3
# Files holding a password stay 0640, group mailconfig (gid 2525 in every image): Postfix's
# proxymap and Dovecot's dict read them as members of that group, nobody else can.
exec gunicorn mailadmin.wsgi --config gunicorn.conf.py
