/*
 * tsformat_csv.c - CSV (RFC 4180) into a batch.
 *
 *   metric,run,split,ts,value
 *   loss,a,train,2026-11-21T05:59:56Z,2.31
 *   loss,a,"val, held out",1732168796123,NaN
 *
 * Rules this parser follows (and tsformat.h promises):
 *   - Cells are separated by ',', rows by \n or \r\n; a cell in double
 *     quotes may hold ',', newlines and "" for a quote. A quote inside an
 *     unquoted cell is an error. Blank lines are skipped; a UTF-8 byte order
 *     mark before the header is skipped.
 *   - The first row is the header. "ts" and "value" are required, "metric"
 *     is optional (each matched in any case); every other column is a tag
 *     key, checked as tsbatch checks tags. Every row has as many cells as
 *     the header.
 *   - An empty tag cell means the series has no such tag. An empty (or
 *     missing) metric cell takes the default metric; none is an error.
 *   - ts: Unix milliseconds or ISO 8601 (disco_time_parse()); value: a
 *     decimal number or NaN, Inf, -Inf, Infinity (any case). Spaces and
 *     tabs around ts and value are ignored; an empty ts or value is an error.
 *
 * Speed: cells are not copied unless quoted. The metric and tag cells of a
 * row form the series' raw key (each cell length-prefixed), resolved through
 * the series cache; a series meets the batch's JSON index once per call.
 */
#include "tsformat_int.h"

#include "disco/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_COLUMN ((size_t)-1)
#define TS_TEXT_MAX 64

typedef struct csv_cell {
    size_t off;   /* first byte of the cell in the input (its quote when quoted) */
    size_t start; /* of the text: in the input, or in the row buffer when quoted */
    size_t len;
    int quoted;
} csv_cell;

typedef struct csv {
    disco__tsformat_ctx *c;
    const char *t;
    csv_cell *cells; /* the row being read */
    size_t ncells, cells_cap;
    char *row; /* text of the row's quoted cells, unquoted */
    size_t row_len, row_cap;
    size_t ncols, ts_col, value_col, metric_col;
    json_t *names; /* column names: tag keys, null for ts/value/metric */
    json_t *one;   /* a single tag, to check it */
    char *key;     /* the row's raw series key; also scratch for names */
    size_t key_cap;
} csv;

static const char *cell_text(const csv *s, const csv_cell *cell)
{
    return cell->quoted ? s->row + cell->start : s->t + cell->start;
}

static const char *cell_show(const csv *s, const csv_cell *cell, char buf[DISCO__TSFORMAT_SHOW_MAX])
{
    return disco__tsformat_show(cell_text(s, cell), cell->len, buf);
}

/* ---- reading rows -------------------------------------------------------- */

static int push_cell(csv *s, csv_cell cell)
{
    if (s->ncells == s->cells_cap) {
        size_t ncap = s->cells_cap ? s->cells_cap * 2 : 16;
        csv_cell *nc = realloc(s->cells, ncap * sizeof *nc);
        if (!nc)
            return disco__tsformat_nomem(s->c);
        s->cells = nc;
        s->cells_cap = ncap;
    }
    s->cells[s->ncells++] = cell;
    return DISCO_OK;
}

static int row_append(csv *s, const char *p, size_t n)
{
    if (disco__tsformat_reserve(&s->row, &s->row_cap, s->row_len + n + 1))
        return disco__tsformat_nomem(s->c);
    memcpy(s->row + s->row_len, p, n);
    s->row_len += n;
    return DISCO_OK;
}

/* Reads the quoted cell at t[*pos]; *pos: past its closing quote. */
static int read_quoted(csv *s, size_t *pos, csv_cell *cell)
{
    size_t j = *pos + 1, len = s->c->len;
    const char *q;

    cell->quoted = 1;
    cell->start = s->row_len;
    for (;;) {
        q = memchr(s->t + j, '"', len - j);
        if (!q)
            return disco__tsformat_fail(s->c, *pos, "quoted cell without its closing '\"'");
        if (row_append(s, s->t + j, (size_t)(q - (s->t + j))) != DISCO_OK)
            return DISCO_ERR_NOMEM;
        j = (size_t)(q - s->t) + 1;
        if (j >= len || s->t[j] != '"')
            break;
        if (row_append(s, "\"", 1) != DISCO_OK)
            return DISCO_ERR_NOMEM;
        j++;
    }
    cell->len = s->row_len - cell->start;
    if (j < len && s->t[j] == '\r' && (j + 1 == len || s->t[j + 1] == '\n'))
        j++;
    if (j < len && s->t[j] != ',' && s->t[j] != '\n')
        return disco__tsformat_fail(s->c, j, "expected ',' or the end of the row after '\"'");
    *pos = j;
    return DISCO_OK;
}

/* Reads one cell at t[*pos]; *stop: the ',' or '\n' after it, or 0 at the end. */
static int read_cell(csv *s, size_t *pos, char *stop)
{
    size_t i = *pos, j = i, len = s->c->len;
    csv_cell cell = {.off = i, .start = i};
    int rc;

    if (i < len && s->t[i] == '"') {
        if ((rc = read_quoted(s, &j, &cell)) != DISCO_OK)
            return rc;
    } else {
        for (; j < len && s->t[j] != ',' && s->t[j] != '\n'; j++)
            if (s->t[j] == '"')
                return disco__tsformat_fail(s->c, j,
                                            "'\"' inside an unquoted cell "
                                            "(quote the cell and write it as \"\")");
        cell.len = j - i;
        if (cell.len && s->t[j - 1] == '\r' && (j == len || s->t[j] == '\n'))
            cell.len--;
    }
    *stop = j < len ? s->t[j] : 0;
    *pos = j < len ? j + 1 : len;
    return push_cell(s, cell);
}

static int read_row(csv *s, size_t *pos)
{
    char stop = ',';
    int rc = DISCO_OK;

    s->ncells = 0;
    s->row_len = 0;
    while (rc == DISCO_OK && stop == ',')
        rc = read_cell(s, pos, &stop);
    return rc;
}

static int row_blank(const csv *s)
{
    return s->ncells == 1 && !s->cells[0].quoted && s->cells[0].len == 0;
}

/* ---- the header ---------------------------------------------------------- */

/* Column `i` names `name`: a reserved column or a tag key. */
static int header_name(csv *s, size_t i, const char *name, size_t n)
{
    static const char *const reserved[] = {"ts", "value", "metric"};
    size_t *cols[] = {&s->ts_col, &s->value_col, &s->metric_col};
    char q[DISCO__TSFORMAT_SHOW_MAX];
    json_t *one;
    int rc;

    for (size_t r = 0; r < 3; r++) {
        if (n != strlen(reserved[r]) || strncasecmp(name, reserved[r], n) != 0)
            continue;
        if (*cols[r] != NO_COLUMN)
            return disco__tsformat_fail(s->c, s->cells[i].off, "column \"%s\" given twice",
                                        reserved[r]);
        *cols[r] = i;
        return json_array_append_new(s->names, json_null()) ? disco__tsformat_nomem(s->c) : 0;
    }
    if (n == 0 || memchr(name, '\0', n))
        return disco__tsformat_fail(s->c, s->cells[i].off, "column %zu has no name", i + 1);
    for (size_t k = 0; k < i; k++) {
        const char *prev = json_string_value(json_array_get(s->names, k));
        if (prev && strcmp(prev, name) == 0)
            return disco__tsformat_fail(s->c, s->cells[i].off, "column '%s' given twice",
                                        disco__tsformat_show(name, n, q));
    }
    one = json_pack("{s:s}", name, "x");
    if (!one)
        return disco__tsformat_fail(s->c, s->cells[i].off, "column '%s': not a valid tag key",
                                    disco__tsformat_show(name, n, q));
    rc = disco_ts_check_tags(one, s->c->st);
    json_decref(one);
    if (rc != DISCO_OK)
        return disco__tsformat_wrap(s->c, s->cells[i].off, rc);
    return json_array_append_new(s->names, json_string(name)) ? disco__tsformat_nomem(s->c) : 0;
}

static int header(csv *s, size_t row_off)
{
    int rc = DISCO_OK;

    if (s->ncells > DISCO_TS_TAGS_MAX + 3)
        return disco__tsformat_fail(s->c, row_off,
                                    "%zu columns: at most metric, ts, value and %d tags", s->ncells,
                                    DISCO_TS_TAGS_MAX);
    s->ncols = s->ncells;
    for (size_t i = 0; i < s->ncells && rc == DISCO_OK; i++) {
        const csv_cell *cell = &s->cells[i];
        if (disco__tsformat_reserve(&s->key, &s->key_cap, cell->len + 1))
            return disco__tsformat_nomem(s->c);
        memcpy(s->key, cell_text(s, cell), cell->len);
        s->key[cell->len] = '\0';
        rc = header_name(s, i, s->key, cell->len);
    }
    if (rc != DISCO_OK)
        return rc;
    if (s->ts_col == NO_COLUMN || s->value_col == NO_COLUMN)
        return disco__tsformat_fail(s->c, row_off, "the header has no \"%s\" column",
                                    s->ts_col == NO_COLUMN ? "ts" : "value");
    if (s->metric_col == NO_COLUMN && !s->c->metric)
        return disco__tsformat_fail(s->c, row_off,
                                    "the header has no \"metric\" column and no default "
                                    "metric was given");
    return DISCO_OK;
}

/* ---- rows ---------------------------------------------------------------- */

/* The cell's text without spaces and tabs around it. */
static const char *trimmed(const csv *s, const csv_cell *cell, size_t *n)
{
    const char *p = cell_text(s, cell);
    size_t len = cell->len;

    while (len && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    *n = len;
    return p;
}

static int cell_ts(csv *s, const csv_cell *cell, int64_t *ts)
{
    char buf[TS_TEXT_MAX], q[DISCO__TSFORMAT_SHOW_MAX];
    size_t n;
    const char *p = trimmed(s, cell, &n);
    int rc;

    if (n == 0)
        return disco__tsformat_fail(s->c, cell->off, "empty ts");
    rc = disco__tsformat_int64(p, n, ts);
    if (rc == -2)
        return disco__tsformat_fail(s->c, cell->off, "ts '%s': Unix milliseconds out of range",
                                    disco__tsformat_show(p, n, q));
    if (rc == 0)
        return DISCO_OK;
    if (n >= sizeof buf || memchr(p, '\0', n))
        return disco__tsformat_fail(s->c, cell->off,
                                    "ts '%s': expected an ISO 8601 time or Unix milliseconds",
                                    disco__tsformat_show(p, n, q));
    memcpy(buf, p, n);
    buf[n] = '\0';
    rc = disco_time_parse(buf, "ts", ts, s->c->st);
    return rc ? disco__tsformat_wrap(s->c, cell->off, rc) : DISCO_OK;
}

static int cell_value(csv *s, const csv_cell *cell, double *v)
{
    char q[DISCO__TSFORMAT_SHOW_MAX];
    size_t n;
    const char *p = trimmed(s, cell, &n);
    int rc;

    if (n == 0)
        return disco__tsformat_fail(s->c, cell->off, "empty value");
    rc = disco__tsformat_number(p, n, 1, v);
    if (rc == 0)
        return DISCO_OK;
    return disco__tsformat_fail(s->c, cell->off, "value '%s': %s", disco__tsformat_show(p, n, q),
                                rc == -1   ? "expected a number, NaN, Inf or -Inf"
                                : rc == -2 ? "out of range"
                                           : "longer than 400 characters");
}

/* The raw series key of the row: metric and tag cells, each length first. */
static int row_key(csv *s, size_t *n)
{
    size_t need = 0, at = 0;

    for (size_t i = 0; i < s->ncols; i++)
        if (i != s->ts_col && i != s->value_col)
            need += s->cells[i].len + sizeof(size_t);
    if (disco__tsformat_reserve(&s->key, &s->key_cap, need + 1))
        return disco__tsformat_nomem(s->c);
    for (size_t i = 0; i < s->ncols; i++) {
        if (i == s->ts_col || i == s->value_col)
            continue;
        memcpy(s->key + at, &s->cells[i].len, sizeof(size_t));
        memcpy(s->key + at + sizeof(size_t), cell_text(s, &s->cells[i]), s->cells[i].len);
        at += sizeof(size_t) + s->cells[i].len;
    }
    *n = at;
    return DISCO_OK;
}

/* Checks the tag in column `i` and adds it to `tags`. */
static int row_tag(csv *s, json_t *tags, size_t i)
{
    const csv_cell *cell = &s->cells[i];
    const char *key = json_string_value(json_array_get(s->names, i)), *text = cell_text(s, cell);
    json_t *v;
    int rc;

    if (memchr(text, '\0', cell->len))
        return disco__tsformat_fail(s->c, cell->off, "tag '%s': value holds a NUL byte", key);
    if (!(v = json_stringn(text, cell->len)))
        return disco__tsformat_fail(s->c, cell->off, "tag '%s': value is not valid UTF-8", key);
    json_object_clear(s->one);
    if (json_object_set_new_nocheck(s->one, key, v) != 0)
        return disco__tsformat_nomem(s->c);
    if ((rc = disco_ts_check_tags(s->one, s->c->st)) != DISCO_OK)
        return disco__tsformat_wrap(s->c, cell->off, rc);
    return json_object_set_nocheck(tags, key, v) ? disco__tsformat_nomem(s->c) : DISCO_OK;
}

/* The row's metric, malloc'd: its cell, else the default. */
static int row_metric(csv *s, size_t row_off, char **metric)
{
    const csv_cell *cell = s->metric_col != NO_COLUMN ? &s->cells[s->metric_col] : NULL;
    char q[DISCO__TSFORMAT_SHOW_MAX];

    if (!cell || cell->len == 0) {
        if (!s->c->metric)
            return disco__tsformat_fail(s->c, cell ? cell->off : row_off,
                                        "empty metric and no default metric was given");
        *metric = strdup(s->c->metric);
    } else {
        if (memchr(cell_text(s, cell), '\0', cell->len))
            return disco__tsformat_fail(s->c, cell->off, "metric '%s' holds a NUL byte",
                                        cell_show(s, cell, q));
        if ((*metric = malloc(cell->len + 1)) != NULL) {
            memcpy(*metric, cell_text(s, cell), cell->len);
            (*metric)[cell->len] = '\0';
        }
    }
    return *metric ? DISCO_OK : disco__tsformat_nomem(s->c);
}

/* Resolves the row's series through the batch and caches it under its raw key. */
static int row_resolve(csv *s, size_t row_off, uint64_t h, size_t klen, uint32_t *index)
{
    json_t *tags = disco__tsformat_tags_new(s->c);
    char *metric = NULL;
    int rc = tags ? DISCO_OK : disco__tsformat_nomem(s->c);

    for (size_t i = 0; i < s->ncols && rc == DISCO_OK; i++)
        if (i != s->ts_col && i != s->value_col && i != s->metric_col && s->cells[i].len)
            rc = row_tag(s, tags, i);
    if (rc == DISCO_OK)
        rc = row_metric(s, row_off, &metric);
    if (rc == DISCO_OK)
        rc = disco__tsformat_series(
            s->c, s->metric_col != NO_COLUMN ? s->cells[s->metric_col].off : row_off, metric, tags,
            index);
    if (rc == DISCO_OK && disco__tsformat_cache_put(&s->c->cache, h, s->key, klen, "", 0, *index))
        rc = disco__tsformat_nomem(s->c);
    free(metric);
    json_decref(tags);
    return rc;
}

static int row(csv *s, size_t row_off)
{
    uint32_t index;
    size_t klen = 0;
    int64_t ts;
    double v;
    uint64_t h;
    int rc;

    if (s->ncells != s->ncols)
        return disco__tsformat_fail(s->c, row_off, "%zu cells where the header has %zu", s->ncells,
                                    s->ncols);
    if ((rc = cell_ts(s, &s->cells[s->ts_col], &ts)) != DISCO_OK ||
        (rc = cell_value(s, &s->cells[s->value_col], &v)) != DISCO_OK ||
        (rc = row_key(s, &klen)) != DISCO_OK)
        return rc;
    h = disco__tsformat_hash(s->key, klen, 0);
    if (!disco__tsformat_cache_get(&s->c->cache, h, s->key, klen, "", 0, &index) &&
        (rc = row_resolve(s, row_off, h, klen, &index)) != DISCO_OK)
        return rc;
    return disco_ts_batch_add(s->c->out, index, ts, v) ? disco__tsformat_nomem(s->c) : DISCO_OK;
}

static void csv_release(csv *s)
{
    free(s->cells);
    free(s->row);
    free(s->key);
    json_decref(s->names);
    json_decref(s->one);
}

int disco__tsformat_parse_csv(disco__tsformat_ctx *c)
{
    csv s = {.c = c,
             .t = c->text,
             .ts_col = NO_COLUMN,
             .value_col = NO_COLUMN,
             .metric_col = NO_COLUMN,
             .names = json_array(),
             .one = json_object()};
    size_t pos = 0, row_off;
    int rc = s.names && s.one ? DISCO_OK : disco__tsformat_nomem(c), have_header = 0;

    if (c->len >= 3 && memcmp(c->text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (rc == DISCO_OK && pos < c->len) {
        row_off = pos;
        if ((rc = read_row(&s, &pos)) != DISCO_OK || row_blank(&s))
            continue;
        rc = have_header ? row(&s, row_off) : header(&s, row_off);
        have_header = 1;
    }
    if (rc == DISCO_OK && !have_header)
        rc = disco__tsformat_fail(c, 0,
                                  "no header row (it names the columns; \"ts\" and "
                                  "\"value\" are required)");
    csv_release(&s);
    return rc;
}
