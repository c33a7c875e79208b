#!/bin/sh
# Migrate, create the roles Postfix/Dovecot use, write their configuration, then serve.
set -eu
python manage.py migrate --no-input
python manage.py dbroles --reader-password "$MAILADMIN_READER_PASSWORD" --quota-password "$MAILADMIN_QUOTA_PASSWORD"
python manage.py mailconfig --out /etc/mailadmin --db-host "$MAILADMIN_DB_HOST" --db-port "$MAILADMIN_DB_PORT" \
    --db-name "$MAILADMIN_DB_NAME" --reader-password "$MAILADMIN_READER_PASSWORD" \
    --quota-password "$MAILADMIN_QUOTA_PASSWORD" --mail-root "$MAILADMIN_MAIL_ROOT" \
    --uid "$MAILADMIN_VMAIL_UID" --gid "$MAILADMIN_VMAIL_GID" --postfix-group "" --dovecot-group "" \
    --dovecot-version 2.3   # deploy/dovecot is Debian 12 (bookworm): Dovecot 2.3
# The other containers read the generated files as root.
chmod 0644 /etc/mailadmin/postfix/*.cf /etc/mailadmin/dovecot/*.ext 2>/dev/null || true
exec gunicorn mailadmin.wsgi --config gunicorn.conf.py
