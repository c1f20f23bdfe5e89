-- PgBackMan catalog: pure helpers used by check constraints.
-- Included by sql/pgbackman.sql (psql \ir) inside its transaction, as pgbackman_role_owner.

-- =====================================================================================
-- Pure helpers (used by CHECK constraints)
-- =====================================================================================

-- validate_cron_field(value, lo, hi): real cron syntax for one field.
--   '*', numbers, ranges a-b, lists x,y,z, steps */n and a-b/n; for (1,12) the month names
--   jan..dec and for (0,7) the weekday names sun..sat are accepted as a whole field.
CREATE FUNCTION validate_cron_field(p_value text, p_lo integer, p_hi integer) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_item text;
  v_m    text[];
  v_a    integer;
  v_b    integer;
BEGIN
  IF p_value IS NULL OR p_value = '' OR length(p_value) > 255 THEN
    RETURN false;
  END IF;
  IF p_lo = 1 AND p_hi = 12 AND lower(p_value) IN
     ('jan','feb','mar','apr','may','jun','jul','aug','sep','oct','nov','dec') THEN
    RETURN true;
  END IF;
  IF p_lo = 0 AND p_hi = 7 AND lower(p_value) IN ('sun','mon','tue','wed','thu','fri','sat') THEN
    RETURN true;
  END IF;
  IF p_value !~ '^[0-9*/,-]+$' THEN
    RETURN false;
  END IF;
  FOREACH v_item IN ARRAY string_to_array(p_value, ',') LOOP
    v_m := regexp_match(v_item, '^(\*|([0-9]{1,3})(-([0-9]{1,3}))?)(/([0-9]{1,3}))?$');
    IF v_m IS NULL THEN
      RETURN false;
    END IF;
    IF v_m[1] = '*' THEN
      v_a := p_lo;
      v_b := p_hi;
    ELSE
      v_a := v_m[2]::integer;
      v_b := coalesce(v_m[4]::integer, v_a);
      IF v_a < p_lo OR v_b > p_hi OR v_a > v_b THEN
        RETURN false;
      END IF;
      IF v_m[6] IS NOT NULL AND v_m[4] IS NULL THEN
        RETURN false;                     -- 'n/step' is not portable cron syntax
      END IF;
    END IF;
    IF v_m[6] IS NOT NULL AND (v_m[6]::integer < 1 OR v_m[6]::integer > p_hi - p_lo + 1) THEN
      RETURN false;
    END IF;
  END LOOP;
  RETURN true;
END;
$$;

-- validate_backup_compression(value): the canonical text of a compression value, or an error.
--   gzip:N (1-9), zstd:N (1-22), lz4:N (1-12), none; a bare method takes its default level
--   (gzip:6, zstd:3, lz4:1); 'method:level=N' is accepted as pg_dump 16 writes it. The same
--   rule as core/compression.parse. Whether the node's pg_dump can write it is checked by the
--   shell (it knows the node's release) and by pgbackman_dump.
CREATE FUNCTION validate_backup_compression(p_value text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_m      text[];
  v_method text;
  v_level  integer;
  v_lo     integer;
  v_hi     integer;
BEGIN
  IF p_value IS NULL THEN
    RETURN NULL;  -- not set: the node's value (NULL passes the CHECK constraints)
  END IF;
  v_m := regexp_match(p_value,
                      '^\s*([A-Za-z0-9]+)\s*(?::\s*(?:level\s*=\s*)?(-?[0-9]{1,6})\s*)?$');
  IF v_m IS NULL THEN
    RAISE EXCEPTION 'Invalid backup compression %: use gzip:N (1-9), zstd:N (1-22), lz4:N (1-12) or none',
      p_value;
  END IF;
  v_method := lower(v_m[1]);
  IF v_method = 'none' THEN
    IF v_m[2] IS NOT NULL AND v_m[2] <> '0' THEN
      RAISE EXCEPTION 'Invalid backup compression %: none takes no level', p_value;
    END IF;
    RETURN 'none';
  END IF;
  CASE v_method
    WHEN 'gzip' THEN v_lo := 1; v_hi := 9;  v_level := 6;
    WHEN 'zstd' THEN v_lo := 1; v_hi := 22; v_level := 3;
    WHEN 'lz4'  THEN v_lo := 1; v_hi := 12; v_level := 1;
    ELSE
      RAISE EXCEPTION 'Invalid backup compression %: the method must be gzip, zstd, lz4 or none', p_value;
  END CASE;
  IF v_m[2] IS NOT NULL THEN
    v_level := v_m[2]::integer;
  END IF;
  IF v_level NOT BETWEEN v_lo AND v_hi THEN
    RAISE EXCEPTION 'Invalid backup compression %: % levels are % to %', p_value, v_method, v_lo, v_hi;
  END IF;
  RETURN v_method || ':' || v_level;
END;
$$;

-- validate_encryption_recipients(value): the canonical text of a backup server's
--   encryption_recipients ('' = none): age X25519 public keys (age1 + 58 Bech32 characters)
--   separated by spaces or commas, lower-cased, duplicates removed. A secret key
--   (AGE-SECRET-KEY-...) is refused: backup servers hold public keys only. The checksum of
--   each key is checked by core/recipients.py with the age implementation itself.
CREATE FUNCTION validate_encryption_recipients(p_value text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_key  text;
  v_keys text[] := ARRAY[]::text[];
BEGIN
  FOREACH v_key IN ARRAY regexp_split_to_array(btrim(coalesce(p_value, '')), '[\s,]+') LOOP
    CONTINUE WHEN v_key = '';
    v_key := lower(v_key);
    IF v_key LIKE 'age-secret-key-%' THEN
      RAISE EXCEPTION 'encryption_recipients takes age public keys (age1...): a secret key must never be stored in the catalog';
    END IF;
    IF v_key !~ '^age1[02-9ac-hj-np-z]{58}$' THEN
      RAISE EXCEPTION 'Invalid encryption recipient %: not an age public key (age1...)', left(v_key, 80);
    END IF;
    IF NOT v_key = ANY (v_keys) THEN
      v_keys := v_keys || v_key;
    END IF;
  END LOOP;
  RETURN array_to_string(v_keys, ' ');
END;
$$;
-- =====================================================================================
-- Retention intervals: one sane range, and queries that cannot overflow
-- =====================================================================================

-- A retention interval (retention_period, automatic_deletion_retention) must be more than 0
-- and at most 100 years. Larger values are nonsense and make "now() - period" overflow the
-- timestamp range ('1000000 years' stopped every maintenance pass of a server). Used by the
-- table CHECKs and by every function that takes such a value; pgbackman/core/validate.py
-- applies the same range to what the shell is typed (same comparison: 1 month = 30 days).
CREATE FUNCTION retention_interval_ok(p_value interval) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$ SELECT p_value IS NOT NULL AND p_value > interval '0' AND p_value <= interval '100 years' $$;

-- text -> interval, NULL when the text is not an interval (a forged or hand-edited config
-- value must not make a whole query fail).
CREATE FUNCTION safe_interval(p_value text) RETURNS interval
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN p_value::interval;
EXCEPTION WHEN others THEN
  RETURN NULL;
END;
$$;

-- The instant before which something kept for p_period has expired. A period outside the
-- sane range (forged, or from before the range existed) expires nothing: '-infinity'.
CREATE FUNCTION retention_cutoff(p_period interval) RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
  SELECT CASE WHEN retention_interval_ok(p_period) THEN now() - p_period
              ELSE '-infinity'::timestamptz END
$$;

-- Raise a one-line error unless p_value is a sane retention interval; returns it.
CREATE FUNCTION check_retention_interval(p_value interval, p_label text) RETURNS interval
  LANGUAGE plpgsql STABLE
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF NOT retention_interval_ok(p_value) THEN
    RAISE EXCEPTION 'Invalid % %: must be more than 0 and at most 100 years', p_label,
      coalesce(p_value::text, 'NULL');
  END IF;
  RETURN p_value;
END;
$$;

-- A path a backup server may be asked to use: absolute, normalised (no '.', '..', '//' or
-- trailing '/') and not '/' itself. Where root may really write is decided by each backup
-- server's own configuration file; this only refuses what can never be right.
CREATE FUNCTION safe_absolute_path(p_value text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
  SELECT p_value IS NOT NULL
     AND p_value ~ '^(/[^/]+)+$'
     AND p_value !~ '(^|/)\.{1,2}(/|$)'
     AND p_value !~ '[\x01-\x1f\x7f]'
$$;

-- validate_max_parallel_backups(value, allow_auto): the canonical text of a
--   max_parallel_backups value: a number of dumps from 1 to 10000, 'unlimited', or (backup
--   servers only) 'auto' = 2 per CPU of the backup server. The same rule as
--   core/validate.max_parallel_backups; pgbackman_dump reads it with core/concurrency.py.
CREATE FUNCTION validate_max_parallel_backups(p_value text, p_allow_auto boolean) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_v text := lower(btrim(coalesce(p_value, '')));
BEGIN
  IF v_v = 'unlimited' OR (v_v = 'auto' AND p_allow_auto) THEN
    RETURN v_v;
  END IF;
  IF v_v !~ '^[0-9]{1,5}$' OR v_v::integer NOT BETWEEN 1 AND 10000 THEN
    RAISE EXCEPTION 'Invalid max_parallel_backups value: % (expected a number from 1 to 10000%, or unlimited)',
      p_value, CASE WHEN p_allow_auto THEN ', auto' ELSE '' END;
  END IF;
  RETURN v_v::integer::text;
END;
$$;
