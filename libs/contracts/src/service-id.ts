/**
 * A CDS service id, as the catalog may declare it and as the gateway forwards it. It must start with a letter
 * or digit: `.` and `..` are valid URL path segments that fetch normalises away (`/cds-services/..` becomes
 * `/`), so a permissive pattern let a caller choose another upstream path.
 */
export const SERVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
