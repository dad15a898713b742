#!/usr/bin/env bash
# The schema contract, checked the way an operator meets it: through the
# `mysql` client against the local MariaDB (127.0.0.1:3306, root).
#
#   1. a fresh `dhanwantari_contract` database, `manage.py migrate` and
#      `manage.py seed_demo` into it;
#   2. `SHOW TABLES` lists the spec's 13 tables, and its 2 views are views;
#   3. the spec's four sample queries, verbatim, each return at least one row;
#   4. the spec's backup and restore: mysqldump to backup_YYYYMMDD.sql, restore
#      into `dhanwantari_contract_restore` as root, then every table and view
#      has the same row count in both databases and the sample queries give
#      the same answers.
#
# One PASS/FAIL line per check; exits non-zero if any check failed. Both
# databases and the dump are removed on exit, whatever happened.
#
# The spec's commands say `mysql -u root -p …`; `-p` prompts for a password.
# The local MariaDB's root has an empty password, so there is no -p here (a
# prompt would hang CI). Against a server with a password, put it in
# ~/.my.cnf rather than on the command line.
set -euo pipefail
cd "$(dirname "$0")/.."

DB=dhanwantari_contract
RESTORE_DB=dhanwantari_contract_restore
HOST=127.0.0.1
PORT=3306
PYTHON=.venv/bin/python
MYSQL=(mysql -u root -h "$HOST" -P "$PORT" --default-character-set=utf8mb4)
MYSQLDUMP=(mysqldump -u root -h "$HOST" -P "$PORT")

SPEC_TABLES=(users patient_profiles doctor_profiles consultations messages prescriptions prescription_items
    file_uploads notifications admin_logs password_reset_tokens email_verification_tokens doctor_reviews)
SPEC_VIEWS=(active_doctors patient_consultation_history)

# The spec's sample queries, verbatim (spec/dhanwantari-schema.md, "Sample Queries").
QUERY_NAMES=("Get patient's consultation history" "Get unread notifications"
    "Get doctor's upcoming appointments" "Calculate doctor rating")
QUERIES=(
"SELECT * FROM patient_consultation_history 
WHERE patient_id = 'patient_001'
ORDER BY created_at DESC;"
"SELECT * FROM notifications 
WHERE user_id = 'patient_001' AND read_at IS NULL
ORDER BY created_at DESC;"
"SELECT c.*, pp.full_name as patient_name
FROM consultations c
JOIN patient_profiles pp ON c.patient_id = pp.user_id
WHERE c.doctor_id = 'doctor_001'
  AND c.status = 'scheduled'
  AND c.scheduled_at > NOW()
ORDER BY c.scheduled_at ASC;"
"SELECT 
    doctor_id,
    AVG(rating) as avg_rating,
    COUNT(*) as total_reviews
FROM doctor_reviews
WHERE is_visible = TRUE
GROUP BY doctor_id;"
)

failures=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }

workdir=$(mktemp -d)
cleanup() {
    "${MYSQL[@]}" -e "DROP DATABASE IF EXISTS \`$DB\`; DROP DATABASE IF EXISTS \`$RESTORE_DB\`;" >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT

# sql DB STATEMENTS: run in batch mode (tab-separated, no header, one line per row).
# Django stores DATETIME columns in UTC and its connections run with the session
# time zone at UTC (settings.py); the client does the same, so the spec's NOW()
# compares like with like. The spec's statement itself is sent unchanged.
sql() {
    local db=$1
    shift
    printf "SET time_zone = '+00:00';\n%s\n" "$*" | "${MYSQL[@]}" --batch --skip-column-names "$db"
}

# --- 0. the server -----------------------------------------------------------------
if "${MYSQL[@]}" -e "SELECT 1" >/dev/null 2>&1; then
    pass "MariaDB answers on $HOST:$PORT as root ($("${MYSQL[@]}" -N -e 'SELECT VERSION()'))"
else
    fail "MariaDB does not answer on $HOST:$PORT as root without a password"
    exit 1
fi

# --- 1. a fresh database, migrated and seeded ------------------------------------------
"${MYSQL[@]}" -e "DROP DATABASE IF EXISTS \`$DB\`; DROP DATABASE IF EXISTS \`$RESTORE_DB\`;
    CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"

export DATABASE_URL="mysql://root:@$HOST:$PORT/$DB" DEBUG=true
for step in "migrate --noinput" "seed_demo"; do
    # shellcheck disable=SC2086  # the step is a command and its options
    if "$PYTHON" manage.py $step >"$workdir/manage.log" 2>&1; then
        pass "manage.py $step into $DB"
    else
        fail "manage.py $step into $DB:"
        sed 's/^/      /' "$workdir/manage.log"
        exit 1
    fi
done
unset DATABASE_URL DEBUG

# --- 2. SHOW TABLES ------------------------------------------------------------------------
# The spec's check, `mysql -u root -p dhanwantari -e "SHOW TABLES;"`, on this database.
tables=$("${MYSQL[@]}" "$DB" -e "SHOW TABLES;")
full=$("${MYSQL[@]}" --batch --skip-column-names "$DB" -e "SHOW FULL TABLES;")
missing=()
for name in "${SPEC_TABLES[@]}" "${SPEC_VIEWS[@]}"; do
    grep -qx "$name" <<<"$tables" || missing+=("$name")
done
if [ ${#missing[@]} -eq 0 ]; then
    pass "SHOW TABLES lists all ${#SPEC_TABLES[@]} spec tables and ${#SPEC_VIEWS[@]} views"
else
    fail "SHOW TABLES lacks: ${missing[*]}"
fi
wrong=()
for name in "${SPEC_TABLES[@]}"; do grep -qx "$name"$'\t'"BASE TABLE" <<<"$full" || wrong+=("$name"); done
for name in "${SPEC_VIEWS[@]}"; do grep -qx "$name"$'\t'"VIEW" <<<"$full" || wrong+=("$name"); done
if [ ${#wrong[@]} -eq 0 ]; then
    pass "the spec's tables are BASE TABLEs and active_doctors, patient_consultation_history are VIEWs"
else
    fail "wrong table type for: ${wrong[*]}"
fi

# --- 3. the sample queries, verbatim ----------------------------------------------------------
for i in "${!QUERIES[@]}"; do
    if out=$(sql "$DB" "${QUERIES[$i]}" 2>&1); then
        rows=$(grep -c . <<<"$out" || true)
        if [ "$rows" -ge 1 ]; then
            pass "sample query \"${QUERY_NAMES[$i]}\": $rows row(s)"
        else
            fail "sample query \"${QUERY_NAMES[$i]}\" returned no rows"
        fi
    else
        fail "sample query \"${QUERY_NAMES[$i]}\" failed: $out"
    fi
done

# --- 4. backup and restore ----------------------------------------------------------------
# The spec's commands, with -u root and no -p (see the top of this file).
backup="$workdir/backup_$(date +%Y%m%d).sql"
if "${MYSQLDUMP[@]}" "$DB" >"$backup" 2>"$workdir/dump.log"; then
    pass "mysqldump $DB > $(basename "$backup") ($(wc -c <"$backup") bytes)"
else
    fail "mysqldump $DB: $(cat "$workdir/dump.log")"
    exit 1
fi

# The views in the dump carry DEFINER=<the account that created them>; root may
# create a view for any definer, so the restore is run as root.
grep -o 'DEFINER=`[^`]*`@`[^`]*`' "$backup" | sort -u | sed 's/^/      views in the dump: /' || true
"${MYSQL[@]}" -e "CREATE DATABASE \`$RESTORE_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
if "${MYSQL[@]}" "$RESTORE_DB" <"$backup" 2>"$workdir/restore.log"; then
    pass "mysql $RESTORE_DB < $(basename "$backup")"
else
    fail "restore into $RESTORE_DB: $(cat "$workdir/restore.log")"
    exit 1
fi

# Every table and view of the original, counted in both databases.
names=$(cut -f1 <<<"$full")
count_sql=""
for name in $names; do
    count_sql+="${count_sql:+ UNION ALL }SELECT '$name', COUNT(*) FROM \`$name\`"
done
before=$(sql "$DB" "$count_sql;" 2>&1) || before="error: $before"
after=$(sql "$RESTORE_DB" "$count_sql;" 2>&1) || after="error: $after"
restored_names=$("${MYSQL[@]}" --batch --skip-column-names "$RESTORE_DB" -e "SHOW FULL TABLES;")
if [ "$restored_names" = "$full" ]; then
    pass "the restore has the same $(grep -c . <<<"$full") tables and views, of the same types"
else
    fail "the restore's tables and views differ: $(diff <(echo "$full") <(echo "$restored_names") | tr '\n' ' ')"
fi
if [[ $after == error:* || $before == error:* ]]; then
    fail "counting rows: ${before#error: } ${after#error: }"
else
    while IFS=$'\t' read -r name count; do
        restored=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' <<<"$after")
        kind=table
        grep -qx "$name"$'\t'"VIEW" <<<"$full" && kind=view
        if [ "$count" = "$restored" ]; then
            pass "rows in $kind $name: $count before, $restored after restore"
        else
            fail "rows in $kind $name: $count before, ${restored:-none} after restore"
        fi
    done <<<"$before"
fi

# Same contents, not only the same counts: JSON documents, money, the stored
# BMI column. CHECKSUM TABLE covers every column of a base table.
checksums() {
    local db=$1 table
    for table in "${SPEC_TABLES[@]}"; do
        "${MYSQL[@]}" --batch --skip-column-names "$db" -e "CHECKSUM TABLE \`$table\`;" | cut -f2
    done
}
if [ "$(checksums "$DB")" = "$(checksums "$RESTORE_DB")" ]; then
    pass "CHECKSUM TABLE is the same in both databases for all ${#SPEC_TABLES[@]} spec tables"
else
    fail "CHECKSUM TABLE differs: $(diff <(checksums "$DB") <(checksums "$RESTORE_DB") | tr '\n' ' ')"
fi

# The restored database answers the sample queries exactly as the original does.
for i in "${!QUERIES[@]}"; do
    if [ "$(sql "$DB" "${QUERIES[$i]}" 2>&1)" = "$(sql "$RESTORE_DB" "${QUERIES[$i]}" 2>&1)" ]; then
        pass "sample query \"${QUERY_NAMES[$i]}\" gives the same rows on the restore"
    else
        fail "sample query \"${QUERY_NAMES[$i]}\" gives different rows on the restore"
    fi
done

echo
if [ "$failures" -eq 0 ]; then
    echo "PASS  schema contract on MariaDB"
else
    echo "FAIL  schema contract on MariaDB: $failures check(s) failed"
    exit 1
fi
