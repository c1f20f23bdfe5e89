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
