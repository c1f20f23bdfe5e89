-- PgBackMan 1.x -> current: step 3, copy every row of the 1.x tables (schema
-- pgbackman_upstream) into the install's tables, with its id.
-- Included by sql/pgbackman_5.sql inside its transaction, as a superuser, after the
-- install's tables, functions, triggers and views exist.
--
-- The copy is generic: a column of a new table takes the same-named 1.x column (types are
-- converted on assignment), or its default when 1.x had no such column (so columns added
-- by later changes of sql/schema/ need nothing here); the few columns whose meaning changed
-- are mapped below. Every row is staged first, then:
--   * a row whose parent was not carried over (a foreign key) is left out and recorded;
--   * a row that breaks a NOT NULL or CHECK rule of this version stops the upgrade with a
--     message naming the rows (nothing is changed; correct them with 1.x and run again).
-- Triggers are off meanwhile: the copied rows already hold what they would derive.
-- What is not carried over goes to upgrade_not_carried with the reason.

SET LOCAL search_path = public, pg_temp;

CREATE TEMP TABLE pgb_copied (
  seq         serial,
  table_name  text NOT NULL,
  rows        bigint NOT NULL,
  not_carried bigint NOT NULL
) ON COMMIT DROP;

CREATE FUNCTION pg_temp.pgb_note(p_object text, p_ref text, p_value text, p_reason text) RETURNS void
  LANGUAGE sql
AS $$ INSERT INTO pgb_notes (object, ref, value, reason) VALUES (p_object, p_ref, p_value, p_reason) $$;

CREATE FUNCTION pg_temp.pgb_old_has(p_table text, p_column text) RETURNS boolean
  LANGUAGE sql STABLE
AS $$
  SELECT EXISTS (SELECT 1 FROM pg_attribute
                  WHERE attrelid = to_regclass(format('pgbackman_upstream.%I', p_table))
                    AND attname = p_column AND attnum > 0 AND NOT attisdropped)
$$;

-- SQL text naming a staged row (alias s) in messages: its single-column key, else its
-- primary key columns ('def_id 12', 'server_id 1, parameter domain').
CREATE FUNCTION pg_temp.pgb_ref_expr(p_table text) RETURNS text
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_rel  regclass := format('public.%I', p_table)::regclass;
  v_cols text[];
BEGIN
  SELECT array[a.attname::text] INTO v_cols
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
   WHERE c.conrelid = v_rel AND c.contype IN ('p', 'u') AND cardinality(c.conkey) = 1
   ORDER BY c.contype, c.conname LIMIT 1;
  IF v_cols IS NULL THEN
    SELECT array_agg(a.attname::text ORDER BY k.i) INTO v_cols
      FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY AS k(n, i), pg_attribute a
     WHERE c.conrelid = v_rel AND c.contype = 'p' AND a.attrelid = c.conrelid AND a.attnum = k.n;
  END IF;
  RETURN (SELECT string_agg(format('%L || coalesce(s.%I::text, ''NULL'')', col || ' ', col), ' || '', '' || ')
            FROM unnest(v_cols) AS col);
END;
$$;

-- Keep the ids where 1.x left them: every sequence continues after the larger of the 1.x
-- sequence and the largest copied id.
CREATE FUNCTION pg_temp.pgb_sync_sequences(p_table text) RETURNS void
  LANGUAGE plpgsql
AS $$
DECLARE
  r      record;
  v_old  text;
  v_last bigint;
  v_max  bigint;
BEGIN
  FOR r IN SELECT a.attname, pg_get_serial_sequence(format('public.%I', p_table), a.attname) AS seq
             FROM pg_attribute a
            WHERE a.attrelid = format('public.%I', p_table)::regclass AND a.attnum > 0
              AND NOT a.attisdropped LOOP
    CONTINUE WHEN r.seq IS NULL;
    v_last := 0;
    IF pg_temp.pgb_old_has(p_table, r.attname) THEN
      v_old := pg_get_serial_sequence(format('pgbackman_upstream.%I', p_table), r.attname);
      IF v_old IS NOT NULL THEN
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %s', v_old)
          INTO v_last;
      END IF;
    END IF;
    EXECUTE format('SELECT max(%I) FROM public.%I', r.attname, p_table) INTO v_max;
    v_last := greatest(v_last, coalesce(v_max, 0));
    IF v_last > 0 THEN
      PERFORM setval(r.seq, v_last, true);
    END IF;
  END LOOP;
END;
$$;

-- Copy public.<p_table> from pgbackman_upstream.<p_table> (alias o). p_exprs maps a column
-- to the SQL expression that fills it: "col" replaces o.col when 1.x has that column,
-- "+col" fills col whatever 1.x had. p_where filters the 1.x rows.
CREATE FUNCTION pg_temp.pgb_copy(p_table text, p_exprs jsonb DEFAULT '{}', p_where text DEFAULT 'true')
  RETURNS bigint
  LANGUAGE plpgsql
AS $$
DECLARE
  v_new  regclass := format('public.%I', p_table)::regclass;
  v_cols text[] := '{}';
  v_vals text[] := '{}';
  v_ref  text;
  v_expr text;
  v_bad  text;
  v_n    bigint;
  v_lost bigint := 0;
  r      record;
BEGIN
  IF to_regclass(format('pgbackman_upstream.%I', p_table)) IS NULL THEN
    INSERT INTO pgb_copied (table_name, rows, not_carried) VALUES (p_table, 0, 0);
    RETURN 0;                                      -- not in this 1.x version
  END IF;
  FOR r IN SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = v_new AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LOOP
    IF p_exprs ? ('+' || r.attname) THEN
      v_cols := v_cols || quote_ident(r.attname);
      v_vals := v_vals || (p_exprs ->> ('+' || r.attname));
    ELSIF pg_temp.pgb_old_has(p_table, r.attname) THEN
      v_cols := v_cols || quote_ident(r.attname);
      v_vals := v_vals || coalesce(p_exprs ->> r.attname, format('o.%I', r.attname));
    END IF;
  END LOOP;

  EXECUTE format('CREATE TEMP TABLE pgb_stage (LIKE public.%I INCLUDING DEFAULTS)', p_table);
  FOR r IN SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = 'pgb_stage'::regclass AND a.attnum > 0 AND a.attnotnull LOOP
    EXECUTE format('ALTER TABLE pgb_stage ALTER COLUMN %I DROP NOT NULL', r.attname);
  END LOOP;
  EXECUTE format('INSERT INTO pgb_stage (%s) SELECT %s FROM pgbackman_upstream.%I o WHERE %s',
                 array_to_string(v_cols, ', '), array_to_string(v_vals, ', '), p_table, p_where);
  v_ref := pg_temp.pgb_ref_expr(p_table);

  -- Rows whose parent row is not in the new catalog cannot be kept.
  FOR r IN SELECT c.conname, c.confrelid::regclass AS parent,
                  (SELECT array_agg(a.attname::text ORDER BY k.i)
                     FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,
                  (SELECT array_agg(a.attname::text ORDER BY k.i)
                     FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS pcols
             FROM pg_constraint c WHERE c.conrelid = v_new AND c.contype = 'f' ORDER BY c.conname LOOP
    EXECUTE format(
      'WITH gone AS (DELETE FROM pgb_stage s WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)'
      ' RETURNING %s AS ref, %s AS val)'
      ' INSERT INTO pgb_notes (object, ref, value, reason) SELECT %L, ref, val, %L FROM gone',
      (SELECT string_agg(format('s.%I IS NOT NULL', col), ' AND ') FROM unnest(r.cols) AS col),
      r.parent,
      (SELECT string_agg(format('p.%I = s.%I', pc, c), ' AND ')
         FROM unnest(r.pcols, r.cols) AS x(pc, c)),
      v_ref,
      (SELECT string_agg(format('%L || coalesce(s.%I::text, ''NULL'')', col || '=', col), ' || '', '' || ')
         FROM unnest(r.cols) AS col),
      p_table,
      format('refers to a row of %s that is not in the new catalog: not carried over', r.parent));
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_lost := v_lost + v_n;
  END LOOP;

  -- The rules of this version: stop with the rows to correct rather than guess.
  FOR r IN SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = v_new AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull LOOP
    EXECUTE format('SELECT string_agg(ref, ''; '') FROM (SELECT %s AS ref FROM pgb_stage s WHERE s.%I IS NULL LIMIT 20) x',
                   v_ref, r.attname) INTO v_bad;
    IF v_bad IS NOT NULL THEN
      RAISE EXCEPTION 'Upgrade stopped, nothing was changed: table %, column % is empty in %. Correct these rows with PgBackMan 1.x, then run the upgrade again',
        p_table, r.attname, v_bad;
    END IF;
  END LOOP;
  FOR r IN SELECT c.conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
            WHERE c.conrelid = v_new AND c.contype = 'c' ORDER BY c.conname LOOP
    v_expr := regexp_replace(r.def, '^CHECK \((.*)\)( NOT VALID)?$', '\1');
    EXECUTE format('SELECT string_agg(ref, ''; '') FROM (SELECT %s AS ref FROM pgb_stage s WHERE (%s) IS FALSE LIMIT 20) x',
                   v_ref, v_expr) INTO v_bad;
    IF v_bad IS NOT NULL THEN
      RAISE EXCEPTION 'Upgrade stopped, nothing was changed: rows of table % break the rule % (%): %. Correct them with PgBackMan 1.x, then run the upgrade again',
        p_table, r.conname, r.def, v_bad;
    END IF;
  END LOOP;

  EXECUTE format('INSERT INTO public.%I SELECT * FROM pgb_stage', p_table);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  DROP TABLE pgb_stage;
  PERFORM pg_temp.pgb_sync_sequences(p_table);
  INSERT INTO pgb_copied (table_name, rows, not_carried) VALUES (p_table, v_n, v_lost);
  RETURN v_n;
END;
$$;

-- Remarks with control characters (which this version refuses) are kept with spaces.
CREATE FUNCTION pg_temp.pgb_remarks(p_table text, p_key text) RETURNS text
  LANGUAGE plpgsql
AS $$
BEGIN
  IF pg_temp.pgb_old_has(p_table, 'remarks') THEN
    EXECUTE format(
      'INSERT INTO pgb_notes (object, ref, value, reason) SELECT %L, %L || o.%I, o.remarks, %L'
      ' FROM pgbackman_upstream.%I o WHERE o.remarks ~ ''[\x01-\x1f\x7f]'' ORDER BY o.%I',
      p_table, p_key || ' ', p_key,
      'remarks hold control characters (refused by this version): carried over with spaces instead',
      p_table, p_key);
  END IF;
  RETURN $r$regexp_replace(o.remarks, '[\x01-\x1f\x7f]', ' ', 'g')$r$;
END;
$$;

-- A file column: upstream recorded a missing file as the literal 'None' (this version: NULL).
CREATE FUNCTION pg_temp.pgb_file(p_column text) RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$ SELECT format('nullif(nullif(o.%I, ''None''), '''')', p_column) $$;

-- The size of a file column's file: NULL when the file is missing.
CREATE FUNCTION pg_temp.pgb_size(p_file text, p_size text) RETURNS text
  LANGUAGE sql IMMUTABLE
AS $$ SELECT format('CASE WHEN %s IS NULL THEN NULL ELSE o.%I END', pg_temp.pgb_file(p_file), p_size) $$;

-- =====================================================================================
-- Triggers off while copying
-- =====================================================================================

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE public.%I DISABLE TRIGGER USER', r.relname);
  END LOOP;
END
$$;

-- =====================================================================================
-- Code tables: this version's rows stay; 1.x codes it does not have are reported
-- =====================================================================================

DO $$
DECLARE
  t text;
  r record;
BEGIN
  FOREACH t IN ARRAY ARRAY['server_status', 'backup_code', 'job_definition_status',
                           'at_definition_status', 'job_execution_status', 'job_execution_method',
                           'alert_type'] LOOP
    CONTINUE WHEN to_regclass(format('pgbackman_upstream.%I', t)) IS NULL;
    FOR r IN EXECUTE format('SELECT o.code, o.description FROM pgbackman_upstream.%I o'
                            ' WHERE NOT EXISTS (SELECT 1 FROM public.%I n WHERE n.code = o.code)'
                            ' ORDER BY o.code', t, t) LOOP
      PERFORM pg_temp.pgb_note(t, 'code ' || r.code, r.description,
        CASE WHEN t = 'server_status'
               THEN 'not a status of this version: backup servers and PgSQL nodes with it become STOPPED'
             WHEN t = 'backup_code' AND r.code = 'CONFIG'
               THEN 'never implemented (pgbackman_dump refused it): definitions with this code are not carried over'
             ELSE 'not a code of this version: rows that use it are not carried over' END);
    END LOOP;
  END LOOP;
END
$$;

-- =====================================================================================
-- Default configuration: this version's parameters, with the 1.x values where valid
-- =====================================================================================

DO $$
DECLARE
  r     record;
  v_val text;
BEGIN
  FOR r IN SELECT parameter, value FROM pgbackman_upstream.backup_server_default_config ORDER BY parameter LOOP
    IF EXISTS (SELECT 1 FROM public.backup_server_default_config WHERE parameter = r.parameter) THEN
      IF r.value ~ '[\x01-\x1f\x7f]'
         OR (r.parameter IN ('root_backup_partition', 'root_cron_file', 'pgbackman_dump', 'pgbackman_restore')
             AND (r.value !~ '^/' OR r.value ~ '(^|/)\.\.(/|$)'))
         OR (r.parameter = 'backup_server_status'
             AND NOT EXISTS (SELECT 1 FROM public.server_status WHERE code = upper(r.value)))
         OR (r.parameter IN ('admin_user', 'domain') AND (r.value = '' OR r.value ~ '\s')) THEN
        SELECT value INTO v_val FROM public.backup_server_default_config WHERE parameter = r.parameter;
        PERFORM pg_temp.pgb_note('backup_server_default_config', 'parameter ' || r.parameter, r.value,
                                 'invalid value: the default of this version (' || v_val || ') is used');
      ELSE
        UPDATE public.backup_server_default_config
           SET value = CASE WHEN r.parameter = 'backup_server_status' THEN upper(r.value) ELSE r.value END
         WHERE parameter = r.parameter;
      END IF;
    ELSIF r.parameter ~ '^pgsql_bin_' THEN
      PERFORM pg_temp.pgb_note('backup_server_default_config', 'parameter ' || r.parameter, r.value,
        'default bin directory of PostgreSQL ' || replace(substr(r.parameter, 11), '_', '.')
        || ' (defaults now: /usr/lib/postgresql/<major>/bin); backup servers keep their own value');
    ELSE
      PERFORM pg_temp.pgb_note('backup_server_default_config', 'parameter ' || r.parameter, r.value,
                               'unknown parameter in this version: dropped');
    END IF;
  END LOOP;

  FOR r IN SELECT parameter, value FROM pgbackman_upstream.pgsql_node_default_config ORDER BY parameter LOOP
    IF EXISTS (SELECT 1 FROM public.pgsql_node_default_config WHERE parameter = r.parameter) THEN
      BEGIN
        v_val := validate_pgsql_node_config_value(r.parameter, replace(r.value, '%%pgnode%%', '1'));
        UPDATE public.pgsql_node_default_config
           SET value = CASE WHEN r.value LIKE '%\%\%pgnode\%\%%' THEN r.value ELSE v_val END
         WHERE parameter = r.parameter;
      EXCEPTION WHEN others THEN
        SELECT value INTO v_val FROM public.pgsql_node_default_config WHERE parameter = r.parameter;
        PERFORM pg_temp.pgb_note('pgsql_node_default_config', 'parameter ' || r.parameter, r.value,
                                 SQLERRM || ': the default of this version (' || v_val || ') is used');
      END;
    ELSE
      PERFORM pg_temp.pgb_note('pgsql_node_default_config', 'parameter ' || r.parameter, r.value,
                               'unknown parameter in this version: dropped');
    END IF;
  END LOOP;
END
$$;

-- =====================================================================================
-- Backup servers, PgSQL nodes and their configuration
-- =====================================================================================

SELECT pg_temp.pgb_copy('backup_server', jsonb_build_object(
  'status', 'CASE WHEN o.status IN (SELECT code FROM public.server_status) THEN o.status ELSE ''STOPPED'' END',
  'remarks', pg_temp.pgb_remarks('backup_server', 'server_id')));

SELECT pg_temp.pgb_copy('pgsql_node', jsonb_build_object(
  'status', 'CASE WHEN o.status IN (SELECT code FROM public.server_status) THEN o.status ELSE ''STOPPED'' END',
  'remarks', pg_temp.pgb_remarks('pgsql_node', 'node_id')));

-- Every parameter of this version (defaults first), then each 1.x value through the same
-- function the shell uses, so the same rules apply; a refused value keeps the default.
DO $$
DECLARE
  r     record;
  v_n   bigint := 0;
  v_bad bigint := 0;
BEGIN
  INSERT INTO public.backup_server_config (server_id, parameter, value, description)
  SELECT s.server_id, d.parameter, d.value, d.description
    FROM public.backup_server s CROSS JOIN public.backup_server_default_config d;
  FOR r IN SELECT o.server_id, o.parameter, o.value FROM pgbackman_upstream.backup_server_config o
            WHERE o.server_id IN (SELECT server_id FROM public.backup_server)
            ORDER BY o.server_id, o.parameter LOOP
    IF r.parameter IN (SELECT parameter FROM public.backup_server_default_config)
       OR r.parameter ~ '^pgsql_bin_[0-9]+(_[0-9]+)?$' THEN
      BEGIN
        PERFORM update_backup_server_config(r.server_id, r.parameter, r.value);
        v_n := v_n + 1;
      EXCEPTION WHEN others THEN
        v_bad := v_bad + 1;
        PERFORM pg_temp.pgb_note('backup_server_config', format('server %s %s', r.server_id, r.parameter),
          r.value, SQLERRM || coalesce(': the default ' || (SELECT value FROM public.backup_server_config
                                                            WHERE server_id = r.server_id AND parameter = r.parameter)
                                       || ' is used', ': not set'));
      END;
    ELSE
      v_bad := v_bad + 1;
      PERFORM pg_temp.pgb_note('backup_server_config', format('server %s %s', r.server_id, r.parameter),
                               r.value, 'unknown parameter in this version: dropped');
    END IF;
  END LOOP;
  INSERT INTO pgb_copied (table_name, rows, not_carried) VALUES ('backup_server_config', v_n, v_bad);

  v_n := 0;
  v_bad := 0;
  INSERT INTO public.pgsql_node_config (node_id, parameter, value, description)
  SELECT n.node_id, d.parameter, replace(d.value, '%%pgnode%%', n.node_id::text), d.description
    FROM public.pgsql_node n CROSS JOIN public.pgsql_node_default_config d;
  FOR r IN SELECT o.node_id, o.parameter, o.value FROM pgbackman_upstream.pgsql_node_config o
            WHERE o.node_id IN (SELECT node_id FROM public.pgsql_node)
            ORDER BY o.node_id, o.parameter LOOP
    IF r.parameter IN (SELECT parameter FROM public.pgsql_node_default_config) THEN
      BEGIN
        PERFORM update_pgsql_node_config(r.node_id::bigint, r.parameter, r.value);
        v_n := v_n + 1;
      EXCEPTION WHEN others THEN
        v_bad := v_bad + 1;
        PERFORM pg_temp.pgb_note('pgsql_node_config', format('node %s %s', r.node_id, r.parameter), r.value,
          SQLERRM || ': the default ' || (SELECT value FROM public.pgsql_node_config
                                          WHERE node_id = r.node_id AND parameter = r.parameter) || ' is used');
      END;
    ELSE
      v_bad := v_bad + 1;
      PERFORM pg_temp.pgb_note('pgsql_node_config', format('node %s %s', r.node_id, r.parameter), r.value,
                               'unknown parameter in this version: dropped');
    END IF;
  END LOOP;
  INSERT INTO pgb_copied (table_name, rows, not_carried) VALUES ('pgsql_node_config', v_n, v_bad);
END
$$;

-- Derived from the nodes' status (1.x could hold a stale row for a RUNNING node).
INSERT INTO public.pgsql_node_stopped (registered, pgsql_node_id)
SELECT coalesce(o.registered, now()), n.node_id
  FROM public.pgsql_node n
  LEFT JOIN pgbackman_upstream.pgsql_node_stopped o ON o.pgsql_node_id = n.node_id
 WHERE n.status = 'STOPPED';

SELECT pg_temp.pgb_copy('pgsql_node_to_delete');
SELECT pg_temp.pgb_copy('job_queue');

-- =====================================================================================
-- Definitions and the catalog
-- =====================================================================================

-- 1.x stored "encryption" and never encrypted (upstream §9.3): its backups were plaintext.
-- Carrying the flag over would make every such definition fail from the first run after the
-- upgrade (this version refuses to write plaintext for it while the server has no
-- encryption_recipients). The definition keeps doing what it did, with the flag off, and
-- the DBA is told how to get real encryption.
INSERT INTO pgb_notes (object, ref, value, reason)
SELECT 'backup_definition', 'def_id ' || o.def_id, 'encryption=true',
       'PgBackMan 1.x never encrypted (the flag was stored and ignored): its backups were '
       'plaintext, and this definition keeps taking plaintext backups with encryption off; to '
       'encrypt, set the backup server''s encryption_recipients and update the definition'
  FROM pgbackman_upstream.backup_definition o
 WHERE o.encryption
 ORDER BY o.def_id;

SELECT pg_temp.pgb_copy('backup_definition', jsonb_build_object(
  'encryption', 'false',
  'minutes_cron', 'coalesce(o.minutes_cron, ''*'')',
  'hours_cron', 'coalesce(o.hours_cron, ''*'')',
  'day_month_cron', 'coalesce(o.day_month_cron, ''*'')',
  'month_cron', 'coalesce(o.month_cron, ''*'')',
  'weekday_cron', 'coalesce(o.weekday_cron, ''*'')',
  'extra_backup_parameters', 'coalesce(o.extra_backup_parameters, '''')',
  'remarks', pg_temp.pgb_remarks('backup_definition', 'def_id'),
  -- 1.x measured the quarantine of a DELETED definition from "registered" (D35).
  '+deleted_at', 'CASE WHEN o.job_status = ''DELETED'' THEN o.registered END'));

INSERT INTO pgb_notes (object, ref, value, reason)
SELECT 'snapshot_definition', 'snapshot_id ' || o.snapshot_id, to_jsonb(o) ->> 'pg_dump_release',
       'not a PostgreSQL release: the snapshot takes the release of its PgSQL node'
  FROM pgbackman_upstream.snapshot_definition o   -- 1.0 had no pg_dump_release: to_jsonb
 WHERE to_jsonb(o) ->> 'pg_dump_release' !~ '^[0-9]+([._][0-9]+)?$'
   AND coalesce(to_jsonb(o) ->> 'pg_dump_release', '') <> ''
 ORDER BY o.snapshot_id;

SELECT pg_temp.pgb_copy('snapshot_definition', jsonb_build_object(
  'extra_backup_parameters', 'coalesce(o.extra_backup_parameters, '''')',
  'status', 'coalesce(o.status, ''WAITING'')',
  'remarks', pg_temp.pgb_remarks('snapshot_definition', 'snapshot_id'),
  'pg_dump_release', 'CASE WHEN o.pg_dump_release ~ ''^[0-9]+([._][0-9]+)?$'' THEN o.pg_dump_release END'));

SELECT pg_temp.pgb_copy('backup_catalog', jsonb_build_object(
  'pg_dump_file', pg_temp.pgb_file('pg_dump_file'),
  'pg_dump_file_size', pg_temp.pgb_size('pg_dump_file', 'pg_dump_file_size'),
  'pg_dump_log_file', pg_temp.pgb_file('pg_dump_log_file'),
  'pg_dump_roles_file', pg_temp.pgb_file('pg_dump_roles_file'),
  'pg_dump_roles_file_size', pg_temp.pgb_size('pg_dump_roles_file', 'pg_dump_roles_file_size'),
  'pg_dump_roles_log_file', pg_temp.pgb_file('pg_dump_roles_log_file'),
  'pg_dump_dbconfig_file', pg_temp.pgb_file('pg_dump_dbconfig_file'),
  'pg_dump_dbconfig_file_size', pg_temp.pgb_size('pg_dump_dbconfig_file', 'pg_dump_dbconfig_file_size'),
  'pg_dump_dbconfig_log_file', pg_temp.pgb_file('pg_dump_dbconfig_log_file'),
  -- 1.x never wrote these two (upstream issue #7).
  'checksum', 'NULL',
  'dbname_size', 'NULL',
  '+backup_code', 'coalesce((SELECT d.backup_code FROM pgbackman_upstream.backup_definition d WHERE d.def_id = o.def_id),'
                  ' (SELECT s.backup_code FROM pgbackman_upstream.snapshot_definition s WHERE s.snapshot_id = o.snapshot_id))',
  -- Where this version tracks the integrity of stored backups: a 1.x backup has no
  -- checksum manifest; it is restorable as a legacy, unverified backup.
  '+integrity', 'CASE WHEN o.execution_status = ''SUCCEEDED'' THEN ''LEGACY'' END',
  '+integrity_detail', 'CASE WHEN o.execution_status = ''SUCCEEDED'' THEN ''written by PgBackMan 1.x: no checksum manifest'' END'));

-- Rows whose files were recorded as 'None': kept, with no file name.
INSERT INTO pgb_notes (object, ref, value, reason)
SELECT 'backup_catalog', 'bck_id ' || o.bck_id,
       concat_ws(', ', CASE WHEN o.pg_dump_file = 'None' THEN 'pg_dump_file None' END,
                       CASE WHEN o.pg_dump_roles_file = 'None' THEN 'pg_dump_roles_file None' END,
                       CASE WHEN o.pg_dump_dbconfig_file = 'None' THEN 'pg_dump_dbconfig_file None' END),
       CASE WHEN o.pg_dump_file = 'None'
            THEN format('no dump file was written (status %s): the row is kept without a file name; there is nothing to restore',
                        coalesce(o.execution_status, 'unknown'))
            ELSE 'roles or database configuration file missing: the row is kept; a restore cannot recreate what that file held' END
  FROM pgbackman_upstream.backup_catalog o
  JOIN public.backup_catalog kept ON kept.bck_id = o.bck_id
  LEFT JOIN pgbackman_upstream.backup_definition d ON d.def_id = o.def_id
  LEFT JOIN pgbackman_upstream.snapshot_definition sn ON sn.snapshot_id = o.snapshot_id
 WHERE o.pg_dump_file = 'None'
    OR (o.execution_status = 'SUCCEEDED' AND coalesce(d.backup_code, sn.backup_code) IN ('FULL', 'SCHEMA', 'DATA')
        AND 'None' IN (o.pg_dump_roles_file, o.pg_dump_dbconfig_file))
 ORDER BY o.bck_id;

SELECT pg_temp.pgb_copy('restore_definition', jsonb_build_object(
  'status', 'coalesce(o.status, ''WAITING'')',
  'remarks', pg_temp.pgb_remarks('restore_definition', 'restore_def')));

SELECT pg_temp.pgb_copy('restore_catalog', jsonb_build_object(
  'restore_log_file', pg_temp.pgb_file('restore_log_file')));

SELECT pg_temp.pgb_copy('alerts', jsonb_build_object(
  'alert_sent', 'coalesce(o.alert_sent, false)',
  -- 1.x's pgbackman_alerts had one channel, mail; unsent alerts are sent by this version.
  '+delivered', 'CASE WHEN o.alert_sent THEN ARRAY[''mail''] ELSE ''{}''::text[] END'));

-- 1.x's catalog_entries_to_delete (the files of definitions deleted with force) names only
-- files; maintenance deletes a file only when its name is built from its row's identity
-- (node, database, code, job: D42). That identity is read back from 1.x's names (upstream
-- §4.3: <db>-<node fqdn>-v<R>-defid<N>-c<CODE>[-]<TS>...), the node from the partition the
-- files lie in. A row whose files fit no node is not carried over: its files stay on disk.
CREATE FUNCTION pg_temp.pgb_forced_identity(p_def bigint, VARIADIC p_files text[])
  RETURNS TABLE (node_id bigint, dbname text, backup_code text)
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_file text;
  v_node record;
  m      text[];
BEGIN
  SELECT f INTO v_file FROM unnest(p_files) AS f WHERE nullif(nullif(f, 'None'), '') IS NOT NULL LIMIT 1;
  IF v_file IS NULL OR p_def IS NULL THEN
    RETURN;
  END IF;
  FOR v_node IN
    SELECT n.node_id AS id, n.hostname || '.' || n.domain_name AS fqdn
      FROM public.pgsql_node n
      JOIN public.pgsql_node_config c ON c.node_id = n.node_id AND c.parameter = 'pgnode_backup_partition'
     WHERE c.value = regexp_replace(v_file, '/(dump|log)/[^/]+$', '')
     ORDER BY n.node_id
  LOOP
    m := regexp_match(regexp_replace(v_file, '^.*/', ''),
                      '^(.+)-' || regexp_replace(v_node.fqdn, '([^A-Za-z0-9_])', '\\\1', 'g')
                      || '-v[0-9]+(_[0-9]+)?-defid' || p_def || '-c([A-Z]+)-?[0-9]{8}T[0-9]{6}');
    IF m IS NOT NULL THEN
      node_id := v_node.id;
      backup_code := m[3];
      dbname := CASE WHEN m[3] = 'CLUSTER' THEN '' ELSE m[1] END;
      RETURN NEXT;
      RETURN;
    END IF;
  END LOOP;
END;
$$;

CREATE TEMP VIEW pgb_forced AS
SELECT o.del_id, i.node_id, i.dbname, i.backup_code
  FROM pgbackman_upstream.catalog_entries_to_delete o
  LEFT JOIN LATERAL pg_temp.pgb_forced_identity(o.def_id, o.pg_dump_file, o.pg_dump_log_file,
                                                o.pg_dump_roles_file, o.pg_dump_roles_log_file,
                                                o.pg_dump_dbconfig_file, o.pg_dump_dbconfig_log_file) i ON true;

SELECT pg_temp.pgb_copy('catalog_entries_to_delete', jsonb_build_object(
  'pg_dump_file', pg_temp.pgb_file('pg_dump_file'),
  'pg_dump_log_file', pg_temp.pgb_file('pg_dump_log_file'),
  'pg_dump_roles_file', pg_temp.pgb_file('pg_dump_roles_file'),
  'pg_dump_roles_log_file', pg_temp.pgb_file('pg_dump_roles_log_file'),
  'pg_dump_dbconfig_file', pg_temp.pgb_file('pg_dump_dbconfig_file'),
  'pg_dump_dbconfig_log_file', pg_temp.pgb_file('pg_dump_dbconfig_log_file'),
  '+pgsql_node_id', '(SELECT f.node_id FROM pgb_forced f WHERE f.del_id = o.del_id)',
  '+dbname', '(SELECT f.dbname FROM pgb_forced f WHERE f.del_id = o.del_id)',
  '+backup_code', '(SELECT f.backup_code FROM pgb_forced f WHERE f.del_id = o.del_id)'),
  'EXISTS (SELECT 1 FROM pgb_forced f WHERE f.del_id = o.del_id AND f.node_id IS NOT NULL)');

INSERT INTO pgb_notes (object, ref, value, reason)
SELECT 'catalog_entries_to_delete', 'del_id ' || o.del_id,
       concat_ws(', ', nullif(nullif(o.pg_dump_file, 'None'), ''), nullif(nullif(o.pg_dump_roles_file, 'None'), ''),
                 nullif(nullif(o.pg_dump_dbconfig_file, 'None'), '')),
       'files of a definition deleted with force whose names or directory fit no PgSQL node of this'
       ' catalog: not carried over, the files stay on disk (delete them by hand)'
  FROM pgbackman_upstream.catalog_entries_to_delete o
  JOIN pgb_forced f ON f.del_id = o.del_id
 WHERE f.node_id IS NULL
 ORDER BY o.del_id;

-- The same for 1.x's restore logs to delete: <target db>-<target fqdn>-v<R>-restoredef<N>.log
-- (upstream §5.2) in the log/ directory of the target node's partition.
CREATE FUNCTION pg_temp.pgb_restore_log_identity(p_file text)
  RETURNS TABLE (restore_def bigint, node_id bigint, dbname text)
  LANGUAGE plpgsql STABLE
AS $$
DECLARE
  v_node record;
  m      text[];
BEGIN
  FOR v_node IN
    SELECT n.node_id AS id, n.hostname || '.' || n.domain_name AS fqdn
      FROM public.pgsql_node n
      JOIN public.pgsql_node_config c ON c.node_id = n.node_id AND c.parameter = 'pgnode_backup_partition'
     WHERE c.value = regexp_replace(p_file, '/log/[^/]+$', '')
     ORDER BY n.node_id
  LOOP
    m := regexp_match(regexp_replace(p_file, '^.*/', ''),
                      '^(.+)-' || regexp_replace(v_node.fqdn, '([^A-Za-z0-9_])', '\\\1', 'g')
                      || '-v[0-9]+(_[0-9]+)?-restoredef([0-9]+)\.log$');
    IF m IS NOT NULL THEN
      restore_def := m[3]::bigint;
      node_id := v_node.id;
      dbname := m[1];
      RETURN NEXT;
      RETURN;
    END IF;
  END LOOP;
END;
$$;

CREATE TEMP VIEW pgb_restore_logs AS
SELECT o.del_id, i.restore_def, i.node_id, i.dbname
  FROM pgbackman_upstream.restore_logs_to_delete o
  LEFT JOIN LATERAL pg_temp.pgb_restore_log_identity(o.restore_log_file) i ON true
 WHERE nullif(nullif(o.restore_log_file, 'None'), '') IS NOT NULL;

SELECT pg_temp.pgb_copy('restore_logs_to_delete', jsonb_build_object(
  '+restore_def', '(SELECT l.restore_def FROM pgb_restore_logs l WHERE l.del_id = o.del_id)',
  '+target_pgsql_node_id', '(SELECT l.node_id FROM pgb_restore_logs l WHERE l.del_id = o.del_id)',
  '+target_dbname', '(SELECT l.dbname FROM pgb_restore_logs l WHERE l.del_id = o.del_id)'),
  'EXISTS (SELECT 1 FROM pgb_restore_logs l WHERE l.del_id = o.del_id AND l.node_id IS NOT NULL)');

INSERT INTO pgb_notes (object, ref, value, reason)
SELECT 'restore_logs_to_delete', 'del_id ' || l.del_id, o.restore_log_file,
       'a restore log whose name or directory fits no PgSQL node of this catalog: not carried'
       ' over, the file stays on disk (delete it by hand)'
  FROM pgb_restore_logs l
  JOIN pgbackman_upstream.restore_logs_to_delete o ON o.del_id = l.del_id
 WHERE l.node_id IS NULL
 ORDER BY l.del_id;

-- The version history stays; schema/version.sql adds the current row.
SELECT pg_temp.pgb_copy('pgbackman_version');

-- Every backup server rewrites the crontab files of its nodes (1.x's job lines call 1.x's
-- pgbackman_dump with arguments this version does not take).
INSERT INTO public.job_queue (backup_server_id, pgsql_node_id, is_assigned)
SELECT DISTINCT backup_server_id, pgsql_node_id, false FROM public.backup_definition
ON CONFLICT (backup_server_id, pgsql_node_id, is_assigned) DO NOTHING;

-- =====================================================================================
-- What was not carried over; triggers back on
-- =====================================================================================

INSERT INTO public.upgrade_not_carried (from_version, from_tag, object, ref, value, reason)
SELECT v.version, v.tag, n.object, n.ref, n.value, n.reason
  FROM pgb_notes n,
       (SELECT version, tag FROM pgbackman_upstream.pgbackman_version
         ORDER BY version DESC, registered DESC LIMIT 1) v
 ORDER BY n.seq;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE TRIGGER USER', r.relname);
  END LOOP;
END
$$;
